"""Evaluation benchmark: rule workloads and recursion, mettadb vs hyperon in the same run.

    python benchmarks/bench_eval.py [--sizes 100 500 3000] [--fib 18] [--baseline CHECKOUT]

Genealogies come from `generate.genealogy`; the rules are written in the
idiomatic MeTTa style.  Result multisets are compared between the engines.
hyperon 0.2.6 runs in its own virtualenv (0.2.7-0.2.10 fail past ~1,024
atoms); 0.2.10 is also timed where the space stays under that limit.  Times
are CPU seconds of the evaluating process (both engines are single-threaded),
from after each engine's code is imported, best of `--repeat` runs (a fresh
space / a fresh `MeTTa()` each time).  `--baseline` times another checkout of mettadb (an
older commit: `git worktree add /tmp/old COMMIT`) on the same programs in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from common import hyperon_python, ratio, run_child
from generate import genealogy

RULES = """
(= (different $a $b) (if (== $a $b) (empty) $a))
(= (get_parents $x) (match &self (parent $p $x) $p))
(= (get_mother $x) (match &self (, (parent $p $x) (female $p)) $p))
(= (get_sister $x) (match &self (, (parent $p $x) (parent $p $s) (female $s)) (different $s $x)))
(= (get_aunt $x) (match &self (, (parent $p $x) (parent $gp $p) (parent $gp $q) (female $q)) (different $q $p)))
(= (get_predecessor $x) (match &self (parent $p $x) $p))
(= (get_predecessor $x) (match &self (parent $p $x) (get_predecessor $p)))
"""

QUERIES = """
!(match &self (person $x) (Parent $x (get_parents $x)))
!(match &self (person $x) (Mother $x (get_mother $x)))
!(match &self (person $x) (Sister $x (get_sister $x)))
!(match &self (person $x) (Aunt $x (get_aunt $x)))
!(match &self (person $x) (Predecessor $x (get_predecessor $x)))
"""

FIB = "(= (fib $n) (if (< $n 2) $n (+ (fib (- $n 1)) (fib (- $n 2)))))\n"

# Both children load their engine's code before the clock starts (hyperon: the Rust
# library behind `import hyperon`; mettadb: the interpreter's modules, otherwise
# imported on first use) and time what a session does: building the engine
# (`MeTTa()`, `Space.run`'s interpreter), adding the facts, evaluating.
METTADB = """
import sys, time, tempfile, mettadb
import mettadb.runner, mettadb.query, mettadb.encoding
try:
    import mettadb.interp
except ImportError:  # (a baseline from before the interpreter was a package)
    import mettadb.eval
text = open(sys.argv[2]).read()
best = None
for _ in range(int(sys.argv[3])):
    # every pass starts cold: no compiled pattern or token cache from the pass before
    if hasattr(mettadb.query, "clear_caches"):
        mettadb.query.clear_caches()
        mettadb.encoding.clear_caches()
    else:  # (a baseline from before clear_caches)
        mettadb.query._COMPILED.clear()
        mettadb.encoding._SYMBOL_TOKENS.clear()
        mettadb.encoding._text_cache.clear()
    with mettadb.open(tempfile.mkdtemp(dir=sys.argv[1])) as sp:
        t = time.process_time()
        res = sp.run(text)
        dt = time.process_time() - t
    best = dt if best is None else min(best, dt)
RESULT = {"seconds": best, "results": [sorted(str(a) for a in r) for r in res], "module": mettadb.__file__}
"""

HYPERON = """
import sys, time
from hyperon import MeTTa
text = open(sys.argv[1]).read()
best = None
for _ in range(int(sys.argv[2])):
    t = time.process_time()
    res = MeTTa().run(text)
    dt = time.process_time() - t
    best = dt if best is None else min(best, dt)
RESULT = {"seconds": best, "results": [sorted(str(a) for a in r) for r in res]}
"""


def _write(text: str) -> str:
    f = tempfile.NamedTemporaryFile("w", suffix=".metta", delete=False)
    f.write(text)
    f.close()
    return f.name


def bench(label: str, program: str, hyperons: list[str], timeout: float, repeat: int, baseline: str | None) -> None:
    path = _write(program)
    m = run_child(sys.executable, METTADB, tempfile.mkdtemp(), path, str(repeat), timeout=timeout)
    print(f"{label:<34} mettadb        {m['seconds']:8.2f} s  ({sum(map(len, m['results']))} results)")
    if baseline is not None:
        o = run_child(sys.executable, METTADB, tempfile.mkdtemp(), path, str(repeat), timeout=timeout,
                      env={"PYTHONPATH": baseline}, cwd=tempfile.mkdtemp())
        same = "identical result multisets" if o["results"] == m["results"] else "RESULTS DIFFER"
        print(f"{'':<34} baseline       {o['seconds']:8.2f} s  -> this checkout {ratio(o['seconds'], m['seconds'])} "
              f"as fast; {same}  ({o['module']})")
    for v in hyperons:
        try:
            h = run_child(hyperon_python(v), HYPERON, path, str(repeat), timeout=timeout)
        except Exception as e:  # timeout or crash of the peer
            print(f"{'':<34} hyperon {v:<6} did not finish ({type(e).__name__})")
            continue
        same = "identical result multisets" if h["results"] == m["results"] else "RESULTS DIFFER"
        print(f"{'':<34} hyperon {v:<6} {h['seconds']:8.2f} s  -> mettadb {ratio(h['seconds'], m['seconds'])} "
              f"faster; {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 500, 3000])
    ap.add_argument("--fib", type=int, default=18)
    ap.add_argument("--hyperon", default="0.2.6")
    ap.add_argument("--timeout", type=float, default=1500)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per engine (this VM's speed wanders)")
    ap.add_argument("--baseline", help="another mettadb checkout (its root) to time on the same programs")
    args = ap.parse_args()
    baseline = os.path.abspath(args.baseline) if args.baseline else None
    for n in args.sizes:
        program = genealogy(n) + RULES + QUERIES
        atoms = program.count("\n(")
        peers = [args.hyperon] if n <= 1000 else []
        if atoms < 1000:
            peers.append("0.2.10")
        bench(f"genealogy, {n} people ({atoms} atoms)", program, peers, args.timeout, args.repeat if n <= 1000 else 1,
              baseline)
        if n > 1000:
            print(f"{'':<34} (hyperon 0.2.6 does not finish a ~3,000-person genealogy in 25 minutes here)")
    bench(f"(fib {args.fib})", FIB + f"!(fib {args.fib})\n", [args.hyperon, "0.2.10"], args.timeout, args.repeat,
          baseline)


if __name__ == "__main__":
    main()
