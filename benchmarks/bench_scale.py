"""Scale benchmark: load N generated facts, reopen, query; beside each figure, py-lmdb alone.

    nice -n 10 python benchmarks/bench_scale.py --facts 10000000 --dir /work/scale-data

The facts (`benchmarks/generate.py`) are streamed to `DIR/family-N.metta` (kept
for the next run).  Every measurement runs in a fresh child process:

* load: `Space.load` with fsync and every index; seconds, atoms/s, the loading
  process's peak RSS, `data.mdb` bytes per atom, and the load's stage split
  (`LoadReport.stages`, when the load path reports one);
* reopen: a fresh process imports mettadb, opens the space and answers one
  ground query; Python's own start-up (`python -c pass`) is reported apart;
* query shapes: 100 prefix queries `(parent P $x)`, 100 reverse ones
  `(parent $x P)`, 100 two-pattern chains `(, (parent P $y) (parent $y $z))`,
  the prefix and chain shapes again for 100 people with the same number of
  results at every N (2 children; 4-6 grandchildren: the generated tree is
  deeper at larger N), and a count of `(age $p $a)`; every result is decoded;
* floor: py-lmdb alone on the same primary and reverse keys (sorted, then
  `putmulti(append=True)` in one fsynced transaction; prefix cursor walks for
  the query shapes, a key-only cursor walk for the count).  It holds every
  key in memory, so it is skipped above `--floor-max` facts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import run_child
from generate import write_family

PEOPLE = """
import sys
N = int(sys.argv[2])
persons = max(2, N // 5)
people = [f"P{(i * 7919 + 13) % persons}" for i in range(100)]
"""

LOAD = """
import sys, time, mettadb
t = time.perf_counter()
kw = {} if sys.argv[3] == "auto" else {"jobs": int(sys.argv[3])}
with mettadb.open(sys.argv[1]) as sp:
    r = sp.load(sys.argv[2], **kw) if sys.argv[2].endswith(".metta") else sp.load_paths(sys.argv[2], **kw)
import resource
ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
RESULT = {"seconds": time.perf_counter() - t, "atoms": r.read, "added": r.added, "mode": r.mode,
          "stages": dict(getattr(r, "stages", None) or {}), "workers": getattr(r, "workers", 0),
          "cpu": ru.ru_utime + ru.ru_stime, "cpu_workers": rc.ru_utime + rc.ru_stime}
"""

REOPEN = PEOPLE + """
import time
t0 = time.perf_counter()
import mettadb
t1 = time.perf_counter()
with mettadb.open(sys.argv[1], readonly=True) as sp:
    res = [str(a) for a in sp.match(f"(parent {people[0]} $x)", "$x")]
t2 = time.perf_counter()
RESULT = {"import": t1 - t0, "open_and_query": t2 - t1, "results": len(res)}
"""

SHAPES = PEOPLE + """
import time, mettadb
from mettadb import E, S, V
sp = mettadb.open(sys.argv[1], readonly=True)
x, y, z, p, a = V("x"), V("y"), V("z"), V("p"), V("a")

def run(pats, names, rounds=3):
    best, n = None, 0
    for _ in range(rounds):
        t = time.perf_counter()
        n = sum(1 for pt in pats for b in sp.query(pt) for v in names if b[v] is not None)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return {"seconds": best, "queries": len(pats), "results": n}

def same_fanout(make, lo, hi, want=100):
    # people whose query has lo..hi rows: the same shape with the same result size at every N (the
    # generated tree is deeper at larger N, so random people have more grandchildren there)
    chosen, i = [], 0
    while len(chosen) < want and i < 200 * want:
        q = f"P{(i * 104729 + 7) % persons}"
        i += 1
        if lo <= sum(1 for _ in sp.query(make(q))) <= hi:
            chosen.append(q)
    return chosen

def chain_of(q):
    return E(S(","), E(S("parent"), S(q), y), E(S("parent"), y, z))

fixed_prefix = same_fanout(lambda q: E(S("parent"), S(q), x), 2, 2)
fixed_chain = same_fanout(chain_of, 4, 6)
R = {
    "prefix": run([E(S("parent"), S(q), x) for q in people], (x,)),
    "reverse": run([E(S("parent"), x, S(q)) for q in people], (x,)),
    "chain": run([chain_of(q) for q in people], (y, z)),
    "prefix, 2 results each": run([E(S("parent"), S(q), x) for q in fixed_prefix], (x,)),
    "chain, 4-6 results each": run([chain_of(q) for q in fixed_chain], (y, z)),
}
t = time.perf_counter()
n = sum(1 for _ in sp.query(E(S("age"), p, a)))
R["count"] = {"seconds": time.perf_counter() - t, "queries": 1, "results": n}
RESULT = R
"""

FLOOR = PEOPLE + """
import gc, os, time, lmdb
from itertools import repeat
from mettadb.transcode import transcode_file
gc.disable()
akeys, rkeys = [], []
for path, names, tokens in transcode_file(sys.argv[3]):
    if names is None and len(path) <= 494:
        akeys.append(path)
        if tokens is not None:
            rkeys.append(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]))
