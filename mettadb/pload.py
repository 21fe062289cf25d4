"""Parsing for bulk loads: MeTTa text to sorted key runs, in worker processes when the input is large.

`collect()` turns the atoms of some files into the keys a bulk load writes: the
primary keys of ground atoms with plain keys and the reverse-index keys of
those that have one, in `KeyRuns`; every other atom (variables, hashed keys)
in a dict of its own.  A large text file is cut into byte ranges at line
starts that open a top-level expression (a `.paths` dump into blocks of whole
decompressed records, as the loader reads it, smaller toward its end so that
the processes finish together, each handed to a worker as a file in the load's
temporary directory); the ranges go to one queue,
and each is parsed, encoded and sorted into run files by a worker process
(forked: nothing is imported again) unless the loader, which keeps its keys
in memory, takes it because the workers are busy.  Workers only ever get
ranges of `MIN_CHUNK` bytes or more (about half a second of parsing each,
against a few milliseconds to fork), so small inputs never start one.

A cut is only a guess: every range must parse on its own and end outside any
expression, string or `!`.  Range 0 starts at the file's start, so if every
range ends clean, every cut was at a top-level boundary.  If any range does
not parse, everything is thrown away and the files are read again in one
pass, which either succeeds (a cut fell between `!` and its expression) or
raises the ParseError with its line and column.
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from . import bulk as bulk_mod
from .bulk import KeyRuns, Numbering, RunFiles
from .errors import DecodeError, MettaDBError
from .interchange import block_keys, numbered_block_keys, paths_blocks
from .keys import MAX_PLAIN, storage_key
from .transcode import FastKeys, MalformedRange, Numbered, Transcoded, transcode_file, transcode_range

__all__ = [
    "MAX_CHUNK",
    "MIN_CHUNK",
    "PATHS_BLOCK",
    "CollectReport",
    "block_seq",
    "collect",
    "collect_block",
    "collect_keys",
    "collect_paths",
    "collect_text",
    "default_jobs",
    "plan_chunks",
    "text_items",
]

#: the smallest byte range a worker process is given
MIN_CHUNK = 8 << 20
#: the largest: bounds a worker's memory and balances the work
MAX_CHUNK = 24 << 20
#: decompressed bytes of `.paths` records per task
PATHS_BLOCK = 4 << 20
_PROBE = 1 << 16
#: (storage key, variable names...) or a storage key without names -> [path, names, tokens, occurrences, first
#: sequence number] (atoms equal up to variable names are different atoms: `layout.Record.variants`)
Complex = dict[Any, list[Any]]
Chunk = tuple[int, int, int]  # (index of the source, start, end)


@dataclass
class CollectReport:
    """What `collect()` read."""

    files: list[str] = field(default_factory=list)
    read: int = 0
    bangs: int = 0
    bytes_read: int = 0
    #: worker processes started (0: the parent parsed everything)
    workers: int = 0
    #: chunks parsed (1 per file when nothing ran in parallel)
    chunks: int = 0
    seconds: float = 0.0


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def collect_keys(items: Iterable[tuple[bytes, list[str] | None, list[bytes] | None]], akeys: KeyRuns,
                 rkeys: KeyRuns, complex_: Complex, budget: int,
                 progress: Callable[[int], None] | None = None, *, number: Numbering, seq: int) -> int:
    """Sort `(path, names, tokens)` items into key runs and `complex_`; returns how many were read.

    The k-th item (from 0) gets insertion sequence number `seq + k`, appended to its primary key
    (`number`'s suffix) or kept in `complex_`.  The in-memory keys of `akeys` and `rkeys`
    together are spilled to run files when they reach `budget`; `progress(n)` is called now and then.
    """
    aappend, rappend = akeys.append, rkeys.append
    akl, rkl = akeys.keys, rkeys.keys
    pack, tag = number.packer, number.tag
    check_every = min(0x10000, max(1, budget // 4))
    next_check = check_every
    n = 0
    s = seq - 1
    for path, names, tokens in items:
        n += 1
        if names is None and len(path) <= MAX_PLAIN:
            aappend(path + pack(tag, s + n))
            if tokens is not None:
                rappend(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]))
            if n >= next_check:
                next_check = n + check_every
                if len(akl) + len(rkl) >= budget:
                    akeys.spill()
                    rkeys.spill()
                if progress is not None:
                    progress(n)
        else:
            key: Any = storage_key(path) if names is None else (storage_key(path), *names)
            c = complex_.get(key)
            if c is None:
                complex_[key] = [path, names, tokens, 1, s + n]
            else:
                c[3] += 1
    return n


def collect_text(items_for: Callable[[FastKeys, Numbered], Iterable[tuple[bytes, list[str] | None, list[bytes] | None]]],
                 akeys: KeyRuns, rkeys: KeyRuns, complex_: Complex, budget: int,
                 progress: Callable[[int], None] | None = None, *, number: Numbering, seq: int) -> int:
    """`collect_keys` for a transcoder that appends the keys of simple lines itself, a block at a time.

    `items_for(keys, numbered)` is `transcode_file(..., keys=keys, number=numbered)` or
    `transcode_range`; the budget is checked after each block.  The atoms are numbered from `seq` in
    input order, as `collect_keys` numbers them: the transcoder suffixes the keys it appends, and
    says the number of each atom it yields (`Numbered.at`).  Returns how many atoms were read.
    """
    aappend, rappend = akeys.append, rkeys.append
    akl, rkl = akeys.keys, rkeys.keys
    pack, tag = number.packer, number.tag
    nb = Numbered(pack, tag, seq)
    check_every = min(0x10000, max(1, budget // 4))
    next_check = check_every
    bulk = [0]  # atoms taken in bulk

    def after_block(k: int) -> None:
        bulk[0] += k
        if len(akl) + len(rkl) >= budget:
            akeys.spill()
            rkeys.spill()
        if progress is not None:
            progress(bulk[0] + n)

    n = 0  # atoms yielded one by one
    for path, names, tokens in items_for((akl, rkl, after_block), nb):
        n += 1
        if names is None and len(path) <= MAX_PLAIN:
            aappend(path + pack(tag, nb.at))
            if tokens is not None:
                rappend(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]))
            if n >= next_check:
                next_check = n + check_every
                if len(akl) + len(rkl) >= budget:
                    akeys.spill()
                    rkeys.spill()
                if progress is not None:
                    progress(bulk[0] + n)
        else:
            key: Any = storage_key(path) if names is None else (storage_key(path), *names)
            c = complex_.get(key)
            if c is None:
                complex_[key] = [path, names, tokens, 1, nb.at]
            else:
                c[3] += 1
    return n + bulk[0]


def collect_block(block: bytes, first: int, source: str, seen: set[bytes], akeys: KeyRuns, rkeys: KeyRuns,
                  complex_: Complex, budget: int, *, number: Numbering, seq: int) -> int:
    """`collect_keys` for one `.paths` block (see `interchange.block_keys`); returns the records read.

    Its records are numbered from `seq` in the block's order (`block_keys` suffixes the keys it cuts
    out, and gives the numbers of the other records).
    """
    plain, rev, others, nums = numbered_block_keys(block, first, source, seen, (number.packer, number.tag, seq))
    akeys.keys.extend(plain)
    rkeys.keys.extend(rev)
    n = len(plain)
    i, m = 0, len(others)
    while i < m:  # runs of consecutive numbers (a dump of rules: all of them) in one call each
        j = i + 1
        while j < m and nums[j] == nums[j - 1] + 1:
            j += 1
        n += collect_keys(others[i:j], akeys, rkeys, complex_, budget, number=number, seq=nums[i])
        i = j
    if len(akeys.keys) + len(rkeys.keys) >= budget:
        akeys.spill()
        rkeys.spill()
    return n


def block_seq(number: Numbering, before: int) -> int:
    """The first sequence number of a `.paths` block after `before` decompressed bytes: a record takes
    at least 5 bytes, so blocks numbered by their position never overlap."""
    return number.base + before // 5


def collect_paths(stream: IO[bytes], st: Transcoded, akeys: KeyRuns, rkeys: KeyRuns, complex_: Complex, budget: int,
                  progress: Callable[[int], None] | None = None, *, number: Numbering, before: int = 0) -> int:
    """`collect_keys` for a whole `.paths` stream read in this process; counts bytes in `st` (`before`: the
    decompressed bytes of the load's earlier sources, for the numbering)."""
    seen: set[bytes] = set()
    n = 0
    for block, first in paths_blocks(stream, st.source):
        n += collect_block(block, first, st.source, seen, akeys, rkeys, complex_, budget, number=number,
                           seq=block_seq(number, before + st.bytes_read))
        st.bytes_read += len(block)
        if progress is not None:
            progress(n)
    return n


def _next_cut(f: Any, pos: int, end: int) -> int:
    """The first line start after `pos - 1` (and before `end`) that opens an expression; `end` if none."""
    at = pos - 1
    f.seek(at)
    while at < end:
        data = f.read(_PROBE)
        if len(data) < 2:
            return end
        i = data.find(b"\n(")
        if i >= 0:
            return int(min(at + i + 1, end))
        at += len(data) - 1  # the last byte may be the newline of the next match
        f.seek(at)
    return end


def plan_chunks(path: str, jobs: int, *, min_chunk: int | None = None, max_chunk: int | None = None) -> list[tuple[int, int]]:
    """Byte ranges of a file for `jobs` processes: one range when it is too small to share."""
    lo = min_chunk or MIN_CHUNK
    hi = max(max_chunk or MAX_CHUNK, lo)
    size = os.path.getsize(path)
    if jobs <= 1 or size < 2 * lo:
        return [(0, size)] if size else []
    n = max(jobs, -(-size // hi))
    n = min(n, size // lo)
    step = size // n
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, n):
            c = _next_cut(f, max(k * step, cuts[-1] + 2), size)
            if c < size and c > cuts[-1]:
                cuts.append(c)
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


@dataclass
class _ChunkResult:
    index: int
    read: int = 0
    bangs: int = 0
    bytes_read: int = 0
    complex_: Complex = field(default_factory=dict)
    akeys: RunFiles | None = None
    rkeys: RunFiles | None = None


#: a unit of work: (index, source number, text byte range or a `.paths` block and its first record number)
Task = tuple[int, int, Any]


class _Reader:
    """Turns a task into `(path, names, tokens)` items; text ranges and `.paths` blocks."""

    def __init__(self, sources: list[str], fmt: str, number: Numbering) -> None:
        self.sources = sources
        self.fmt = fmt
        self.number = number
        self.seen: set[bytes] = set()
        #: text: where each source starts in the load's bytes (an item takes at least one byte, so a
        #: range numbered from its first byte's position never overlaps the next)
        self.offsets = list(itertools.accumulate((os.path.getsize(s) for s in sources), initial=0)) \
            if fmt != "paths" else []

    def run(self, task: Task, akeys: KeyRuns, rkeys: KeyRuns, budget: int) -> _ChunkResult:
        index, src, payload = task
        res = _ChunkResult(index)
        name = self.sources[src]
        if self.fmt == "paths":
            block, first, before = payload
            if isinstance(block, str):  # spooled (see `_spooled`)
                with open(block, "rb") as f:
                    block = f.read()
                os.unlink(payload[0])
            res.read = collect_block(block, first, name, self.seen, akeys, rkeys, res.complex_, budget,
                                     number=self.number, seq=block_seq(self.number, before))
            res.bytes_read = len(block)
        else:
            st = Transcoded(name)
            start, end = payload
            res.read = collect_text(lambda k, nb: transcode_range(name, start, end, st, keys=k, number=nb), akeys,
                                    rkeys, res.complex_, budget, number=self.number,
                                    seq=self.number.base + self.offsets[src] + start)
            res.bangs, res.bytes_read = st.bangs, st.bytes_read
        return res


def _spooled(task: Task, tmp: str) -> Task:
    """A `.paths` task with its block in a file in `tmp`, for a worker: a queue pipes a big message from
    its feeder thread 64 KiB at a time, each write waiting for the GIL while the loader parses (a 4 MiB
    block took up to ~0.3 s to arrive, the worker idle meanwhile)."""
    index, src, (block, first, before) = task
    path = os.path.join(tmp, f"block-{index}")
    with open(path, "wb") as f:
        f.write(block)
    return index, src, (path, first, before)


def _worker(reader: _Reader, tasks: Any, results: Any, tmp: str, budget: int) -> None:
    """A worker process: run tasks until the None sentinel; each one's keys become run files."""
    while True:
        task = tasks.get()
        if task is None:
            results.put(("done", None))
            return
        i = task[0]
        akeys, rkeys = KeyRuns(tmp, f"atoms-c{i}", suffix=reader.number.width), KeyRuns(tmp, f"rev-c{i}")
        try:
            res = reader.run(task, akeys, rkeys, budget)
            res.akeys, res.rkeys = akeys.run_files(), rkeys.run_files()
        except (MalformedRange, DecodeError):
            akeys.discard()
            rkeys.discard()
            results.put(("malformed", i))
            continue
        except BaseException as e:  # reported to the parent, which raises it
            akeys.discard()
            rkeys.discard()
            results.put(("error", e if isinstance(e, OSError) else MettaDBError(f"a load worker failed: {e!r}")))
            continue
        results.put(("ok", res))


def text_items(src: Any, st: Transcoded, keys: FastKeys,
               number: Numbered | None = None) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    """`transcode_file` with bulk keys (for `collect_text`)."""
    return transcode_file(src, st, keys=keys, number=number)


def _sequential(sources: list[str], fmt: str, akeys: KeyRuns, rkeys: KeyRuns, complex_: Complex, budget: int,
                progress: Callable[[int, int], None] | None, report: CollectReport, number: Numbering) -> None:
    done_bytes = 0
    for s in sources:
        st = Transcoded(s)

        def tick(n: int, st: Transcoded = st, before: int = done_bytes) -> None:
            if progress is not None:
                progress(before + st.bytes_read, report.read + n)

        if fmt == "paths":
            with open(s, "rb") as f:
                report.read += collect_paths(f, st, akeys, rkeys, complex_, budget, tick, number=number,
                                             before=done_bytes)
        else:
            report.read += collect_text(functools.partial(text_items, s, st), akeys, rkeys, complex_, budget, tick,
                                        number=number, seq=number.base + done_bytes)
        done_bytes += st.bytes_read
        report.bangs += st.bangs
        report.bytes_read += st.bytes_read
        report.chunks += 1


def _merge_complex(into: Complex, part: Complex) -> None:
    for key, c in part.items():
        old = into.get(key)
        if old is None:
            into[key] = c
        else:
            old[3] += c[3]


def _tasks(sources: list[str], fmt: str, jobs: int) -> tuple[list[Task] | None, Iterator[Task]]:
    """The work, planned (text: ranges known up front) or produced as the parent reads (`.paths`)."""
    if fmt != "paths":
        planned = [(i, a, b) for i, s in enumerate(sources) for a, b in plan_chunks(s, jobs)]
        tasks: list[Task] = [(k, i, (a, b)) for k, (i, a, b) in enumerate(planned)]
        return tasks, iter(tasks)

    def blocks() -> Iterator[Task]:
        k = before = 0
        for i, s in enumerate(sources):
            with open(s, "rb") as f:
                for block, first in paths_blocks(f, s, PATHS_BLOCK, numbered=False, taper=os.path.getsize(s)):
                    yield k, i, (block, first, before)
                    before += len(block)
                    k += 1

    return None, blocks()


def collect(sources: list[str], tmp: str, akeys: KeyRuns, rkeys: KeyRuns, complex_: Complex, *,
            fmt: str = "metta", jobs: int | None = None,
            progress: Callable[[int, int], None] | None = None, number: Numbering) -> CollectReport:
    """Read MeTTa files (`fmt` "metta") or MORK dumps ("paths") into `akeys`, `rkeys` and `complex_`,
    numbering the atoms in input order (`number`; `akeys` keeps its suffix).

    See the module doc; `jobs` None = the cores.  Run files go to `tmp`.
    Raises ParseError or DecodeError; the caller then discards the runs.  Each
    process keeps up to `bulk.RUN_KEYS` keys in memory before it spills.
    """
    t0 = time.perf_counter()
    report = CollectReport(files=list(sources))
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if fmt == "paths":
        # compressed ~4x: a dump is worth sharing when its records would be as a text file
        big = sum(os.path.getsize(s) for s in sources) * 4 >= 2 * MIN_CHUNK
        planned, tasks = _tasks(sources, fmt, jobs) if big and jobs > 1 else (None, iter(()))
        nworkers = jobs - 1 if big else 0
    else:
        planned, tasks = _tasks(sources, fmt, jobs)
        nworkers = min(jobs - 1, len(planned or ()) - 1)
    if nworkers > 0 and _parallel(sources, fmt, tasks, nworkers, tmp, akeys, rkeys, complex_, bulk_mod.RUN_KEYS,
                                  progress, report, number):
        report.seconds = time.perf_counter() - t0
        return report
    if nworkers > 0:  # a range did not parse on its own: read everything again in order, for the real error
        akeys.discard()
        rkeys.discard()
        complex_.clear()
        report = CollectReport(files=list(sources))
    _sequential(sources, fmt, akeys, rkeys, complex_, bulk_mod.RUN_KEYS, progress, report, number)
    report.seconds = time.perf_counter() - t0
    return report


def _parallel(sources: list[str], fmt: str, tasks: Iterator[Task], nworkers: int, tmp: str, akeys: KeyRuns,
              rkeys: KeyRuns, complex_: Complex, budget: int, progress: Callable[[int, int], None] | None,
              report: CollectReport, number: Numbering) -> bool:
    """Run `tasks` in the parent and `nworkers` forked workers; False if some task did not parse."""
    import multiprocessing  # only loads that share their work pay for importing it

    ctx = multiprocessing.get_context("fork")
    if fmt == "paths":
        block_keys(b"")  # compiles its regex once, before the fork
    reader = _Reader(sources, fmt, number)
    todo = ctx.Queue()
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(reader, todo, results, tmp, budget), daemon=True)
             for _ in range(nworkers)]
    for p in procs:
        p.start()
    report.workers = nworkers
    # what each finished chunk leaves: its counts summed, its complex atoms (rare) by chunk; nothing
    # small is kept per chunk, since an object that lives to the end of the load among freed keys
    # keeps its whole arena resident (bulk's module doc): 100M atoms, ~110 chunks, held ~70 MB so
    done = _Finished()
    state = {"failed": False, "finished": 0, "sent": 0, "received": 0}
    error: list[BaseException] = []

    def take(block: bool) -> bool:
        """Handle one result; False if none came."""
        try:
            kind, value = results.get(timeout=0.2) if block else results.get_nowait()
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead and not error:
                error.append(MettaDBError(f"a load worker died (exit code {dead[0].exitcode}); nothing was written"))
            return False
        if kind == "done":
            state["finished"] += 1
            return True
        state["received"] += 1
        if kind == "ok":
            akeys.adopt(value.akeys)
            rkeys.adopt(value.rkeys)
            done.add(value)
            if progress is not None:
                progress(done.bytes_read, done.read)
        elif kind == "malformed":
            state["failed"] = True
        elif not error:
            error.append(value)
        return True

    ahead = 2 * nworkers if fmt == "paths" else nworkers  # tasks queued for the workers
    try:
        while True:
            try:
                task = next(tasks)
            except StopIteration:
                break
            except DecodeError:  # a truncated or corrupt dump: the one-pass read names the record
                state["failed"] = True
                break
            while take(block=False):
                pass
            if state["failed"] or error:
                break
            if state["sent"] - state["received"] < ahead:
                todo.put(_spooled(task, tmp) if fmt == "paths" else task)
                state["sent"] += 1
                continue
            try:
                done.add(reader.run(task, akeys, rkeys, budget))
            except (MalformedRange, DecodeError):
                state["failed"] = True
                break
        # all read: the tasks still queued are taken back, not left waiting for a worker's current one
        while not (state["failed"] or error):
            try:
                task = todo.get(timeout=0.01)
            except queue.Empty:
                break
            try:
                done.add(reader.run(task, akeys, rkeys, budget))
            except (MalformedRange, DecodeError):
                state["failed"] = True
        if not (state["failed"] or error):
            # the loader's own keys, sorted while the workers finish (the merge then finds them sorted)
            akeys.keys.sort()
            rkeys.keys.sort()
    finally:
        for _ in procs:
            todo.put(None)
        while state["finished"] < nworkers and not (error and any(p.exitcode not in (None, 0) for p in procs)):
            take(block=True)
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
        todo.close()
        results.close()
    if error:
        raise error[0]
    if state["failed"] or not done.whole():
        return False
    for i in sorted(done.complex_):  # in input order: an atom's first occurrence names its variables
        _merge_complex(complex_, done.complex_[i])
    report.read += done.read
    report.bangs += done.bangs
    report.bytes_read += done.bytes_read
    report.chunks = done.chunks
    return True


class _Finished:
    """The chunks a parallel collect has finished: which (a bitmap), their counts, their complex atoms."""

    def __init__(self) -> None:
        self.seen = bytearray()
        self.chunks = self.read = self.bangs = self.bytes_read = 0
        self.complex_: dict[int, Complex] = {}

    def add(self, r: _ChunkResult) -> None:
        if r.index >= len(self.seen):
            self.seen.extend(bytes(r.index + 1 - len(self.seen)))
        self.seen[r.index] = 1
        self.chunks += 1
        self.read += r.read
        self.bangs += r.bangs
        self.bytes_read += r.bytes_read
        if r.complex_:
            self.complex_[r.index] = r.complex_

    def whole(self) -> bool:
        """Whether every chunk from the first to the last finished was."""
        return self.chunks == len(self.seen) and all(self.seen)
