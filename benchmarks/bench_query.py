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
import itertools, json, os, signal
def limited(fn, seconds):
    # fn's CPU seconds in a forked child, or None when it has not finished after `seconds` of wall time
    # (the child is killed: a native call cannot be interrupted from Python)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        t = time.process_time()
        n = fn()
        os.write(w, json.dumps([time.process_time() - t, n]).encode())
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            with os.fdopen(r) as f:
                return tuple(json.loads(f.read()))
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(r)
    return None, None
# join shapes over the generated facts, each in every written order
JOINS = {
    "cross": ["(parent $x $y)", "(age $y 99)", "(age $x 1)"],
    "chain": ["(parent PQ $y)", "(parent $y $z)", "(parent $z $w)"],
    "star": ["(parent PQ $x)", "(age $x $a)", "(score $x $s)"],
}
def join_orders(name):
    # P10: an early person, so with children and grandchildren (parents are drawn among earlier persons)
    return [("(, " + " ".join(perm) + ")").replace("PQ", "P10") for perm in itertools.permutations(JOINS[name])]
JOIN_LIMIT = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
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
from mettadb.atoms import iter_atoms, Variable
from mettadb.query import count
for name in JOINS:
    for k, text in enumerate(join_orders(name)):
        q = mettadb.atom(text)
        vs = list(dict.fromkeys(v for v in iter_atoms(q) if type(v) is Variable))
        R[f"join_{name}_{k}"] = (*timed(lambda i: values(q, vs), 1), text)
        R[f"join_{name}_{k}_keys"] = sp.explain(q, analyze=True)["keys_visited"]
# counting at cursor speed: count() of prefix-only patterns vs a plain py-lmdb walk over their keys
from mettadb.pattern import compiled
import msgpack
# the active copy of the tables (a bulk load flips between two); opened without a transaction:
# a handle opened inside a read transaction of a read-only environment dies with it
_slot = msgpack.unpackb(sp.env.begin().get(b"slot", db=sp.env.open_db(b"meta", create=False)) or b"\\x00")
ATOMS = sp.env.open_db(b"atoms~1" if _slot else b"atoms", create=False)
def walk(prefix):
    with sp.env.begin(buffers=False) as txn:
        cur = txn.cursor(db=ATOMS)
        m = 0
        if cur.set_range(prefix):
            for key in cur.iternext(values=False):
                if not key.startswith(prefix):
                    break
                m += 1
        return m
for name, text in [("likes", "(Evaluation (Predicate likes) $x)"), ("age", "(age $p $a)"),
                   ("parent", "(parent $x $y)"), ("age_value", "(age $p 7)")]:
    q = mettadb.atom(text)
    prefix = compiled(q).fwd_prefix
    R[f"cnt_{name}"] = timed(lambda i: count(sp, q), 3)
    R[f"walk_{name}"] = timed(lambda i: walk(prefix), 3)
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
def parse(text):
    return m.parse_single(text)
for name in JOINS:
    for k, text in enumerate(join_orders(name)):
        q = parse(text)
        names = sorted({w[1:] for w in text.replace("(", " ").replace(")", " ").split() if w[0] == "$"})
        t, n = limited(lambda: values(q, names), JOIN_LIMIT)
        R[f"join_{name}_{k}"] = (t, n, text)
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
    ap.add_argument("--join-limit", type=float, default=120.0, help="seconds before a hyperon join is given up")
    args = ap.parse_args()
    src = family_file(args.facts)
    tmp = tempfile.mkdtemp(prefix="mettadb-bq-")
    try:
        run_child(sys.executable, LOAD, f"{tmp}/space", str(src))
        m = run_child(sys.executable, METTADB, f"{tmp}/space", str(args.facts), str(args.join_limit))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    h = None if args.skip_hyperon else run_child(hyperon_python(args.hyperon), HYPERON, str(src), str(args.facts),
                                                   str(args.join_limit), timeout=7200)
    print(f"\n== queries on {args.facts:,} facts; mettadb vs hyperon {args.hyperon} (Python API, pre-built patterns) ==")
    print(f"{'shape':<34}{'mettadb':>14}{'hyperon':>14}{'hyperon/mettadb':>17}")
    for key, label in [("ground", "(parent P $x)"), ("leading_var", "(parent $x P)"),
                       ("grandchildren", "grandchildren (P first)"),
                       ("grandchildren_swapped", "grandchildren (P second)"), ("count_age", "all (age $p $a)")]:
        mt = m[key][0]
        ht = h[key][0] if h else float("nan")
        print(f"{label:<34}{mt * 1e3:>11.3f} ms{ht * 1e3:>11.3f} ms{ratio(ht, mt) if h else 'n/a':>17}")
    print(f"\n== joins in every written order (CPU time; hyperon stopped after {args.join_limit:.0f} s) ==")
    print(f"{'query':<62}{'mettadb':>12}{'keys':>8}{'hyperon':>12}{'ratio':>9}")
    for name in ("cross", "chain", "star"):
        ours = []
        for k in range(6):
            mt, _, text = m[f"join_{name}_{k}"]
            ours.append(mt)
            ht = h[f"join_{name}_{k}"][0] if h else None
            hs = f"{ht * 1e3:>9.1f} ms" if ht is not None else (f">{args.join_limit:.0f} s".rjust(12) if h else "n/a".rjust(12))
            rs = ratio(ht, mt) if ht is not None else (f">{args.join_limit / mt:.0f}x" if h else "n/a")
            print(f"{text:<62}{mt * 1e3:>9.2f} ms{m[f'join_{name}_{k}_keys']:>8}{hs}{rs:>9}")
        print(f"  {name}: slowest written order / fastest = {max(ours) / min(ours):.2f}")
    print("\n== count() vs a plain py-lmdb cursor walk over the same keys (library, ms) ==")
    for name, text in [("likes", "(Evaluation (Predicate likes) $x)"), ("age", "(age $p $a)"),
                       ("parent", "(parent $x $y)"), ("age_value", "(age $p 7)")]:
        c, w = m[f"cnt_{name}"], m[f"walk_{name}"]
        print(f"{text:<40} count {c[0] * 1e3:>9.2f} ms ({c[1] // 3} rows)  walk {w[0] * 1e3:>9.2f} ms "
              f"({w[1] // 3} keys)  count/walk {c[0] / w[0]:.2f}")
    print(f"(parent $x P): {m['leading_var_keys_visited']} keys visited for {m['leading_var_rows']} results "
          f"({m['leading_var_keys_visited'] / max(m['leading_var_rows'], 1):.2f} per result)")
    print(f"grandchildren written in the two orders: {ratio(m['grandchildren_swapped'][0], m['grandchildren'][0])} apart")
    random.seed(0)


if __name__ == "__main__":
    main()
