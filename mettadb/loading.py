"""Loading MeTTa text and MORK `.paths` dumps into a store: all or nothing.

Small inputs go through one write transaction (`Store.write`).  Large ones
are sorted in bounded memory (`bulk.KeyRuns`) and written into the store's
inactive database slot over many transactions, then made visible by one
final transaction that flips `meta.slot` (`SlotBuilder`; docs/FORMAT.md).
"""

from __future__ import annotations

import bisect
import errno
import functools
import gc
import hashlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, BinaryIO

from . import bulk as bulk_mod
from . import pload
from .bulk import KeyRuns, Numbering
from .errors import MettaDBError, SpaceFullError
from .interchange import read_paths
from .keys import MAX_PLAIN, path_head_key
from .layout import FIRST_SEQ, Record, pack_seq, pack_value, u32_seq, unpack_value
from .store import SLOTTED, PathLike, Store
from .transcode import Transcoded, transcode_file
from .writer import LOADED_PREFIX, Writer

if TYPE_CHECKING:
    from .env import Dbs, Txn

__all__ = ["BULK_MIN_BYTES", "DELTA_MAX", "LoadReport", "load", "load_paths"]

#: inputs at least this large (and at least a quarter of the space) load in bulk mode
BULK_MIN_BYTES = 8 << 20
#: keys per staged transaction of a bulk load
BULK_COMMIT_ROWS = 500_000
#: a set-union bulk load adding at most this many atoms writes them into the live slot in one
#: transaction instead of building the other slot (bounds that transaction's dirty pages)
DELTA_MAX = 50_000

Source = PathLike | BinaryIO


@dataclass
class LoadReport:
    """What one `load` did."""

    files: list[str] = field(default_factory=list)
    read: int = 0
    added: int = 0
    present: int = 0
    bangs: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    #: "single" (one write transaction) or "bulk" (staged, see `load`)
    mode: str = "single"
    #: bulk loads: worker processes that parsed, and seconds per stage (parse, merge, append, commit, ...)
    workers: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Atoms read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The one-line report the CLI prints."""
        noun = "atom" if self.read == 1 else "atoms"
        return (
            f"loaded {self.read:,} {noun}: {self.added:,} added, {self.present:,} already present"
            f" in {self.seconds:.2f} s ({self.rate:,.0f} atoms/s)"
        )


class Fingerprint:
    """The digest of the contents of a load's files, in order, and their sizes and times at reading.

    A set-union load of files whose digest the space has noted (`Writer.note_loaded`, kept until a
    removal) adds nothing and reads nothing but the files' bytes.  The digest is taken before the
    load; the load notes it only if no file changed size or time meanwhile."""

    def __init__(self, fmt: str, paths: list[str]) -> None:
        self.paths = paths
        self.stats = [self._stat(p) for p in paths]
        h = hashlib.sha256(fmt.encode())
        for p, (size, _) in zip(paths, self.stats):
            h.update(size.to_bytes(8, "big"))
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        self.digest = h.digest()

    @staticmethod
    def _stat(path: str) -> tuple[int, int]:
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns

    @classmethod
    def of(cls, fmt: str, sources: tuple[Source, ...]) -> Fingerprint | None:
        """The fingerprint of `sources` if they are all regular files, else None."""
        paths = [os.fspath(s) for s in sources if isinstance(s, (str, os.PathLike))]
        if not paths or len(paths) != len(sources):
            return None
        try:
            if not all(os.path.isfile(p) for p in paths):
                return None
            return cls(fmt, paths)
        except OSError:
            return None  # the load itself says what is wrong with the file

    def unchanged(self) -> bool:
        """Whether every file still has the size and time it had when digested."""
        try:
            return [self._stat(p) for p in self.paths] == self.stats
        except OSError:
            return False

    def seen(self, store: Store) -> LoadReport | None:
        """The report of loading these files again if the space noted them (nothing is written)."""
        noted = store.meta(LOADED_PREFIX + self.digest)
        if noted is None:
            return None
        read, bangs = noted
        return LoadReport(files=list(self.paths), read=read, present=read, bangs=bangs,
                          bytes_read=sum(size for size, _ in self.stats), mode="unchanged")

    def note(self, w: Writer, report: LoadReport) -> None:
        """Note the files in `w`'s transaction (the load's own) if they did not change while loaded."""
        if self.unchanged():
            w.note_loaded(self.digest, report.read, report.bangs)


def _readable(sources: tuple[Source, ...], jobs: object = None) -> None:
    """MettaDBError for a path that names a directory or nothing (before anything is read); TypeError or
    ValueError for a source that is neither a path nor a binary stream, or a `jobs` that is not a count."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)):
        raise TypeError(f"jobs must be a number of processes (or None: the cores), not {jobs!r}")
    if isinstance(jobs, int) and jobs < 0:
        raise ValueError(f"jobs must be 0 or more (0 or 1: this process only), not {jobs}")
    for s in sources:
        if isinstance(s, (str, os.PathLike)):
            if os.path.isdir(s):
                raise MettaDBError(f"cannot read {_name(s)}: it is a directory")
            if not os.path.exists(s):
                raise MettaDBError(f"cannot read {_name(s)}: no such file")
        elif isinstance(s, io.TextIOBase):
            raise TypeError(f"{_name(s)} is a text stream: open it in binary mode ('rb')")
        elif not callable(getattr(s, "read", None)):
            raise TypeError(f"a source is a path or a binary stream, not {type(s).__name__}")


