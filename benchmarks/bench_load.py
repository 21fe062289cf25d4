"""Load benchmark: mettadb vs hyperon on the same generated file, in the same run.

    python benchmarks/bench_load.py --facts 1000000 [--also 4000000]

Prints load time, facts/s and peak memory for both, the ratio, mettadb's split
of parse+encode vs LMDB, and the time to reopen the space and answer one ground
match.  hyperon runs in its own virtualenv (hyperon 0.2.6: 0.2.7-0.2.10 abort
past ~1,024 atoms).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time

from common import family_file, hyperon_python, ratio, run_child

# "cpu" counts the whole process (start-up and imports too); "cpu_load" only the load, the window
# hyperon's "cpu" is measured over (after its imports)
METTADB_LOAD = """
import sys, time, resource, mettadb
r0 = resource.getrusage(resource.RUSAGE_SELF)
t = time.perf_counter()
with mettadb.open(sys.argv[1]) as sp:
    r = sp.load(sys.argv[2])
ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
RESULT = {"seconds": time.perf_counter() - t, "atoms": r.read, "mode": r.mode, "workers": r.workers,
          "cpu": ru.ru_utime + ru.ru_stime, "cpu_workers": rc.ru_utime + rc.ru_stime,
          "cpu_load": ru.ru_utime + ru.ru_stime - r0.ru_utime - r0.ru_stime, "stages": r.stages}
"""

# the bulk load's parse and encode, in one process: simple lines become keys a block at a time
TRANSCODE_ONLY = """
import sys, time, gc
from mettadb.transcode import transcode_file
gc.disable()
t = time.perf_counter()
akeys, rkeys, bulk = [], [], [0]
def taken(n):
    bulk[0] += n
    akeys.clear()
    rkeys.clear()
n = sum(1 for _ in transcode_file(sys.argv[1], keys=(akeys, rkeys, taken))) + bulk[0]
RESULT = {"seconds": time.perf_counter() - t, "atoms": n}
"""

REOPEN = """
import time
t0 = time.perf_counter()
import sys, mettadb
t1 = time.perf_counter()
with mettadb.open(sys.argv[1], readonly=True) as sp:
    res = [str(a) for a in sp.match("(parent P123 $x)", "$x")]
t2 = time.perf_counter()
RESULT = {"import": t1 - t0, "open_and_match": t2 - t1, "results": len(res)}
"""

HYPERON_LOAD = """
import sys, time
from hyperon import MeTTa
text = open(sys.argv[1]).read()
t, c = time.perf_counter(), time.process_time()
m = MeTTa()
m.run(text)
RESULT = {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c}
"""


def bench(facts: int, hyperon: str, skip_hyperon: bool) -> dict:
    src = family_file(facts)
    tmp = tempfile.mkdtemp(prefix="mettadb-bench-")
    try:
        m = run_child(sys.executable, METTADB_LOAD, f"{tmp}/space", str(src))
        tc = run_child(sys.executable, TRANSCODE_ONLY, str(src))
        ro = run_child(sys.executable, REOPEN, f"{tmp}/space")
        h = None if skip_hyperon else run_child(hyperon_python(hyperon), HYPERON_LOAD, str(src))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = m["atoms"]
    print(f"\n== {facts:,} facts ({src.stat().st_size / 2**20:.0f} MB) ==")
    print(f"mettadb load ({m['mode']}) {m['seconds']:7.2f} s  {n / m['seconds']:>10,.0f} facts/s  "
          f"peak RSS {m['VmHWM']:6.0f} MB (anon at end {m['RssAnon']:.0f} MB)")
    print(f"  CPU: loader {m['cpu']:.2f} s ({m['cpu_load']:.2f} s after start-up and imports) + {m['workers']} "
          f"parse worker(s) {m['cpu_workers']:.2f} s")
    print("  stages (loader's wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in m["stages"].items() if v >= 0.005))
    print(f"  parse+encode alone, one process: {tc['seconds']:.2f} s ({tc['seconds'] / (m['cpu'] + m['cpu_workers']):.0%}"
          " of the load's CPU)")
    if h:
        print(f"hyperon {hyperon} run  {h['seconds']:7.2f} s  {n / h['seconds']:>10,.0f} facts/s  "
              f"peak RSS {h['VmHWM']:6.0f} MB (anon at end {h['RssAnon']:.0f} MB)")
        print(f"ratio (mettadb speed / hyperon speed): {ratio(h['seconds'], m['seconds'])} wall, "
              f"{ratio(h['cpu'], m['cpu'] + m['cpu_workers'])} CPU (hyperon {h['cpu']:.2f} s; mettadb's loader and "
              f"workers together), {ratio(h['cpu'], m['cpu_load'] + m['cpu_workers'])} CPU of the load alone (both "
              f"after imports); memory mettadb/hyperon: {ratio(m['VmHWM'], h['VmHWM'])}")
    print(f"reopen + one ground match: {ro['open_and_match'] * 1000:.1f} ms "
          f"(+ {ro['import'] * 1000:.0f} ms to import mettadb); hyperon must reload: {h['seconds'] if h else float('nan'):.1f} s")
    return {"facts": n, "mettadb": m, "transcode": tc, "reopen": ro, "hyperon": h}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--facts", type=int, default=1_000_000)
    ap.add_argument("--also", type=int, nargs="*", default=[], help="more sizes (e.g. 4000000 for memory growth)")
    ap.add_argument("--hyperon", default="0.2.6")
    ap.add_argument("--skip-hyperon", action="store_true")
    args = ap.parse_args()
    results = [bench(args.facts, args.hyperon, args.skip_hyperon)]
    for f in args.also:
        results.append(bench(f, args.hyperon, True))
    if len(results) > 1:
        a, b = results[0]["mettadb"], results[-1]["mettadb"]
        print(f"\nmettadb peak RSS growth {results[0]['facts']:,} -> {results[-1]['facts']:,} facts: "
              f"{b['VmHWM'] / a['VmHWM']:.2f}x")
    time.sleep(0)


if __name__ == "__main__":
    main()
