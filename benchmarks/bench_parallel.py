"""Parallel batch benchmark: 2,000 aunt queries with 1 and 2 worker processes, and on Dask.

    python benchmarks/bench_parallel.py [--people 2000]

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
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    path = tempfile.mkdtemp() + "/space"
    with mettadb.open(path) as sp:
        sp.run(genealogy(args.people) + RULES)
    queries = [f"(get_aunt P{i})" for i in range(args.people)]
    with mettadb.open(path, readonly=True) as sp:
        c0, t0 = time.process_time(), time.perf_counter()
        base = evaluate_many(sp, queries, jobs=0)
        inproc_cpu, inproc_wall = time.process_time() - c0, time.perf_counter() - t0
        print(f"{len(queries)} aunt queries, {args.people}-person genealogy")
        print(f"in-process           wall {inproc_wall:6.2f} s   CPU {inproc_cpu:6.2f} s")
        for jobs in (1, 2):
            r = evaluate_many(sp, queries, jobs=jobs)
            assert r.lines == base.lines
            start = sum(r.worker_startup) / max(len(r.worker_startup), 1)
            print(f"--jobs {jobs}              wall {r.seconds:6.2f} s   worker CPU {r.worker_cpu:6.2f} s "
                  f"({r.worker_cpu / inproc_cpu:.2f}x in-process)   start-up {start * 1000:.0f} ms/worker")
        if not args.skip_dask:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cl, \
                    Client(cl) as client:
                evaluate_many(sp, queries[:10], client=client)  # warm the plugin
                local2 = evaluate_many(sp, queries, jobs=2)
                d = evaluate_many(sp, queries, client=client)
                assert d.lines == base.lines
                print(f"Dask LocalCluster(2) wall {d.seconds:6.2f} s   worker CPU {d.worker_cpu:6.2f} s "
                      f"(overhead vs the local pool's CPU: {(d.worker_cpu - local2.worker_cpu) / local2.worker_cpu:+.0%}; "
                      f"wall {d.seconds / local2.seconds:.2f}x the local pool)")


if __name__ == "__main__":
    main()