os.makedirs(sys.argv[1], exist_ok=True)
t0 = time.perf_counter()
akeys.sort()
rkeys.sort()
t1 = time.perf_counter()
env = lmdb.open(sys.argv[1], map_size=1 << 40, max_dbs=4, readahead=False)
adb, rdb = env.open_db(b"atoms"), env.open_db(b"rev")
with env.begin(write=True) as txn:
    added = txn.cursor(db=adb).putmulti(zip(akeys, repeat(b"")), overwrite=False, append=True)[1]
    txn.cursor(db=rdb).putmulti(zip(rkeys, repeat(b"")), overwrite=False, append=True)
t2 = time.perf_counter()
n = len(akeys)
del akeys, rkeys

def sym(s):
    b = s.encode()
    return bytes((0xC0 | len(b),)) + b

def walk(txn, db, prefix):
    cur = txn.cursor(db=db)
    c = 0
    if cur.set_range(prefix):
        for k in cur.iternext(values=False):
            if not k.startswith(prefix):
                break
            c += 1
    return c

R = {"atoms": n, "added": added, "sort": t1 - t0, "putmulti_commit": t2 - t1,
     "bytes": os.path.getsize(os.path.join(sys.argv[1], "data.mdb"))}
with env.begin() as txn:
    def best(fn, rounds=3):
        out = None
        for _ in range(rounds):
            t = time.perf_counter()
            c = fn()
            dt = time.perf_counter() - t
            out = (dt, c) if out is None or dt < out[0] else out
        return {"seconds": out[0], "results": out[1]}
    R["prefix"] = best(lambda: sum(walk(txn, adb, b"\\x03" + sym("parent") + sym(q)) for q in people))
    R["reverse"] = best(lambda: sum(walk(txn, rdb, b"\\x03" + sym("parent") + sym(q)) for q in people))
    R["count"] = best(lambda: walk(txn, adb, b"\\x03" + sym("age")), rounds=1)
    t = time.perf_counter()
    R["scan_all"] = {"results": sum(1 for _ in txn.cursor(db=adb).iternext(values=False)),
                     "seconds": time.perf_counter() - t}
env.close()
RESULT = R
"""

REMOVE_FIRST = """
import sys, time, mettadb
with open(sys.argv[2]) as f:
    first = f.readline()
with mettadb.open(sys.argv[1]) as sp:
    t = time.perf_counter()
    removed = sp.remove(first)
RESULT = {"seconds": time.perf_counter() - t, "removed": removed}
"""

CHECK = """
import sys, time, mettadb
with mettadb.open(sys.argv[1], readonly=True) as sp:
    t = time.perf_counter()
    problems = sp.check()
