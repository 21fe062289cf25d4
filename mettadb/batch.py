"""Answering a chunk of read-only queries from one snapshot: the work a batch worker does.

Shared by the local worker pool (`parallel`) and Dask workers (`dask`): a
chunk is answered inside one pinned read transaction by an interpreter kept
per open store, and reports the generation it read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .atoms import Atom, Expression, String, Symbol
from .errors import DamagedSpaceError, MettaDBError
from .interp import Interpreter, format_results
from .layout import unpack_value
from .parser import parse_atom
from .store import Store

__all__ = ["BatchResult", "ReplicaMismatchError", "answer_chunk", "chunks", "error_line"]


class ReplicaMismatchError(MettaDBError):
    """A worker's replica is not the coordinator's version of the space."""


@dataclass
class BatchResult:
    """Answers in input order, as printable lines, plus what the batch did."""

    lines: list[str]
    workers: int
    generation: int
    seconds: float
    worker_cpu: float = 0.0
    worker_startup: list[float] = field(default_factory=list)
    rounds: int = 1
    #: what went wrong on the way (a worker that died, chunks run again)
    notes: list[str] = field(default_factory=list)

    def summary(self, queries: int) -> str:
        """The `batch: ...` line of the CLI."""
        return f"batch: {queries} queries, {self.workers} workers, version {self.generation}, {self.seconds:.2f} s"


def chunks(items: list[tuple[int, str]], size: int) -> list[list[tuple[int, str]]]:
    """`items` cut into lists of at most `size`."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def error_line(query: str, message: str) -> str:
    """The printed line of a query that failed in the host: `[(Error query "message")]`."""
    try:
        q: Atom = parse_atom(query)
    except MettaDBError:
        q = String(query)
    return format_results([Expression((Symbol("Error"), q, String(message)))])


_INTERPRETERS: dict[int, Interpreter] = {}
_OPTIONS: dict[int, dict[str, Any]] = {}


def _interpreter(space: Any, options: dict[str, Any]) -> Interpreter:
    """One interpreter per open space and options, kept across chunks: its rule and type
    caches stay warm while the generation is unchanged (it checks at every evaluation)."""
    key = id(space)
    interp = _INTERPRETERS.get(key)
    if interp is None or interp.space is not space or _OPTIONS.get(key) != options:
        interp = Interpreter(space, readonly=True, **options)
        _OPTIONS[key] = options
        _INTERPRETERS[key] = interp
    return interp


def answer_chunk(space: Store, chunk: Sequence[tuple[int, str]], options: dict[str, Any]) -> dict[str, Any]:
    """Answer queries in one read transaction: {"answers": [(index, line)], "generation", "cpu"}."""
    cpu0 = time.process_time()
    with space.pinned() as txn:
        raw = txn.get(b"generation", db=space.meta_db)
        generation = int(unpack_value(raw)) if raw is not None else 0
        interp = _interpreter(space, options)
        answers = []
        for index, text in chunk:
            try:
                results = interp.evaluate(parse_atom(text))
                answers.append((index, format_results(results)))
            except DamagedSpaceError:
                raise  # the space's, not the query's: the whole batch stops
            except MettaDBError as e:
                answers.append((index, error_line(text, str(e))))
            except RecursionError:
                answers.append((index, error_line(text, "recursion too deep")))
    return {"answers": answers, "generation": generation, "cpu": time.process_time() - cpu0, "pid": os.getpid()}
