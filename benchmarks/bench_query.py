"""Query benchmark: mettadb vs hyperon on the same generated space, library against library.

    python benchmarks/bench_query.py --facts 1000000

Patterns are pre-parsed; each shape is timed over many different persons and
every result is decoded (values materialised), so no cache or lazy binding is
what is measured.  Times are CPU seconds of the measuring process (both
engines are single-threaded), the best of three passes: this virtual machine's
wall-clock speed wanders by up to 2x between runs.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile

from common import family_file, hyperon_python, ratio, run_child

SHAPES = """
import random, sys, time
random.seed(1)
N = int(sys.argv[2])
persons = max(2, N // 5)
people = [f"P{random.randrange(persons)}" for _ in range(100)]
def timed(fn, reps, rounds=3):
    # the best of `rounds` passes over the same patterns: this machine's speed wanders
    best = None
    for _ in range(rounds):
        t = time.process_time()
        total = 0
        for i in range(reps):
            total += fn(i)
        dt = (time.process_time() - t) / reps
        best = dt if best is None else min(best, dt)
    return best, total
"""

METTADB = SHAPES + """
import sys, mettadb
from mettadb import E, S, V
from mettadb.query import QueryStats, run_query
sp = mettadb.open(sys.argv[1], readonly=True)
x, y, z, p, a = V("x"), V("y"), V("z"), V("p"), V("a")
def values(pattern, vars_):
    return sum(1 for b in sp.query(pattern) for v in vars_ if b[v] is not None)
R = {}
pats = [E(S("parent"), S(q), x) for q in people]
R["ground"] = timed(lambda i: values(pats[i], (x,)), 100)
pats2 = [E(S("parent"), x, S(q)) for q in people]
R["leading_var"] = timed(lambda i: values(pats2[i], (x,)), 100)
visited = rows = 0
for pt in pats2:
    qs = QueryStats()
    rows += sum(1 for _ in run_query(sp, pt, stats=qs))
    visited += qs.keys_visited
R["leading_var_keys_visited"] = visited
R["leading_var_rows"] = rows
g1 = [E(S(","), E(S("parent"), S(q), y), E(S("parent"), y, z)) for q in people]
g2 = [E(S(","), E(S("parent"), y, z), E(S("parent"), S(q), y)) for q in people]
R["grandchildren"] = timed(lambda i: values(g1[i], (y, z)), 100)
R["grandchildren_swapped"] = timed(lambda i: values(g2[i], (y, z)), 100)
age = E(S("age"), p, a)
R["count_age"] = timed(lambda i: values(age, (p, a)), 1)
RESULT = R
"""

HYPERON = SHAPES + """
import sys
from hyperon import MeTTa, E, S, V
m = MeTTa()
m.run(open(sys.argv[1]).read())
sp = m.space()
x, y, z, p, a = V("x"), V("y"), V("z"), V("p"), V("a")
def values(pattern, names):
    n = 0
    vs = [V(v) for v in names]
    for b in sp.query(pattern).iterator():
        for v in vs:
            if b.resolve(v) is not None:
                n += 1
    return n
R = {}
pats = [E(S("parent"), S(q), x) for q in people]
R["ground"] = timed(lambda i: values(pats[i], ("x",)), 100)
pats2 = [E(S("parent"), x, S(q)) for q in people]
R["leading_var"] = timed(lambda i: values(pats2[i], ("x",)), 10, 1)
g1 = [E(S(","), E(S("parent"), S(q), y), E(S("parent"), y, z)) for q in people]
g2 = [E(S(","), E(S("parent"), y, z), E(S("parent"), S(q), y)) for q in people]
R["grandchildren"] = timed(lambda i: values(g1[i], ("y", "z")), 100)
R["grandchildren_swapped"] = timed(lambda i: values(g2[i], ("y", "z")), 3, 1)
age = E(S("age"), p, a)
R["count_age"] = timed(lambda i: values(age, ("p", "a")), 1)
RESULT = R
"""

LOAD = """
import sys, mettadb
with mettadb.open(sys.argv[1]) as sp:
    sp.load(sys.argv[2])
RESULT = {}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--facts", type=int, default=1_000_000)
    ap.add_argument("--hyperon", default="0.2.6")
    ap.add_argument("--skip-hyperon", action="store_true")
    args = ap.parse_args()
    src = family_file(args.facts)
    tmp = tempfile.mkdtemp(prefix="mettadb-bq-")
    try:
        run_child(sys.executable, LOAD, f"{tmp}/space", str(src))
        m = run_child(sys.executable, METTADB, f"{tmp}/space", str(args.facts))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    h = None if args.skip_hyperon else run_child(hyperon_python(args.hyperon), HYPERON, str(src), str(args.facts))
    print(f"\n== queries on {args.facts:,} facts; mettadb vs hyperon {args.hyperon} (Python API, pre-built patterns) ==")
    print(f"{'shape':<34}{'mettadb':>14}{'hyperon':>14}{'hyperon/mettadb':>17}")
    for key, label in [("ground", "(parent P $x)"), ("leading_var", "(parent $x P)"),
                       ("grandchildren", "grandchildren (P first)"),
                       ("grandchildren_swapped", "grandchildren (P second)"), ("count_age", "all (age $p $a)")]:
        mt = m[key][0]
        ht = h[key][0] if h else float("nan")
        print(f"{label:<34}{mt * 1e3:>11.3f} ms{ht * 1e3:>11.3f} ms{ratio(ht, mt) if h else 'n/a':>17}")
    print(f"(parent $x P): {m['leading_var_keys_visited']} keys visited for {m['leading_var_rows']} results "
          f"({m['leading_var_keys_visited'] / max(m['leading_var_rows'], 1):.2f} per result)")
    print(f"grandchildren written in the two orders: {ratio(m['grandchildren_swapped'][0], m['grandchildren'][0])} apart")
    random.seed(0)


if __name__ == "__main__":
    main()
