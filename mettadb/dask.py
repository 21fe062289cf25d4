"""Dask distributed support: a WorkerPlugin that opens each worker's replica once."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from .batch import BatchResult, ReplicaMismatchError, answer_chunk, chunks
from .errors import MettaDBError
from .store import Store

__all__ = ["MettaDBWorkerPlugin", "dask_chunk"]


class MettaDBWorkerPlugin(WorkerPlugin):
    """Opens the worker's local read-only replica once and checks it is the coordinator's version.

    The replica is `replica_path` (by default the coordinator's own path), or the
    worker's `METTADB_REPLICA` environment variable when set.  A replica whose
    format version or generation differs is refused: its tasks fail with
    ReplicaMismatchError instead of answering from another version.
    """

    name = "mettadb"

    def __init__(self, replica_path: str, format_version: int, generation: int) -> None:
        self.replica_path = replica_path
        self.format_version = format_version
        self.generation = generation

    def setup(self, worker: Any) -> None:
        path = os.environ.get("METTADB_REPLICA", self.replica_path)
        old = getattr(worker, "_mettadb_space", None)
        if old is not None:
            old.close()
        worker._mettadb_space = None
        worker._mettadb_error = None
        try:
            space = Store(path, readonly=True)
        except Exception as e:
            worker._mettadb_error = f"cannot open replica {path}: {e}"
            return
        if space.format_version != self.format_version or space.generation != self.generation:
            worker._mettadb_error = (
                f"replica {path} has format {space.format_version}, generation {space.generation}; "
                f"the coordinator has format {self.format_version}, generation {self.generation}")
            space.close()
            return
        worker._mettadb_space = space

    def teardown(self, worker: Any) -> None:
        space = getattr(worker, "_mettadb_space", None)
        if space is not None:
            space.close()


def dask_chunk(chunk: Sequence[tuple[int, str]], options: dict[str, Any]) -> dict[str, Any]:
    """Answer one chunk on a Dask worker from its replica."""
    worker = get_worker()
    err = getattr(worker, "_mettadb_error", None)
    if err:
        raise ReplicaMismatchError(f"refused: {err}")
    return answer_chunk(getattr(worker, "_mettadb_space"), chunk, options)  # noqa: B009


def evaluate_on_dask(space: Any, items: list[tuple[int, str]], client: Any, replica_path: str | None,
                   chunk_size: int | None, options: dict[str, Any], t0: float) -> BatchResult:
    plugin = MettaDBWorkerPlugin(replica_path or space.path, space.format_version, space.generation)
    client.register_plugin(plugin, name="mettadb")
    n_workers = len(client.scheduler_info().get("workers", {})) or 1
    size = chunk_size or max(1, -(-len(items) // (n_workers * 4)))
    futures = [client.submit(dask_chunk, c, options, pure=False) for c in chunks(items, size)]
    answers: dict[int, str] = {}
    cpu = 0.0
    generations = set()
    for fut in futures:
        out = fut.result()
        cpu += out["cpu"]
        generations.add(out["generation"])
        answers.update(out["answers"])
    if len(generations) > 1:
        raise MettaDBError(f"workers answered from different versions {sorted(generations)}; use replicas made "
                           "with `mettadb backup`")
    return BatchResult([answers[i] for i, _ in items], n_workers, generations.pop(), time.perf_counter() - t0,
                       worker_cpu=cpu)