RESULT = {"seconds": time.perf_counter() - t, "problems": problems[:5]}
"""

EXPORT_PATHS = """
import sys, mettadb
with mettadb.open(sys.argv[1], readonly=True) as sp, open(sys.argv[2] + ".tmp", "wb") as f:
    n = sp.export(f, "paths").atoms
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
RESULT = {"atoms": n}
"""


def data_file(directory: Path, facts: int) -> Path:
    """The generated facts, streamed to a file once (rules included)."""
    directory.mkdir(parents=True, exist_ok=True)
    p = directory / f"family-{facts}.metta"
    if not p.exists():
        tmp = p.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8", buffering=1 << 20) as f:
            write_family(f, facts)
        tmp.rename(p)
    return p


def python_startup(python: str, rounds: int = 5) -> float:
    """Median wall seconds of `python -c pass`."""
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def reopen(python: str, space: Path, facts: int, rounds: int = 5) -> dict:
    """Median of fresh processes that open the space and answer one ground query."""
    walls, inner = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        r = run_child(python, REOPEN, str(space), str(facts))
        walls.append(time.perf_counter() - t)
        inner.append(r)
    i = sorted(range(rounds), key=lambda k: walls[k])[rounds // 2]
    return {"wall": walls[i], **inner[i]}


def dir_bytes(p: Path) -> int:
    return sum(f.stat().st_size for f in p.iterdir() if f.is_file())


def fmt_rate(n: float, s: float) -> str:
    return f"{n / s:,.0f}/s" if s > 0 else "n/a"


def step(out: dict, name: str, value: dict) -> None:
    """Record one measurement and show it at once (long runs are polled from their log)."""
    out[name] = value
    print(f"[{time.strftime('%H:%M:%S')}] {out['facts']:,} {name}: {json.dumps(value)}", flush=True)


STEPS = ("load", "reopen", "shapes", "paths", "check", "reload", "floor")


def bench(facts: int, directory: Path, jobs: str, floor_max: int, keep: bool, paths: bool, check: bool,
          steps: tuple[str, ...] = STEPS) -> dict:
    py = sys.executable
    t = time.perf_counter()
    src = data_file(directory, facts)
    out: dict = {"facts": facts, "file_bytes": src.stat().st_size}
    step(out, "generate", {"seconds": time.perf_counter() - t})
    space = directory / f"space-{facts}"
    shutil.rmtree(space, ignore_errors=True)
    try:
        out["startup"] = python_startup(py)
        load = run_child(py, LOAD, str(space), str(src), jobs, timeout=6 * 3600)
        load["data_bytes"] = dir_bytes(space)
        step(out, "load", load)
        if "reopen" in steps:
            step(out, "reopen", reopen(py, space, facts))
        if "shapes" in steps:
            step(out, "shapes", run_child(py, SHAPES, str(space), str(facts), timeout=6 * 3600))
        if paths and "paths" in steps:
            dump = directory / f"family-{facts}.paths"
            if not dump.exists():
                run_child(py, EXPORT_PATHS, str(space), str(dump))
            pspace = directory / f"space-{facts}-paths"
            shutil.rmtree(pspace, ignore_errors=True)
            step(out, "paths_load", run_child(py, LOAD, str(pspace), str(dump), jobs, timeout=6 * 3600))
            shutil.rmtree(pspace, ignore_errors=True)
        if check and "check" in steps:
            step(out, "check", run_child(py, CHECK, str(space), timeout=6 * 3600))
        if "reload" in steps:
            t = time.perf_counter()
            rl = run_child(py, LOAD, str(space), str(src), jobs, timeout=6 * 3600)
            rl["wall"] = time.perf_counter() - t
            rl["data_bytes"] = dir_bytes(space)
            step(out, "reload", rl)
            # after a removal the space no longer vouches for the file: the reload parses and probes
            step(out, "remove_one", run_child(py, REMOVE_FIRST, str(space), str(src)))
            t = time.perf_counter()
            rr = run_child(py, LOAD, str(space), str(src), jobs, timeout=6 * 3600)
            rr["wall"] = time.perf_counter() - t
            rr["data_bytes"] = dir_bytes(space)
            step(out, "reload_after_removal", rr)
    finally:
        if not keep:
            shutil.rmtree(space, ignore_errors=True)
    if facts <= floor_max and "floor" in steps:
        fdir = directory / f"floor-{facts}"
        shutil.rmtree(fdir, ignore_errors=True)
        try:
            step(out, "floor", run_child(py, FLOOR, str(fdir), str(facts), str(src), timeout=6 * 3600))
        finally:
            shutil.rmtree(fdir, ignore_errors=True)
    report(out)
    return out


def report(r: dict) -> None:
    ld, fl = r["load"], r.get("floor")
    n = ld["atoms"]
    print(f"\n== {r['facts']:,} facts: {n:,} atoms, {r['file_bytes'] / 2**20:,.0f} MB of text ==")
    print("| figure | mettadb | py-lmdb floor |")
    print("|---|---|---|")
    floor_load = fl["sort"] + fl["putmulti_commit"] if fl else 0.0
    print(f"| load ({ld['mode']}, fsync, all indexes; {ld.get('workers', 0)} workers) | {ld['seconds']:.2f} s, "
          f"{fmt_rate(n, ld['seconds'])}; CPU {ld.get('cpu', 0):.1f} s + workers {ld.get('cpu_workers', 0):.1f} s | "
          + (f"sort {fl['sort']:.1f} s + putmulti/commit {fl['putmulti_commit']:.1f} s = {floor_load:.1f} s, "
             f"{fmt_rate(n, floor_load)} (keys already parsed) |" if fl else "— |"))
    print(f"| peak RSS of the loading process | {ld['VmHWM']:,.0f} MB | {fl['VmHWM']:,.0f} MB (every key in memory) |"
          if fl else f"| peak RSS of the loading process | {ld['VmHWM']:,.0f} MB | — |")
    print(f"| on disk | {ld['data_bytes'] / 2**20:,.0f} MB, {ld['data_bytes'] / n:.0f} B/atom | "
          + (f"{fl['bytes'] / 2**20:,.0f} MB, {fl['bytes'] / n:.0f} B/atom (keys only) |" if fl else "— |"))
    if "paths_load" in r:
        pl = r["paths_load"]
        print(f"| load from MORK `.paths` | {pl['seconds']:.2f} s, {fmt_rate(pl['atoms'], pl['seconds'])} | — |")
    rl = r.get("reload")
    if rl:
        print(f"| reload the same file (adds {rl['added']}, {rl['mode']}) | {rl['seconds']:.2f} s, data "
              f"{ld['data_bytes'] / 2**20:,.0f} -> {rl['data_bytes'] / 2**20:,.0f} MB | — |")
    rr = r.get("reload_after_removal")
    if rr:
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in rr["stages"].items() if v >= 0.01)
        print(f"| reload after removing one atom (adds {rr['added']}) | {rr['seconds']:.2f} s ({stages}), data "
              f"-> {rr['data_bytes'] / 2**20:,.0f} MB | — |")
    if "check" in r:
        c = r["check"]
        print(f"| `check` | {c['seconds']:.1f} s, peak RSS {c['VmHWM']:,.0f} MB, {len(c['problems'])} problems | — |")
    ro = r.get("reopen")
    if ro:
        print(f"| reopen + first ground query, fresh process | {ro['open_and_query'] * 1000:.1f} ms (+ import mettadb "
              f"{ro['import'] * 1000:.0f} ms; process wall {ro['wall'] * 1000:.0f} ms, of which Python start-up "
              f"{r['startup'] * 1000:.0f} ms) | — |")
    sh = r.get("shapes", {})
    for name, label in (("prefix", "`(parent P $x)`"), ("reverse", "`(parent $x P)`"),
                        ("chain", "`(, (parent P $y) (parent $y $z))`"),
                        ("prefix, 2 results each", "`(parent P $x)`, people with 2 children"),
                        ("chain, 4-6 results each", "the chain, people with 4-6 grandchildren"),
                        ("count", "count `(age $p $a)`")):
        if name not in sh:
            continue
        s = sh[name]
        per = s["seconds"] / s["queries"]
        cell = (f"{per * 1000:.2f} ms/query ({s['results']:,} results / {s['queries']})" if s["queries"] > 1
                else f"{s['seconds']:.2f} s ({s['results']:,})")
        fcell = "—"
        if fl and name in fl:
            f = fl[name]
            fcell = (f"{f['seconds'] / s['queries'] * 1000:.3f} ms/query (cursor walk, {f['results']:,} keys)"
                     if s["queries"] > 1 else f"{f['seconds']:.3f} s (cursor walk, {f['results']:,} keys)")
        print(f"| {label} | {cell} | {fcell} |")
    if fl:
        print(f"| full cursor walk, primary keys | — | {fl['scan_all']['seconds']:.2f} s "
              f"({fl['scan_all']['results']:,} keys) |")
    for label, rec in (("load", ld), ("reload", r.get("reload")), (".paths load", r.get("paths_load"))):
        if rec and rec.get("stages"):
            total = rec["seconds"]
            print(f"{label} stages (of {total:.2f} s wall): "
                  + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in rec["stages"].items() if v >= 0.005))
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--facts", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--dir", default=str(Path(__file__).resolve().parent / "data"),
                    help="where the generated files and spaces go (needs ~200 bytes per fact)")
    ap.add_argument("--jobs", default="auto", help="passed to the load (N or auto)")
    ap.add_argument("--floor-max", type=int, default=20_000_000,
                    help="skip the py-lmdb floor above this many facts (it holds every key in memory)")
    ap.add_argument("--paths", action="store_true", help="also export and load a MORK .paths dump")
    ap.add_argument("--check", action="store_true", help="also time `check` on the loaded space")
    ap.add_argument("--keep", action="store_true", help="keep the loaded space")
    ap.add_argument("--json", help="append each size's figures to this file as a JSON line")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"which to run (default all: {','.join(STEPS)})")
    args = ap.parse_args()
    for facts in args.facts:
        r = bench(facts, Path(args.dir), args.jobs, args.floor_max, args.keep, args.paths, args.check,
                  tuple(args.steps.split(",")))
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    # an installed mettadb has its bytecode compiled; without this every fresh process compiles the
    # package again (~0.9 s here) and that is what "reopen" would measure
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    main()
