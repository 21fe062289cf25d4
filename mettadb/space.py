"""`Space`: the store as users meet it, with loading, queries and evaluation on top.

`Store` (below) owns the bytes; this class only connects it to the stages
above it: the loaders, the query engine, the interpreter, scripts, parallel
batches and the checker.  Nothing below imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from .atoms import Atom, Regex, source_text
from .bindings import EMPTY_BINDINGS, Bindings
from .errors import MettaDBError
from .loading import LoadReport, Source, load, load_paths
from .query import count, explain, run_query
from .spaces import Overlay, holds_session_object, merged_query
from .store import AtomLike, PathLike, Store, as_atom

if TYPE_CHECKING:
    from .batch import BatchResult
    from .interchange import ExportReport
    from .interp import Interpreter
    from .runner import RunResult

# The interpreter, scripts, batches, export and the checker are imported when first used:
# `import mettadb` (and every CLI command) stays quick.

__all__ = ["Space", "open_space"]


class Space(Store):
    """A MeTTa space stored on disk.  Use `mettadb.open()` to get one.

    A multiset of atoms, like hyperon's: adding an atom twice keeps two copies.
    """

    def __enter__(self) -> Space:
        return self

    # ------------------------------------------------------------------ loading and export
    def load(self, *sources: Source, duplicates: bool = False,
             progress: Callable[[int, int], None] | None = None, bulk: bool | None = None,
             jobs: int | None = None) -> LoadReport:
        """Load MeTTa files (paths or binary streams), all or nothing; see `mettadb.loading.load`."""
        return load(self, *sources, duplicates=duplicates, progress=progress, bulk=bulk, jobs=jobs)

    def load_paths(self, *sources: Source, duplicates: bool = False, bulk: bool | None = None,
                   jobs: int | None = None) -> LoadReport:
        """Load MORK `.paths` dumps, all or nothing (set union unless duplicates); `jobs` as for `load`."""
        return load_paths(self, *sources, duplicates=duplicates, bulk=bulk, jobs=jobs)

    def export(self, out: BinaryIO, fmt: str = "metta", progress: Callable[[int], None] | None = None) -> ExportReport:
        """Write every atom to a binary stream as `metta` text, `jsonl` or MORK `paths`."""
        from .interchange import export_space

        return export_space(self, out, fmt, progress)

    # ------------------------------------------------------------------ queries
    def query(self, pattern: AtomLike, bindings: Bindings = EMPTY_BINDINGS) -> Iterator[Bindings]:
        """Lazily yield the Bindings of each match (once per stored copy).

        A pattern `(, p1 p2 ...)` is a conjunction.  A pattern holding a `regex:"…"` token (or
        another object of this process) is matched by unification, stored atom by stored atom.
        """
        p = as_atom(pattern)
        if Regex.made and holds_session_object(p):  # (no cost before a regex exists)
            return iter(merged_query(self, Overlay(), p, bindings))
        return run_query(self, p, bindings)

    def match(self, pattern: AtomLike, template: AtomLike | None = None) -> Iterator[Atom]:
        """Lazily yield the template instantiated by each match (the pattern itself without one)."""
        p = as_atom(pattern)
        t = as_atom(template) if template is not None else p
        for b in self.query(p):
            yield b.resolve(t)

    def explain(self, pattern: AtomLike, analyze: bool = False) -> dict[str, Any]:
        """How a query would run (access paths, join order, estimates) without running it;
        with `analyze`, run it and show each step's actual rows and keys visited."""
        p = as_atom(pattern)
        if Regex.made and holds_session_object(p):  # (no cost before a regex exists)
            raise MettaDBError("a pattern holding a regex:\"…\" token has no plan: each stored atom is matched with it")
        return explain(self, p, analyze)

    def count_matches(self, pattern: AtomLike) -> int:
        """How many results `query(pattern)` yields, without building them."""
        p = as_atom(pattern)
        if Regex.made and holds_session_object(p):  # (no cost before a regex exists)
            return sum(1 for _ in self.query(p))
        return count(self, p)

    # ------------------------------------------------------------------ evaluation
    def interpreter(self, **options: Any) -> Interpreter:
        """A MeTTa interpreter over this space."""
        from .interp import Interpreter

        return Interpreter(self, **options)

    def eval(self, expr: AtomLike, **options: Any) -> list[Atom]:
        """Evaluate one expression as `!expr`; writes it makes commit together at the end."""
        interp = self.interpreter(**options)
        atom = as_atom(expr)
        if self.readonly:
            interp.readonly = True
            return list(interp.evaluate(atom))
        with self.transaction():
            return list(interp.evaluate(atom))

    def run(self, text: str, *, source: str = "<string>", commit_each: bool = False, duplicates: bool = False,
            on_result: Callable[[Atom, list[Atom]], None] | None = None, **options: Any) -> RunResult:
        """Run a MeTTa script: atoms are added, each `!` evaluated; returns each `!`'s results.

        An atom the space held before the run is not added again (`duplicates`
        adds it anyway).  Commits once at the end, and a host-level failure rolls
        the whole run back; with commit_each, each `!` commits with the atoms
        before it, and a failure rolls back only what came after the last
        completed `!`.  `on_result(atom, results)` is called as each `!` is done (with commit_each,
        once it is committed).
        """
        from .runner import run_script

        if not isinstance(text, str):
            raise TypeError(f"run takes the script's text (str), not {type(text).__name__}")
        options.setdefault("base_dir", os.path.dirname(os.path.abspath(source)) if source != "<string>" else None)
        interp = self.interpreter(**options)
        if commit_each:
            return run_script(interp, text, source, on_result, step=self.transaction, duplicates=duplicates)
        with self.transaction():
            return run_script(interp, text, source, on_result, duplicates=duplicates)

    def evaluate_many(self, queries: Any, *, jobs: int | str = "auto", client: Any = None, **options: Any) -> BatchResult:
        """Evaluate independent read-only queries in parallel (see `mettadb.parallel`)."""
        from .parallel import evaluate_many

        return evaluate_many(self, queries, jobs=jobs, client=client, **options)

    def match_many(self, patterns: Any, *, jobs: int | str = "auto", client: Any = None, **options: Any) -> BatchResult:
        """`match &self` for each (pattern, template) pair, in parallel like evaluate_many."""
        def text(a: Any, i: int) -> str:  # (an atom's regex goes as its token)
            if not isinstance(a, (Atom, str)):
                raise TypeError(f"pair {i} holds {type(a).__name__}, not MeTTa text or an Atom")
            return source_text(a) if isinstance(a, Atom) else a

        if isinstance(patterns, (str, bytes, Atom)):
            raise TypeError(f"patterns must be an iterable of (pattern, template) pairs, not one {type(patterns).__name__}")
        queries = []
        for i, pair in enumerate(patterns):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"pair {i} is not a (pattern, template) pair: {pair!r}"[:200])
            queries.append(f"(match &self {text(pair[0], i)} {text(pair[1], i)})")
        return self.evaluate_many(queries, jobs=jobs, client=client, **options)

    # ------------------------------------------------------------------ integrity
    def check(self, progress: Callable[[int], None] | None = None) -> list[str]:
        """Verify keys, indexes, statistics and format; returns the problems found."""
        from .check import check_space

        return check_space(self, progress)


class _NoPath:
    """What `open_space` is called with when given no path."""

    def __repr__(self) -> str:
        return "$METTADB_DB or ./metta.db"


_NO_PATH = _NoPath()


def open_space(path: PathLike | _NoPath = _NO_PATH, *, readonly: bool = False, **kwargs: Any) -> Space:
    """Open (creating if needed) the space at `path`; see `Space`.

    With no path: `$METTADB_DB`, else `./metta.db` (a path of None is refused: a variable that is
    unexpectedly None should not open a space in the working directory).  Only the space's own
    directory is created: its parent must exist.
    """
    if path is None:
        raise TypeError("the path is None (mettadb.open() with no path opens $METTADB_DB, else ./metta.db)")
    return Space(None if isinstance(path, _NoPath) else path, readonly=readonly, **kwargs)