def _counted(report: LoadReport, duplicates: bool) -> LoadReport:
    """With duplicates every atom read is added (a copy where it was there): say so."""
    if duplicates:
        report.added, report.present = report.read, 0
    return report


def _is_path(s: object) -> bool:
    return isinstance(s, (str, os.PathLike))


def _name(s: Any) -> str:
    return os.fspath(s) if _is_path(s) else str(getattr(s, "name", "<stream>"))


class _GcPaused:
    """The load allocates no cycles; collection passes only cost time."""

    def __enter__(self) -> None:
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was:
            gc.enable()


def load(store: Store, *sources: Source, duplicates: bool = False,
         progress: Callable[[int, int], None] | None = None, bulk: bool | None = None,
         jobs: int | None = None) -> LoadReport:
    """Load MeTTa files (paths or binary streams) into `store`: all or nothing.

    By default a set union (atoms already present are not added again);
    `duplicates=True` adds a copy for every occurrence.  `!` expressions are
    counted, not evaluated.  Raises ParseError naming file, line and column;
    the space is then exactly as it was.  A load that adds nothing commits
    nothing.  `bulk` (default: chosen from the input's size) sorts in bounded
    memory and builds the inactive slot, still all or nothing; its files are
    parsed by `jobs` processes (default: the cores; see `pload`) when they are
    large enough to share.
    """
    t0 = time.perf_counter()
    size = 0
    _readable(sources, jobs)
    for s in sources:
        if isinstance(s, (str, os.PathLike)):
            try:
                size += os.path.getsize(s)
            except OSError as e:
                raise MettaDBError(f"cannot read {_name(s)}: {e.strerror}") from None
    positions: list[int | None] = []
    for s in sources:
        positions.append(None if isinstance(s, (str, os.PathLike)) or not s.seekable() else s.tell())
    store.require_writable()
    in_txn = store.current_writer() is not None
    fp = None if duplicates or in_txn else Fingerprint.of("metta", sources)
    if fp is not None and (seen := fp.seen(store)) is not None:
        seen.seconds = time.perf_counter() - t0
        return seen
    if bulk is None:
        bulk = all(_is_path(s) for s in sources) and size >= max(BULK_MIN_BYTES, store.used_bytes() // 4)
    if bulk and not in_txn and store.slot_dbs(1) is not None:
        with _GcPaused():
            report = _bulk_load(store, sources, positions, duplicates, progress, "metta", jobs, fp)
        report.seconds, report.mode = time.perf_counter() - t0, "bulk"
        return _counted(report, duplicates)

    def run(w: Writer) -> LoadReport:
        report = LoadReport()
        add = w.add_path
        union = not duplicates
        aput = w.txn.cursor(db=w.atoms).put
        rput = w.txn.cursor(db=w.rev).put
        heads = w.head_delta
        seq = w.peek_seq()  # new atoms are numbered in input order
        # numbers from FIRST_SEQ below 2**32 are msgpack uint32: packed without a test
        pack = u32_seq if FIRST_SEQ <= seq and seq + size < 0x100000000 else pack_seq
        done_before = 0
        added = present = fast_new = 0
        grouped: dict[bytes, tuple[list[bytes] | None, list[tuple[list[str] | None, int, int]]]] = {}
        for s, pos in zip(sources, positions):
            if pos is not None and not isinstance(s, (str, os.PathLike)):
                s.seek(pos)
            st = Transcoded(_name(s))
            report.files.append(st.source)
            for path, names, tokens in transcode_file(s, st):
                if names is None and len(path) <= MAX_PLAIN and union:
                    # the hot loop: a ground atom with a plain key, set-union semantics
                    if aput(path, pack(seq), True, False):
                        seq += 1
                        added += 1
                        fast_new += 1
                        if tokens is not None:
                            rput(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]), b"", True, True)
                            hk = path[: 2 + (path[1] & 0x3F)]
                        else:
                            hk = path_head_key(path)
                        hd = heads.get(hk)
                        if hd is None:
                            hd = heads[hk] = [0, 0]
                        hd[0] += 1
                        hd[1] += 1
                    else:
                        present += 1
                elif names is not None:
                    # an atom with variables: numbered now, written with the others of its path at the
                    # end (a path may hold many atoms equal up to variable names: one write each path)
                    group = grouped.get(path)
                    if group is None:
                        grouped[path] = (tokens, [(names, 1, seq)])
                    else:
                        group[1].append((names, 1, seq))
                    seq += 1
                else:
                    w.set_seq(seq)
                    if add(path, names, tokens, 1, union):
                        added += 1
                    else:
                        present += 1
                    seq = w.peek_seq()
                if progress is not None and not (added + present) & 0xFFFF:
                    progress(done_before + st.bytes_read, added + present)
            done_before += st.bytes_read
            report.bangs += st.bangs
            report.bytes_read += st.bytes_read
        w.set_seq(seq)
        for path, (tokens, atoms) in grouped.items():
            n = w.add_variants(path, tokens, atoms, union)
            added += n
            present += len(atoms) - n
        w.total_delta += fast_new
        w.distinct_delta += fast_new
        if fast_new:
            w.changed = True
            w.version += 1
        report.added, report.present = added, present
        report.read = added + present
        if fp is not None and added:
            fp.note(w, report)
        return report

    with _GcPaused():
        done: LoadReport = store.write(run, size * 6)
    done.seconds = time.perf_counter() - t0
    return _counted(done, duplicates)


