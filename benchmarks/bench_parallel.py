"""Parallel batch benchmark: aunt queries with 1 and 2 worker processes, and on Dask.

    python benchmarks/bench_parallel.py [--people 2000] [--rounds 3]

This machine has 2 cores that give ~1.0x parallel speed-up even on pure CPU
work, so what it shows is CPU-time efficiency: the workers' CPU seconds
against the same batch in-process (no duplicated work), the per-worker
start-up cost, and the Dask overhead.  The README derives the speed-up to
expect on a larger machine from these figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from bench_eval import RULES
from generate import genealogy

import mettadb
from mettadb.parallel import evaluate_many


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3, help="ask every person's aunts this many times (a longer batch "
                    "measures steadier on this VM)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    path = tempfile.mkdtemp() + "/space"
    with mettadb.open(path) as sp:
        sp.run(genealogy(args.people) + RULES)
    queries = [f"(get_aunt P{i})" for _ in range(args.rounds) for i in range(args.people)]
    with mettadb.open(path, readonly=True) as sp:
        def inproc() -> tuple[float, float, object]:
            c0, t0 = time.process_time(), time.perf_counter()
            res = evaluate_many(sp, queries, jobs=0)
            return time.process_time() - c0, time.perf_counter() - t0, res

        # this VM's speed wanders within seconds: every mode runs `repeat` times, interleaved,
        # and keeps its fastest pass (CPU seconds)
        best: dict[str, tuple[float, float, object]] = {}
        base = None

        def keep(name: str, cpu: float, wall: float, r: object) -> None:
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, wall, r)

        for _ in range(args.repeat):  # in-process first: a running cluster would add its threads' CPU
            cpu, wall, res = inproc()
            base = base or res
            keep("in", cpu, wall, res)
            for jobs in (1, 2):
                r = evaluate_many(sp, queries, jobs=jobs)
                assert r.lines == base.lines  # type: ignore[attr-defined]
                keep(str(jobs), r.worker_cpu, r.seconds, r)
        if not args.skip_dask:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cl, \
                    Client(cl) as client:
                evaluate_many(sp, queries[:10], client=client)  # warm the plugin
                for _ in range(args.repeat):
                    r = evaluate_many(sp, queries, jobs=2)
                    keep("2", r.worker_cpu, r.seconds, r)
                    d = evaluate_many(sp, queries, client=client)
                    assert d.lines == base.lines  # type: ignore[attr-defined]
                    keep("dask", d.worker_cpu, d.seconds, d)
        inproc_cpu, inproc_wall, _ = best["in"]
        print(f"{len(queries)} aunt queries, {args.people}-person genealogy, best of {args.repeat}")
        print(f"in-process           wall {inproc_wall:6.2f} s   CPU {inproc_cpu:6.2f} s")
        for jobs in ("1", "2"):
            cpu, wall, r = best[jobs]
            start = sum(r.worker_startup) / max(len(r.worker_startup), 1)  # type: ignore[attr-defined]
            print(f"--jobs {jobs}              wall {wall:6.2f} s   worker CPU {cpu:6.2f} s "
                  f"({cpu / inproc_cpu:.2f}x in-process)   start-up {start * 1000:.0f} ms/worker")
        if "dask" in best:
            cpu, wall, _ = best["dask"]
            cpu2, wall2, _ = best["2"]
            print(f"Dask LocalCluster(2) wall {wall:6.2f} s   worker CPU {cpu:6.2f} s "
                  f"(overhead vs the local pool's CPU: {(cpu - cpu2) / cpu2:+.0%}; wall {wall / wall2:.2f}x the local pool)")

if __name__ == "__main__":
    main()
