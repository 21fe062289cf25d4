"""Read-only query batches evaluated in parallel: local worker processes or Dask.

Every worker opens the space itself, read-only, once (workers come from a
fork server that never had the environment open, so no LMDB handle crosses a
`fork`).  A chunk of queries is answered inside one read transaction and
reports the generation it read; chunks answered at an older generation than
the newest seen are run again, so every answer of a batch comes from one
committed version.  Workers cannot write: `add-atom` on `&self` is an error in
the query's place.

`jobs="auto"` first evaluates a few queries in-process to measure their cost
and keeps small batches in-process (a pool costs ~0.1-0.3 s to start); an
explicit `jobs=N` always uses N worker processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .atoms import Atom
from .batch import BatchResult, ReplicaMismatchError, answer_chunk, chunks, error_line
from .env import reclaim_readers
from .errors import MettaDBError
from .interp import check_options
from .store import Store

__all__ = ["BatchResult", "ReplicaMismatchError", "answer_chunk", "chunks", "evaluate_many"]

#: target CPU time of one chunk, seconds
CHUNK_SECONDS = 0.25
#: batches whose estimated total is below this run in-process under jobs="auto"
AUTO_INPROCESS_SECONDS = 1.0
MAX_ROUNDS = 3


# ---------------------------------------------------------------- worker side

_WORKER: dict[str, Any] = {}


def _worker_init(path: str, options: dict[str, Any], fault_marker: str | None = None,
                 pool_created: float | None = None) -> None:
    t0 = time.perf_counter()
    _WORKER["fault_marker"] = fault_marker
    space = Store(path, readonly=True)
    _WORKER["space"] = space
    _WORKER["options"] = options
    # start-up as the coordinator sees it: from creating the pool to this worker being ready
    _WORKER["startup"] = time.time() - pool_created if pool_created else time.perf_counter() - t0


def _fault_injection() -> None:
    """Test hook: METTADB_FAULT_CRASH_ONCE=PATH kills the first worker that finds PATH missing."""
    marker = _WORKER.get("fault_marker")
    if marker and not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os._exit(3)


def _worker_chunk(chunk: Sequence[tuple[int, str]]) -> dict[str, Any]:
    _fault_injection()
    out = answer_chunk(_WORKER["space"], chunk, _WORKER["options"])
    out["startup"] = _WORKER.pop("startup", None)  # reported once per worker
    return out


# ---------------------------------------------------------------- coordinator

#: the most worker processes a batch asks for (the CLI's `--jobs` takes as many)
MAX_JOBS = 1024


def check_jobs(jobs: object) -> None:
    """Refuse a `jobs` that is neither "auto" nor a number of processes from 0 (in-process) to MAX_JOBS."""
    if jobs == "auto":
        return
    if isinstance(jobs, bool) or not isinstance(jobs, int):
        raise TypeError(f"jobs must be a number of worker processes or 'auto', not {jobs!r}")
    if not 0 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be between 0 (in-process) and {MAX_JOBS}, not {jobs}")


def query_texts(queries: object) -> list[tuple[int, str]]:
    """(index, MeTTa text) of each query: an iterable of texts or atoms, not one text."""
    if isinstance(queries, (str, bytes, Atom)):
        raise TypeError(f"queries must be an iterable of queries (MeTTa texts or atoms), not a single "
                        f"{type(queries).__name__}; pass [query] for one query")
    try:
        it = iter(queries)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"queries must be an iterable of MeTTa texts or atoms, not {type(queries).__name__}") from None
    items = []
    for i, q in enumerate(it):
        if isinstance(q, str):
            items.append((i, q))
        elif isinstance(q, Atom):
            items.append((i, str(q)))
        else:
            raise TypeError(f"query {i} is {type(q).__name__}, not MeTTa text or an Atom")
    return items


def evaluate_many(space: Any, queries: Iterable[str | Atom], *, jobs: int | str = "auto", client: Any = None,
                  replica_path: str | None = None, chunk_size: int | None = None,
                  progress: Callable[[int, int], None] | None = None, **options: Any) -> BatchResult:
    """Evaluate independent queries (each as `!query`) against one version of the space.

    Returns each query's results formatted as `run` prints them, in input order.
    """
    if options.get("allow_python"):
        raise ValueError("allow_python is refused for batches: batch and Dask workers do not run Python code "
                         "(py-atom, py-dot); evaluate such queries with Space.eval or Space.run")
    check_jobs(jobs)
    check_options(**options)  # (here, not in a worker: a wrong limit is the caller's error, raised once)
    t0 = time.perf_counter()
    generation0 = space.generation  # a closed space fails here with MettaDBError
    items = query_texts(queries)
    if not items:
        return BatchResult([], 0, generation0, 0.0)
    lines: dict[int, str] = {}
    if client is not None:
        from .dask import evaluate_on_dask

        return evaluate_on_dask(space, items, client, replica_path, chunk_size, options, t0)
    if jobs == "auto":
        # pilot: a few queries in-process measure the per-query cost
        pilot = items[: min(len(items), 8)]
        cpu0 = time.process_time()
        first = answer_chunk(space, pilot, options)
        per_query = max((time.process_time() - cpu0) / len(pilot), 1e-5)
        for i, line in first["answers"]:
            lines[i] = line
        rest = items[len(pilot):]
        estimate = per_query * len(rest)
        n_jobs = 0 if estimate < AUTO_INPROCESS_SECONDS else max(1, min(os.cpu_count() or 1, len(rest)))
        generation = first["generation"]
        if not n_jobs:
            if rest:
                out = answer_chunk(space, rest, options)
                for i, line in out["answers"]:
                    lines[i] = line
                if out["generation"] != generation:
                    # a commit landed between the two: answer everything again at the newest
                    return evaluate_many(space, [q for _, q in items], jobs=0, **options)
            return BatchResult([lines[i] for i, _ in items], 0, generation, time.perf_counter() - t0)
        size = chunk_size or max(1, min(int(CHUNK_SECONDS / per_query), -(-len(rest) // (n_jobs * 2))))
        work = rest
    else:
        n_jobs = int(jobs)
        if n_jobs <= 0:
            out = answer_chunk(space, items, options)
            return BatchResult([line for _, line in sorted(out["answers"])], 0, out["generation"],
                               time.perf_counter() - t0)
        size = chunk_size or max(1, -(-len(items) // (n_jobs * 4)))
        work = items
        generation = -1
    result = _run_pool(space.path, work, n_jobs, size, options, progress, len(items))
    newest = max(generation, result["generation"])
    if generation >= 0 and generation != newest:
        # the pilot saw an older version than the workers: answer it again in the pool's version
        redo = _run_pool(space.path, items[: len(items) - len(work)], n_jobs, size, options, None, len(items))
        result["answers"].extend(redo["answers"])
        newest = max(newest, redo["generation"])
    else:
        result["answers"].extend(lines.items())
    ordered = dict(result["answers"])
    return BatchResult([ordered[i] for i, _ in items], n_jobs, newest, time.perf_counter() - t0,
                       worker_cpu=result["cpu"], worker_startup=result["startup"], rounds=result["rounds"],
                       notes=result["notes"])


@contextlib.contextmanager
def _workers_skip_main() -> Iterator[None]:
    """Workers need nothing from `__main__`: hide its file while the pool runs, so that a
    batch started from stdin, `python -c` or a notebook does not make workers re-run it."""
    import sys

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    saved = getattr(main, "__file__", None) if spec is None else None
    if saved is not None:
        del main.__file__  # type: ignore[union-attr]
    try:
        yield
    finally:
        if saved is not None:
            main.__file__ = saved  # type: ignore[union-attr]


def _run_pool(path: str, work: list[tuple[int, str]], n_jobs: int, size: int, options: dict[str, Any],
              progress: Callable[[int, int], None] | None, total: int) -> dict[str, Any]:
    with _workers_skip_main():
        return _run_pool_inner(path, work, n_jobs, size, options, progress, total)


def _run_pool_inner(path: str, work: list[tuple[int, str]], n_jobs: int, size: int, options: dict[str, Any],
                    progress: Callable[[int, int], None] | None, total: int) -> dict[str, Any]:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["mettadb.parallel"])
    answers: dict[int, tuple[str, int]] = {}
    cpu = 0.0
    startups: list[float] = []
    pending = chunks(work, size)
    retried: set[int] = set()
    notes: list[str] = []
    rounds = 0
    while pending:
        rounds += 1
        if rounds > MAX_ROUNDS + 2:
            raise MettaDBError("the space kept changing during the batch; answer from a snapshot made with "
                               "`mettadb backup` instead")
        failed: list[list[tuple[int, str]]] = []
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_init,
                                 initargs=(path, options, os.environ.get("METTADB_FAULT_CRASH_ONCE"),
                                           time.time())) as pool:
            futures: list[tuple[Future[dict[str, Any]], list[tuple[int, str]]]] = []
            unsent: list[list[tuple[int, str]]] = []  # chunks a pool broken meanwhile refused: never run
            for c in pending:
                if not unsent:
                    try:
                        futures.append((pool.submit(_worker_chunk, c), c))
                        continue
                    except BrokenProcessPool:
                        pass
                unsent.append(c)
            for fut, chunk in futures:
                try:
                    out = fut.result()
                except BrokenProcessPool:
                    notes.append(f"a worker process died; its chunk of {len(chunk)} queries "
                                 f"{'failed again' if chunk[0][0] in retried else 'was run again'}")
                    key = chunk[0][0]
                    if key in retried:
                        for i, q in chunk:
                            answers[i] = (error_line(q, "worker process died twice on this query's chunk"), -1)
                    else:
                        retried.add(key)
                        failed.append(chunk)
                    continue
                cpu += out["cpu"]
                if out.get("startup") is not None:
                    startups.append(out["startup"])
                for i, line in out["answers"]:
                    answers[i] = (line, out["generation"])
                if progress is not None:
                    progress(len(answers), total)
            failed.extend(unsent)
            if failed:
                # CPython 3.11: a worker that submit() started while the pool was being declared
                # broken is never terminated, and the pool's shutdown waits for it forever
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    if proc.is_alive():
                        proc.terminate()
        _reclaim_readers(path)
        newest = max((g for _, g in answers.values()), default=-1)
        stale = [(i, q) for i, q in work if i in answers and 0 <= answers[i][1] < newest]
        if stale and rounds >= MAX_ROUNDS:
            raise MettaDBError(f"no agreement on one version of the space after {MAX_ROUNDS} rounds (it kept "
                               "changing); run the batch on a snapshot made with `mettadb backup`")
        pending = failed + (chunks(stale, size) if stale else [])
    newest = max((g for _, g in answers.values()), default=0)
    return {"answers": [(i, line) for i, (line, _g) in answers.items()], "generation": newest, "cpu": cpu,
            "startup": startups, "rounds": rounds, "notes": list(dict.fromkeys(notes))}


def _reclaim_readers(path: str) -> None:
    """Free reader slots left by dead workers (LMDB's reader_check)."""
    reclaim_readers(path)