def load_paths(store: Store, *sources: Source, duplicates: bool = False, bulk: bool | None = None,
               jobs: int | None = None) -> LoadReport:
    """Load MORK `.paths` dumps, all or nothing (set union unless duplicates); `bulk` and `jobs` as for `load`."""
    t0 = time.perf_counter()
    store.require_writable()
    _readable(sources, jobs)
    fp = None if duplicates or store.current_writer() is not None else Fingerprint.of("paths", sources)
    if fp is not None and (seen := fp.seen(store)) is not None:
        seen.seconds = time.perf_counter() - t0
        return seen
    if bulk is None:
        size = sum(os.path.getsize(s) for s in sources if isinstance(s, (str, os.PathLike)) and os.path.exists(s))
        bulk = all(_is_path(s) for s in sources) and size * 4 >= max(BULK_MIN_BYTES, store.used_bytes() // 4)
    if bulk and store.current_writer() is None and store.slot_dbs(1) is not None:
        with _GcPaused():
            report = _bulk_load(store, sources, [None] * len(sources), duplicates, None, "paths", jobs, fp)
        report.seconds, report.mode = time.perf_counter() - t0, "bulk"
        return _counted(report, duplicates)

    def run(w: Writer) -> LoadReport:
        report = LoadReport()
        for s in sources:
            report.files.append(_name(s))
            f = open(s, "rb") if isinstance(s, (str, os.PathLike)) else s
            try:
                for path, names in read_paths(f, _name(s)):
                    if w.add_path(path, names, None, 1, not duplicates):
                        report.added += 1
                    else:
                        report.present += 1
            finally:
                if f is not s:
                    f.close()
        report.read = report.added + report.present
        if fp is not None and report.added:
            fp.note(w, report)
        return report

    done: LoadReport = store.write(run)
    done.seconds = time.perf_counter() - t0
    return _counted(done, duplicates)


# ---------------------------------------------------------------------- bulk loads

def _by_path(complex_: pload.Complex, shift: int, union: bool
             ) -> dict[bytes, tuple[list[bytes] | None, list[tuple[list[str] | None, int, int]]]]:
    """A bulk load's complex atoms grouped by path, for `Writer.add_variants`: (tokens, [(names, copies,
    number)]) in input order (one copy each under set union)."""
    out: dict[bytes, tuple[list[bytes] | None, list[tuple[list[str] | None, int, int]]]] = {}
    for path, names, tokens, occurrences, seq in complex_.values():
        item = (names, 1 if union else occurrences, seq + shift)
        got = out.get(path)
        if got is None:
            out[path] = (tokens, [item])
        else:
            got[1].append(item)
    return out


def _clean_stale_load_dirs(path: str) -> None:
    """Remove run files left by bulk loads whose process is gone."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        if not name.startswith(".load-"):
            continue
        try:
            pid = int(name.split("-")[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(path, name), ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            pass


class _BulkLock:
    """An exclusive advisory lock serialising bulk loads of one space (released by the OS on a crash)."""

    def __init__(self, path: str) -> None:
        self._path = os.path.join(path, "bulk.lock")
        self._fd = -1

    def __enter__(self) -> _BulkLock:
        import fcntl

        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)  # closing releases the lock


def _bulk_load(store: Store, sources: tuple[Source, ...], positions: list[int | None], duplicates: bool,
               progress: Callable[[int, int], None] | None, fmt: str, jobs: int | None,
               fp: Fingerprint | None) -> LoadReport:
    """Parse into sorted runs, then build the inactive slot and flip to it (see `load`)."""
    _clean_stale_load_dirs(store.path)
    try:
        tmp = tempfile.mkdtemp(prefix=f".load-{os.getpid()}-", dir=store.path)
    except OSError as e:
        raise MettaDBError(f"cannot write the load's sorted runs in {store.path}: {e.strerror}") from None
    union = not duplicates
    # atoms are numbered in input order from the space's next number, by their position in the
    # input (text: byte offset; `.paths`: decompressed bytes / 5): gaps are harmless
    with store.read() as rtxn:
        raw = rtxn.get(b"seq", db=store.meta_db)
    next_seq = int(unpack_value(raw)) if raw is not None else 0
    if all(_is_path(s) for s in sources):
        size = sum(os.path.getsize(_name(s)) for s in sources)
        number = Numbering.spanning(next_seq, size if fmt == "metta" else size * 256)  # zlib: at most ~1032:1
    else:
        number = Numbering.spanning(next_seq, 1 << 31)
    base = number.base
    try:
        with KeyRuns(tmp, "atoms", suffix=number.width) as akeys, KeyRuns(tmp, "rev") as rkeys:
            report = LoadReport()
            complex_: pload.Complex = {}  # key -> [path, names, tokens, occurrences, sequence number]
            t = time.perf_counter()
            if all(_is_path(s) for s in sources):
                got = pload.collect([_name(s) for s in sources], tmp, akeys, rkeys, complex_, fmt=fmt, jobs=jobs,
                                    progress=progress, number=number)
                report.files, report.read, report.bangs, report.bytes_read = got.files, got.read, got.bangs, got.bytes_read
                report.workers = got.workers
            else:
                done_before = 0
                for s, pos in zip(sources, positions):
                    if pos is not None and not isinstance(s, (str, os.PathLike)):
                        s.seek(pos)
                    st = Transcoded(_name(s))
                    report.files.append(st.source)

                    def tick(n: int, st: Transcoded = st, before: int = done_before, read: int = report.read) -> None:
                        if progress is not None:
                            progress(before + st.bytes_read, read + n)

                    if fmt == "metta":
                        report.read += pload.collect_text(functools.partial(pload.text_items, s, st), akeys, rkeys,
                                                          complex_, bulk_mod.RUN_KEYS, tick, number=number,
                                                          seq=base + done_before)
                    elif isinstance(s, (str, os.PathLike)):
                        with open(s, "rb") as f:
                            report.read += pload.collect_paths(f, st, akeys, rkeys, complex_, bulk_mod.RUN_KEYS, tick,
                                                               number=number, before=done_before)
                    else:
                        report.read += pload.collect_paths(s, st, akeys, rkeys, complex_, bulk_mod.RUN_KEYS, tick,
                                                           number=number, before=done_before)
                    done_before += st.bytes_read
                    report.bangs += st.bangs
                    report.bytes_read += st.bytes_read
            report.stages["parse"] = time.perf_counter() - t
            held = len(akeys.keys) + len(rkeys.keys)
            small = held + akeys.spilled + rkeys.spilled <= 2 * bulk_mod.RUN_KEYS
            if (akeys.spilled or rkeys.spilled) and not small:
                # a large load that already has runs on disk merges from files alone: keys left in
                # memory (up to the budget, by chance) would be held through both merges
                akeys.spill()
                rkeys.spill()
            # a small one (the loader's share of a parallel load) keeps them: they are no more than it held
            # while parsing, and writing and re-reading them took ~0.1 s of a 1M-atom load's serial tail
            akeys.hold = rkeys.hold = small
            end = base + (report.bytes_read if fmt == "metta" else report.bytes_read // 5 + 1)
            with _BulkLock(store.path):
                for _attempt in range(3):
                    builder = SlotBuilder(store, union, number, end)
                    if fp is not None:
                        builder.note = functools.partial(fp.note, report=report)
                    added = builder.build(akeys, rkeys, complex_)
                    for k, v in builder.stages.items():
                        report.stages[k] = report.stages.get(k, 0.0) + v
                    if added is not None:
                        report.added = added
                        report.present = report.read - added
                        return report
            raise MettaDBError(f"{store.path} kept changing during the bulk load; nothing was written, try again")
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        raise SpaceFullError(f"no space left on the device holding {store.path} for the load's sorted runs; "
                             "the space is unchanged") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _by_head(keys: list[bytes], heads: dict[bytes, list[int]], put: Callable[[int, int], int]) -> int:
    """Write sorted `keys` one head's run at a time (`put(i, j)` writes `keys[i:j]` and says how many
    were new), count the new ones per head in `heads`; returns them all."""
    added = 0
    i, n = 0, len(keys)
    while i < n:  # sorted keys: one head's atoms are one run
        hk = path_head_key(keys[i])
        j = bisect.bisect_left(keys, _successor(hk), i) if len(hk) > 1 else i + 1
        new = put(i, j)
        d = heads.get(hk)
        if d is None:
            d = heads[hk] = [0, 0]
        d[0] += new
        d[1] += new
        added += new
        i = j
    return added


def _successor(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string starting with `prefix`."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else b"\xff" * (len(prefix) + 1)


def _old_range(txn: Txn, db: Any, lo: bytes, hi: bytes | None) -> dict[bytes, bytes]:
    """The rows of `db` in [lo, hi)."""
    cur = txn.cursor(db=db)
    out: dict[bytes, bytes] = {}
    if not cur.set_range(lo):
        return out
    for k, v in cur.iternext():
        if hi is not None and k >= hi:
            break
        out[k] = v
    return out


def _keys_between(cur: Any, lo: bytes, hi: bytes | None) -> list[bytes]:
    """The keys from lo (inclusive) to hi (exclusive; None: to the end), in order."""
    out: list[bytes] = []
    if not cur.set_range(lo):
        return out
    if hi is None:
        out.extend(cur.iternext(keys=True, values=False))
        return out
    for k in cur.iternext(keys=True, values=False):
        if k >= hi:
            break
        out.append(k)
    return out


class _Conflict(Exception):
    """Another writer committed meanwhile: the staged build is abandoned (nothing visible was written)."""


Batch = list[tuple[bytes, "bytes | None", list[bytes]]]


class SlotBuilder:
    """Builds the inactive slot from the live one merged with sorted runs, in staged transactions, then flips.

    Each staged transaction first checks that the generation and the live slot
    are those the build started from; if not, the build is abandoned (the
    inactive slot is invisible to readers) and `build` returns None.
    """

    def __init__(self, store: Store, union: bool, number: Numbering, end: int) -> None:
        self.store = store
        self.union = union
        with store.read() as rtxn:
            self.gen0 = rtxn.get(b"generation", db=store.meta_db)
            raw = rtxn.get(b"seq", db=store.meta_db)
        #: the keys' suffixes hold sequence numbers from `number.base`; a write since the load began
        #: moved `meta.seq`, and they are shifted by as much (rare: each is then packed again)
        self.width = number.width
        self.shift = number.first(int(unpack_value(raw)) if raw is not None else 0) - number.base
        #: `meta.seq` after the load
        self.end = end + self.shift
        self.src = store.slot
        self.dst = 1 - self.src
        sdb, ddb = store.slot_dbs(self.src), store.slot_dbs(self.dst)
        assert sdb is not None and ddb is not None
        self.sdb: Dbs = sdb
        self.ddb: Dbs = ddb
        self.head_delta: dict[bytes, list[int]] = {}
        self.total = 0  # copies added
        self.distinct = 0  # distinct atoms added
        #: seconds per stage: "delta check", "merge" (sorted runs merged and sorted), "append"
        #: (merged with the live slot and written), "commit" (incl. fsync), "flip"
        self.stages: dict[str, float] = {}
        #: called with the writer of the transaction that makes the load visible, if it adds anything
        self.note: Callable[[Writer], None] | None = None

    def staged(self, fn: Callable[[Txn], Any], stage: str = "append") -> Any:
        """Run fn in its own write transaction (redone after growing a full map); _Conflict if the space moved on.

        fn's time counts to `stage`, the rest (begin, commit and its fsync) to "commit".
        """
        meta = self.store.meta_db
        inner = [0.0]

        def body(txn: Txn) -> Any:
            if txn.get(b"generation", db=meta) != self.gen0 or txn.get(b"slot", db=meta) != pack_value(self.src):
                raise _Conflict
            t = time.perf_counter()
            result = fn(txn)
            inner[0] = time.perf_counter() - t
            return result

        t0 = time.perf_counter()
        try:
            return self.store.in_write_txn(body)
        finally:
            self._add(stage, inner[0])
            self._add("commit", time.perf_counter() - t0 - inner[0])

    def _add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def split(self, keys: list[bytes]) -> tuple[list[bytes], list[bytes]]:
        """Sorted suffixed keys -> (the primary keys, their records: the sequence numbers)."""
        w = self.width
        ks = [k[:-w] for k in keys]
        if not self.shift:
            return ks, [k[-w:] for k in keys]
        shift = self.shift
        return ks, [pack_seq(int.from_bytes(k[1 - w:], "big") + shift) for k in keys]

    def build(self, akeys: KeyRuns, rkeys: KeyRuns, complex_: pload.Complex) -> int | None:
        """Merge, flip, and return how many distinct atoms were added; None if a writer intervened.

        A set-union load that adds few atoms (up to `DELTA_MAX`, found by
        probing the live slot with the sorted keys) writes them into the live
        slot in one transaction instead: a load that adds nothing copies
        nothing and commits nothing.
        """
        try:
            if self.union:
                t = time.perf_counter()
                new = self._delta(akeys)
                self._add("delta check", time.perf_counter() - t)
                if new is not None:
                    return self._apply_delta(new, complex_)
            self.store.ensure_headroom(self.store.used_bytes() + (8 << 20))
            self.staged(self._clear, "flip")  # also removes leftovers of an interrupted bulk load
            self._merge(akeys, self._atoms_batch)
            self._merge(rkeys, self._rev_batch)
            self.staged(self._copy_vx, "flip")
            added = int(self.staged(lambda txn: self._flip(txn, complex_), "flip"))
        except _Conflict:
            return None
        with self.store.read():
            pass  # now reading the new slot
        return added

    def _delta(self, akeys: KeyRuns) -> dict[bytes, bytes] | None:
        """The distinct keys absent from the live slot with their records (the first copy's number), in
        key order, or None when there are more than DELTA_MAX."""
        new: dict[bytes, bytes] = {}
        with self.store.read() as txn:
            if txn.get(b"generation", db=self.store.meta_db) != self.gen0:
                raise _Conflict
            entries = txn.stat(self.sdb.atoms)["entries"]
            if not entries:
                return None
            # a space not much larger than the input: walk its keys range by range beside the input's
            # (sequential, and a reload of the same file compares equal lists); else probe each key
            walk = entries <= 2 * max(1, akeys.count())
            cur = txn.cursor(db=self.sdb.atoms)
            for lo, hi, keys in akeys.buckets():
                ks, vs = self.split(keys)
                if walk:
                    have_keys = _keys_between(cur, lo, hi)
                    if have_keys == ks or have_keys == list(dict.fromkeys(ks)):
                        continue  # every key of the range is held
                    have: set[bytes] | dict[bytes, bytes] = set(have_keys)
                else:
                    found = cur.getmulti(ks)  # copies of a key are each found: equal lengths = nothing new
                    if len(found) == len(ks):
                        continue
                    have = {k for k, _ in found}
                for k, v in zip(ks, vs):
                    if k not in have and k not in new:
                        new[k] = v
                if len(new) > DELTA_MAX:
                    return None
        return new

    def _apply_delta(self, new: dict[bytes, bytes], complex_: pload.Complex) -> int:
        """Add the new keys and the complex atoms to the live slot in one transaction (none if nothing changes)."""
        meta = self.store.meta_db
        inner = [0.0]

        def run(w: Writer) -> int:
            if w.txn.get(b"generation", db=meta) != self.gen0:
                raise _Conflict
            t = time.perf_counter()
            added = 0
            for k, v in new.items():
                added += int(w.add_path(k, None, None, 1, True, seq=unpack_value(v)))
            for path, (tokens, atoms) in _by_path(complex_, self.shift, True).items():
                added += w.add_variants(path, tokens, atoms, True)
            if added:
                w.set_seq(max(w.peek_seq(), self.end))
                if self.note is not None:
                    self.note(w)
            inner[0] = time.perf_counter() - t
            return added

        t0 = time.perf_counter()
        added = int(self.store.write(run, 512 * (len(new) + len(complex_))))
        self._add("append", inner[0])
        self._add("commit", time.perf_counter() - t0 - inner[0])
        return added

    def _clear(self, txn: Txn) -> None:
        for name in SLOTTED:
            txn.drop(getattr(self.ddb, name.decode()), delete=False)

    def _merge(self, runs: KeyRuns, make: Callable[[Txn, Batch], Any]) -> None:
        batch: Batch = []
        rows = 0
        buckets = runs.buckets()
        while True:
            t = time.perf_counter()
            bucket = next(buckets, None)
            self._add("merge", time.perf_counter() - t)
            if bucket is None:
                break
            batch.append(bucket)
            rows += len(bucket[2])
            if rows >= BULK_COMMIT_ROWS:
                self._commit_batch(make, batch)
                batch, rows = [], 0
        if batch:
            self._commit_batch(make, batch)

    def _commit_batch(self, make: Callable[[Txn, Batch], Any], batch: Batch) -> None:
        result = self.staged(lambda txn: make(txn, batch))
        if result is not None:
            heads, total, distinct = result
            for hk, (dd, dt) in heads.items():
                d = self.head_delta.setdefault(hk, [0, 0])
                d[0] += dd
                d[1] += dt
            self.total += total
            self.distinct += distinct

    def _atoms_batch(self, txn: Txn, batch: Batch) -> tuple[dict[bytes, list[int]], int, int]:
        heads: dict[bytes, list[int]] = {}
        total = distinct = 0
        dcur = txn.cursor(db=self.ddb.atoms)
        for lo, hi, keys in batch:
            old = _old_range(txn, self.sdb.atoms, lo, hi)
            if self.union and not old and not self.shift:
                # the common case, kept to C loops: the keys stay suffixed (prefix-free paths: they sort,
                # and cut into head runs, as the bare keys do), split as they are appended
                w = self.width
                bare, seq = itemgetter(slice(None, -w)), itemgetter(slice(-w, None))

                def put_suffixed(i: int, j: int, keys: list[bytes] = keys, bare: Any = bare, seq: Any = seq) -> int:
                    run = keys[i:j]
                    return int(dcur.putmulti(zip(map(bare, run), map(seq, run)), overwrite=False, append=True)[1])

                new = _by_head(keys, heads, put_suffixed)
                total += new
                distinct += new
                continue
            ks, vs = self.split(keys)  # sorted, copies of a key in input order: the first has its number
            if self.union:
                if old:
                    first: dict[bytes, bytes] = {}
                    for k, v in zip(ks, vs):
                        if k not in old and k not in first:
                            first[k] = v
                    fresh = sorted(first)
                    old.update(first)
                    dcur.putmulti(sorted(old.items()), append=True)
                else:
                    fresh = ks  # sorted, with copies: the append skips them

                def put_fresh(i: int, j: int, fresh: list[bytes] = fresh, vs: list[bytes] = vs,
                              written: bool = bool(old)) -> int:
                    if written:  # merged with the old range and written above
                        return j - i
                    return int(dcur.putmulti(zip(fresh[i:j], vs[i:j]), overwrite=False, append=True)[1])

                new = _by_head(fresh, heads, put_fresh)
                total += new
                distinct += new
            else:
                counts: dict[bytes, list[Any]] = {}
                for k, v in zip(ks, vs):
                    c = counts.get(k)
                    if c is None:
                        counts[k] = [1, v]
                    else:
                        c[0] += 1
                for k, (c, v) in counts.items():
                    hk = path_head_key(k)
                    d = heads.get(hk)
                    if d is None:
                        d = heads[hk] = [0, 0]
                    d[1] += c
                    total += c
                    raw = old.get(k)
                    if raw is None:
                        d[0] += 1
                        distinct += 1
                        old[k] = v if c == 1 else Record.pack(c, unpack_value(v), None, None)
                    else:
                        rec = Record(k, raw)
                        old[k] = Record.pack(rec.count + c, rec.seq, rec.names, None)
                dcur.putmulti(sorted(old.items()), append=True)
        return heads, total, distinct

    def _rev_batch(self, txn: Txn, batch: Batch) -> None:
        dcur = txn.cursor(db=self.ddb.rev)
        for lo, hi, keys in batch:
            old = _old_range(txn, self.sdb.rev, lo, hi)
            merged = sorted(set(keys).union(old)) if old else keys
            dcur.putmulti(zip(merged, repeat(b"")), overwrite=False, append=True)

    def _copy_vx(self, txn: Txn) -> None:
        txn.cursor(db=self.ddb.vx).putmulti(txn.cursor(db=self.sdb.vx).iternext(), dupdata=True)

    def _flip(self, txn: Txn, complex_: pload.Complex) -> int:
        txn.cursor(db=self.ddb.heads).putmulti(txn.cursor(db=self.sdb.heads).iternext(), append=True)
        w = Writer(txn, self.ddb)
        w.set_seq(self.end)
        w.head_delta = {k: list(v) for k, v in self.head_delta.items()}
        w.total_delta, w.distinct_delta = self.total, self.distinct
        added = self.distinct
        for path, (tokens, atoms) in _by_path(complex_, self.shift, self.union).items():
            added += w.add_variants(path, tokens, atoms, self.union)
        w.finish()
        if self.note is not None and added:
            self.note(w)
        txn.put(b"slot", pack_value(self.dst), db=self.store.meta_db)
        for name in SLOTTED:
            txn.drop(getattr(self.sdb, name.decode()), delete=False)
        return added
