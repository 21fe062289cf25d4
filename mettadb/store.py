# mypy: disable-error-code="arg-type,union-attr,type-var,assignment,misc"
# (py-lmdb types every value as bytes | memoryview; mettadb opens transactions with buffers=False,
#  so they are bytes.)
"""The durable space: atoms as keys of an LMDB environment.

Named databases inside one environment (layout in docs/FORMAT.md):

* `meta`   format version, generation, totals (msgpack values)
* `atoms`  primary: storage key of each distinct atom -> msgpack record
* `rev`    reverse index of ground `(h a1 .. an)` atoms, n >= 2 (keys only)
* `vx`     atoms the other paths cannot find by prefix: those with variables
           and those whose path was hashed; key `v` + constant prefix
           (dupsort), value the primary key
* `heads`  statistics: per arity+head bucket, [distinct, total]

`atoms`, `rev`, `vx` and `heads` exist in two slots (the second named `~1`);
`meta.slot` says which one is live.

All writes of one call go through one write transaction, except bulk loads,
which build the inactive slot of format 2 over many transactions and make it
active in one (see `Space.load`); the generation number in `meta` is bumped by
every commit that changes the space.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Union

import lmdb
import msgpack

from .atoms import Atom
from .bindings import EMPTY_BINDINGS, Bindings
from .encoding import decode, encode_with_names, split_tokens
from .errors import (
    FormatVersionError,
    MettaDBError,
    ReadOnlyError,
    SpaceFullError,
)
from .keys import MAX_PLAIN, const_prefix, head_key, is_hashed, path_head_key, reverse_key, storage_key
from .parser import Transcoded, parse_atom, transcode_file

__all__ = [
    "DEFAULT_PATH",
    "FORMAT_VERSION",
    "LoadReport",
    "PathLike",
    "Space",
    "open_space",
]

FORMAT_VERSION = 2
#: the oldest format this release can read without migrating
READABLE_SINCE = 1
DEFAULT_PATH = "metta.db"
PathLike = Union[str, "os.PathLike[str]"]
AtomLike = Union[Atom, str]

_ONE = msgpack.packb(1)
_MIN_MAP = 64 << 20
_DB_NAMES = (b"meta", b"atoms", b"rev", b"vx", b"heads")
#: the databases that come in two slots (format 2): a bulk load builds the inactive
#: slot over several transactions and one final transaction makes it the active one
_SLOTTED = (b"atoms", b"rev", b"vx", b"heads")
#: inputs at least this large (and at least a quarter of the space) load in bulk mode
BULK_MIN_BYTES = 8 << 20
_BULK_COMMIT_ROWS = 500_000


def _slot_name(name: bytes, slot: int) -> bytes:
    return name if slot == 0 or name not in _SLOTTED else name + b"~1"


def _pack(v: Any) -> bytes:
    return msgpack.packb(v, use_bin_type=True)  # type: ignore[no-any-return]


def _unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, use_list=True)


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
    #: "single" (one write transaction) or "bulk" (staged, see `Space.load`)
    mode: str = "single"

    @property
    def rate(self) -> float:
        """Atoms read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The one-line report the CLI prints."""
        return (
            f"loaded {self.read} atoms: {self.added} added, {self.present} already present"
            f" in {self.seconds:.2f} s ({self.rate:,.0f} atoms/s)"
        )


def _reversible(tokens: list[bytes]) -> bool:
    """Whether a ground path goes into the reverse index: `(h a1 .. an)`, n >= 2, symbol head."""
    return len(tokens) > 3 and 3 <= tokens[0][0] < 64 and tokens[1][0] > 0xC0


class _Record:
    """The decoded value of a primary key."""

    __slots__ = ("count", "names", "path")

    def __init__(self, key: bytes, raw: bytes) -> None:
        v = _unpack(raw)
        if isinstance(v, int):
            self.count, self.names, self.path = v, None, key
        else:
            self.count = v[0]
            self.names = v[1] or None
            self.path = v[2] if len(v) > 2 else key

    @staticmethod
    def pack(count: int, names: list[str] | None, path: bytes | None) -> bytes:
        if path is not None:
            return _pack([count, names or [], path])
        if names:
            return _pack([count, names])
        return _ONE if count == 1 else _pack(count)


class _Writer:
    """Index-maintaining writes inside one LMDB write transaction."""

    def __init__(self, space: Space, txn: lmdb.Transaction, dbs: dict[bytes, Any] | None = None) -> None:
        self.space = space
        self.txn = txn
        dbs = dbs if dbs is not None else space._dbs
        self.atoms, self.rev, self.vx, self.heads, self.meta = (
            dbs[b"atoms"], dbs[b"rev"], dbs[b"vx"], dbs[b"heads"], dbs[b"meta"])
        self.head_delta: dict[bytes, list[int]] = {}
        self.total_delta = 0
        self.distinct_delta = 0

    def add_path(self, path: bytes, names: list[str] | None, tokens: list[bytes] | None,
                 count: int = 1, union: bool = False) -> bool:
        """Add `count` copies (or, with union, the atom if absent); True if it was new."""
        key = storage_key(path)
        hashed = len(path) > MAX_PLAIN
        txn = self.txn
        if not hashed and names is None and count == 1:
            if txn.put(key, _ONE, db=self.atoms, overwrite=False):
                self._indexed(key, path, names, tokens, hashed, 1, True)
                return True
            if union:
                return False
            old = _Record(key, txn.get(key, db=self.atoms))
            txn.put(key, _Record.pack(old.count + 1, old.names, None), db=self.atoms)
            self._count(path, tokens, 1, False)
            return False
        raw = txn.get(key, db=self.atoms)
        if raw is not None:
            if union:
                return False
            old = _Record(key, raw)
            txn.put(key, _Record.pack(old.count + count, old.names, path if hashed else None), db=self.atoms)
            self._count(path, tokens, count, False)
            return False
        txn.put(key, _Record.pack(count, names, path if hashed else None), db=self.atoms)
        self._indexed(key, path, names, tokens, hashed, count, True)
        return True

    def _indexed(self, key: bytes, path: bytes, names: list[str] | None, tokens: list[bytes] | None,
                 hashed: bool, count: int, new: bool) -> None:
        if names is not None or hashed:
            toks = tokens if tokens is not None else split_tokens(path)
            self.txn.put(b"v" + const_prefix(toks)[0], key, db=self.vx, dupdata=True)
            self.space._vx_cache, self.space._vx_touched_by = None, self
        else:
            if tokens is None and 3 <= path[0] < 64:
                tokens = split_tokens(path)
            if tokens is not None and _reversible(tokens):
                self.txn.put(reverse_key(tokens), b"", db=self.rev)
        self._count(path, tokens, count, new)

    def _count(self, path: bytes, tokens: list[bytes] | None, count: int, new: bool) -> None:
        hk = head_key(tokens) if tokens is not None else path_head_key(path)
        d = self.head_delta.get(hk)
        if d is None:
            d = self.head_delta[hk] = [0, 0]
        d[1] += count
        self.total_delta += count
        if new:
            d[0] += 1
            self.distinct_delta += 1

    def remove_path(self, path: bytes, count: int = 1) -> int:
        """Remove up to `count` copies; returns how many were removed."""
        key = storage_key(path)
        txn = self.txn
        raw = txn.get(key, db=self.atoms)
        if raw is None:
            return 0
        rec = _Record(key, raw)
        n = min(count, rec.count)
        toks = split_tokens(rec.path)
        hk = path_head_key(rec.path)
        d = self.head_delta.setdefault(hk, [0, 0])
        d[1] -= n
        self.total_delta -= n
        if n == rec.count:
            txn.delete(key, db=self.atoms)
            if rec.names is not None or is_hashed(key):
                txn.delete(b"v" + const_prefix(toks)[0], key, db=self.vx)
                self.space._vx_cache, self.space._vx_touched_by = None, self
            elif _reversible(toks):
                txn.delete(reverse_key(toks), db=self.rev)
            d[0] -= 1
            self.distinct_delta -= 1
        else:
            txn.put(key, _Record.pack(rec.count - n, rec.names, rec.path if is_hashed(key) else None), db=self.atoms)
        return n

    def finish(self) -> int:
        """Write statistics and bump the generation; returns the new generation."""
        txn = self.txn
        for hk, (dd, dt) in self.head_delta.items():
            raw = txn.get(hk, db=self.heads)
            cur = _unpack(raw) if raw is not None else [0, 0]
            cur = [cur[0] + dd, cur[1] + dt]
            if cur[0] <= 0:
                txn.delete(hk, db=self.heads)
            else:
                txn.put(hk, _pack(cur), db=self.heads)
        meta = self.meta
        if self.total_delta or self.distinct_delta:
            txn.put(b"atoms", _pack(_unpack(txn.get(b"atoms", db=meta) or b"\x00") + self.total_delta), db=meta)
            txn.put(b"distinct", _pack(_unpack(txn.get(b"distinct", db=meta) or b"\x00") + self.distinct_delta),
                    db=meta)
        gen = _unpack(txn.get(b"generation", db=meta) or b"\x00") + 1
        txn.put(b"generation", _pack(gen), db=meta)
        self.space._plan_stats.clear()
        self.head_delta = {}
        self.total_delta = self.distinct_delta = 0
        return int(gen)


def _successor(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string starting with `prefix`."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else b"\xff" * (len(prefix) + 1)


def _clean_stale_load_dirs(path: str) -> None:
    """Remove run files left by bulk loads whose process is gone."""
    import shutil

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


_ENV_LOCK = threading.Lock()
_ENVS: dict[str, list[Any]] = {}  # realpath -> [env, refcount, readonly]


def _is_enospc(e: BaseException, path: str | None = None) -> bool:
    """Whether an LMDB error means the disk is full (LMDB reports a short write as EIO)."""
    if not isinstance(e, lmdb.Error):
        return False
    if "No space left" in str(e) or getattr(e, "errno", None) == errno.ENOSPC:
        return True
    if path is not None and "Input/output error" in str(e):
        try:
            st = os.statvfs(path)
        except OSError:
            return False
        return st.f_bavail * st.f_frsize < 16 << 20
    return False


class Space:
    """A MeTTa space stored on disk.  Use `mettadb.open()` to get one.

    A multiset of atoms, like hyperon's: adding an atom twice keeps two copies.
    """

    def __init__(self, path: PathLike | None = None, *, readonly: bool = False, create: bool = True,
                 mode: int = 0o600, map_size: int | None = None, max_map_size: int | None = None,
                 durable: bool = True, _for_migration: bool = False) -> None:
        self.path = os.path.abspath(os.fspath(path if path is not None else os.environ.get("METTADB_DB") or DEFAULT_PATH))
        self.max_map_size = max_map_size
        self.note: str | None = None
        exists = os.path.exists(os.path.join(self.path, "data.mdb"))
        if not exists:
            if readonly or not create:
                raise MettaDBError(f"no space at {self.path}")
            os.makedirs(self.path, mode=mode | ((mode & 0o444) >> 2), exist_ok=True)
        elif not readonly and not os.access(os.path.join(self.path, "data.mdb"), os.W_OK):
            readonly = True
            self.note = f"{self.path} is not writable by you: opened read-only"
        lock = True
        if readonly and exists and not os.access(os.path.join(self.path, "lock.mdb"), os.W_OK):
            # LMDB readers register in lock.mdb; without write access there, read unlocked
            lock = False
            self.note = (f"{self.path} is not writable by you: opened read-only, without reader locks "
                         "(a writer running meanwhile could disturb this session)")
        self.readonly = readonly
        self._for_migration = _for_migration
        real = os.path.realpath(self.path)
        self._real = real
        with _ENV_LOCK:
            entry = _ENVS.get(real)
            if entry is not None:
                if entry[2] and not readonly:
                    raise MettaDBError(f"{self.path} is already open read-only in this process")
                entry[1] += 1
                self.env = entry[0]
            else:
                size = map_size or self._initial_map_size()
                if max_map_size:
                    size = min(size, max_map_size)
                try:
                    self.env = lmdb.open(real, map_size=size, subdir=True, readonly=readonly, max_dbs=2 * len(_DB_NAMES) + 2,
                                         mode=mode, create=not readonly, writemap=False, metasync=durable, sync=durable,
                                         readahead=False, max_readers=254, lock=lock)
                except lmdb.Error as e:
                    raise MettaDBError(f"cannot open {self.path}: {e}") from None
                _ENVS[real] = [self.env, 1, readonly]
        self._closed = False
        self._txn_local = threading.local()
        #: planning statistics and plans: approximate, per process, cleared at each commit
        self._plan_stats: dict[Any, Any] = {}
        #: the variable index's keys (see query._vx_keys): exact, per generation
        self._vx_cache: Any = None
        self._vx_touched_by: Any = None
        try:
            self._open_dbs(exists)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ setup
    def _initial_map_size(self) -> int:
        try:
            size = os.path.getsize(os.path.join(self.path, "data.mdb"))
        except OSError:
            size = 0
        return max(_MIN_MAP, 1 << max(size * 2, 1).bit_length())

    def _open_dbs(self, existed: bool) -> None:
        env = self.env
        slots: list[dict[bytes, Any] | None] = [{}, {}]
        if self.readonly:
            try:
                meta = env.open_db(b"meta", create=False)
            except lmdb.NotFoundError:
                raise FormatVersionError(f"{self.path} is not a mettadb space") from None
            self._meta_db = meta
            for slot in (0, 1):
                try:
                    slots[slot] = {name: meta if name == b"meta" else
                                   env.open_db(_slot_name(name, slot), create=False, dupsort=(name == b"vx"))
                                   for name in _DB_NAMES}
                except lmdb.NotFoundError:
                    slots[slot] = None  # format 1 has one slot; format 0 has neither
            self._slot_dbs, self._slot = slots, 0
            self._dbs = slots[0] or {b"meta": meta}
            if not self._for_migration:
                self._check_version(for_write=False)
            if slots[0] is None:
                raise FormatVersionError(
                    f"{self.path} has format version {self.format_version} and cannot be read by this release; "
                    f"run `mettadb --db {self.path} migrate`")
        else:
            with env.begin(write=True) as txn:
                for slot in (0, 1):
                    slots[slot] = {name: env.open_db(_slot_name(name, slot), txn=txn, dupsort=(name == b"vx"))
                                   for name in _DB_NAMES}
                meta = slots[0][b"meta"]  # type: ignore[index]
                self._meta_db = meta
                if txn.get(b"format_version", db=meta) is None and not self._for_migration:
                    if txn.stat(slots[0][b"atoms"])["entries"]:  # type: ignore[index]
                        raise FormatVersionError(f"{self.path} has atoms but no format version")
                    for k, v in ((b"format_version", FORMAT_VERSION), (b"generation", 0), (b"atoms", 0),
                                 (b"distinct", 0), (b"slot", 0)):
                        txn.put(k, _pack(v), db=meta)
        self._slot_dbs = slots
        self._slot = 0
        self._dbs = slots[0]
        with self._read():
            pass  # picks the active slot
        if not self._for_migration:
            self._check_version(for_write=not self.readonly)

    def _sync_slot(self, txn: lmdb.Transaction) -> None:
        """Point `_dbs` at the slot active in `txn`'s snapshot."""
        slot = 1 if txn.get(b"slot", db=self._meta_db) == b"\x01" else 0
        if slot != self._slot:
            dbs = self._slot_dbs[slot]
            if dbs is None:
                raise FormatVersionError(f"{self.path}: slot {slot} is active but missing")
            self._slot, self._dbs = slot, dbs
            self._plan_stats.clear()

    def _check_version(self, for_write: bool) -> None:
        v = self.format_version
        if v > FORMAT_VERSION:
            raise FormatVersionError(
                f"{self.path} has format version {v}, newer than this mettadb understands ({FORMAT_VERSION}); upgrade mettadb")
        if v < FORMAT_VERSION and (for_write or v < READABLE_SINCE):
            raise FormatVersionError(
                f"{self.path} has format version {v}; run `mettadb --db {self.path} migrate` to upgrade it to {FORMAT_VERSION}")

    def close(self) -> None:
        """Release the environment (the last Space of a path closes it)."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        with _ENV_LOCK:
            entry = _ENVS.get(self._real)
            if entry is not None and entry[0] is self.env:
                entry[1] -= 1
                if entry[1] <= 0:
                    del _ENVS[self._real]
                    self.env.close()

    def __enter__(self) -> Space:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Space {self.path!r}{' read-only' if self.readonly else ''}>"

    # ------------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def _read(self) -> Iterator[lmdb.Transaction]:
        cur = getattr(self._txn_local, "txn", None)
        if cur is not None:
            yield cur
            return
        try:
            txn = self.env.begin(buffers=False)
        except lmdb.MapResizedError:
            self.env.set_mapsize(0)
            txn = self.env.begin(buffers=False)
        try:
            self._sync_slot(txn)
            yield txn
        finally:
            txn.abort()

    def _grow(self, need: int = 0) -> None:
        cur = self.env.info()["map_size"]
        new = max(cur * 2, cur + need)
        if self.max_map_size and new > self.max_map_size:
            if cur >= self.max_map_size:
                raise SpaceFullError(f"{self.path} reached its size cap of {self.max_map_size} bytes; nothing was written")
            new = self.max_map_size
        self.env.set_mapsize(new)

    def _ensure_headroom(self, need: int) -> None:
        if self.env.info()["map_size"] - self._used_bytes() < need:
            with contextlib.suppress(SpaceFullError):  # a cap only matters if the write really needs it
                self._grow(need)

    def _write(self, fn: Callable[[_Writer], Any], need: int = 0) -> Any:
        """Run fn in one write transaction; retried on a full map after growing it."""
        if self.readonly:
            raise ReadOnlyError(f"{self.path} is open read-only")
        if getattr(self._txn_local, "writer", None) is not None:
            # inside transaction(): every write is kept so that a full map can be grown and
            # the whole transaction replayed, unseen by the caller
            self._txn_local.ops.append(fn)
            while True:
                try:
                    return fn(self._txn_local.writer)
                except lmdb.MapFullError:
                    self._regrow_and_replay(upto=len(self._txn_local.ops) - 1)
        self._ensure_headroom(need + (1 << 20))

        def body(txn: lmdb.Transaction) -> Any:
            self._sync_slot(txn)
            w = _Writer(self, txn)
            result = fn(w)
            w.finish()
            return result

        return self._in_write_txn(body)

    def _in_write_txn(self, body: Callable[[lmdb.Transaction], Any]) -> Any:
        """Run body in a write transaction and commit; a full map is grown and body run again."""
        while True:
            txn = self.env.begin(write=True)
            try:
                result = body(txn)
                txn.commit()
                return result
            except lmdb.MapFullError:
                txn.abort()
                self._grow()
            except lmdb.Error as e:
                txn.abort()
                raise self._write_error(e) from None
            except BaseException:
                txn.abort()
                raise

    def _write_error(self, e: lmdb.Error) -> MettaDBError:
        """The error a failed write transaction becomes (the space is unchanged either way)."""
        if _is_enospc(e, self.path):
            return SpaceFullError(f"no space left on the device holding {self.path}; the space is unchanged")
        return MettaDBError(f"{self.path}: {e}")

    def _regrow_and_replay(self, upto: int) -> None:
        """Abort the open transaction, grow the map, and redo its first `upto` writes in a new one."""
        local = self._txn_local
        with contextlib.suppress(Exception):
            local.writer.txn.abort()
        self._grow()
        txn = self.env.begin(write=True)
        self._sync_slot(txn)
        w = _Writer(self, txn)
        local.writer, local.txn = w, w.txn
        for fn in local.ops[:upto]:
            while True:
                try:
                    fn(w)
                    break
                except lmdb.MapFullError:
                    return self._regrow_and_replay(upto)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Space]:
        """Group writes: they commit together at the end, or not at all on an exception.

        A map that fills up meanwhile is grown and the writes so far are replayed;
        the caller never sees it.
        """
        local = self._txn_local
        if getattr(local, "writer", None) is not None:
            yield self
            return
        if self.readonly:
            raise ReadOnlyError(f"{self.path} is open read-only")
        self._ensure_headroom(1 << 20)
        txn = self.env.begin(write=True)
        try:
            self._sync_slot(txn)
        except BaseException:
            txn.abort()
            raise
        w = _Writer(self, txn)
        local.writer, local.txn, local.ops = w, w.txn, []
        try:
            yield self
            while True:
                try:
                    local.writer.finish()
                    local.writer.txn.commit()
                    break
                except lmdb.MapFullError:
                    self._regrow_and_replay(upto=len(local.ops))
                except lmdb.Error as e:
                    raise self._write_error(e) from None
        except BaseException:
            with contextlib.suppress(Exception):
                local.writer.txn.abort()
            raise
        finally:
            local.writer = local.txn = local.ops = None

    # ------------------------------------------------------------------ metadata
    def _meta(self, key: bytes) -> Any:
        with self._read() as txn:
            raw = txn.get(key, db=self._dbs[b"meta"])
        return _unpack(raw) if raw is not None else None

    @property
    def format_version(self) -> int:
        """The on-disk format version of this space."""
        return int(self._meta(b"format_version") or 0)

    @property
    def generation(self) -> int:
        """Bumped by every write commit; names one committed version."""
        return int(self._meta(b"generation") or 0)

    def __len__(self) -> int:
        return int(self._meta(b"atoms") or 0)

    @property
    def distinct(self) -> int:
        """Number of distinct atoms (`len()` counts copies)."""
        return int(self._meta(b"distinct") or 0)

    def stats(self) -> dict[str, Any]:
        """Totals, size on disk and per-head counts."""
        heads = []
        with self._read() as txn:
            meta = {k.decode(): _unpack(v) for k, v in txn.cursor(db=self._dbs[b"meta"])}
            for hk, v in txn.cursor(db=self._dbs[b"heads"]):
                d, t = _unpack(v)
                toks = split_tokens(hk)
                if len(toks) == 2:
                    head = str(decode(toks[1]))
                    arity = toks[0][0]
                elif toks[0][0] < 0x40:
                    head, arity = "(expression)", toks[0][0]
                else:
                    head, arity = "(atom)", 0
                heads.append({"head": head, "arity": arity, "distinct": d, "atoms": t})
            entries = {name.decode(): txn.stat(db)["entries"] for name, db in self._dbs.items()}
        heads.sort(key=lambda h: (-h["atoms"], h["head"]))
        size = sum(os.path.getsize(os.path.join(self.path, f)) for f in os.listdir(self.path)
                   if os.path.isfile(os.path.join(self.path, f)))
        return {
            "path": self.path,
            "atoms": meta.get("atoms", 0),
            "distinct": meta.get("distinct", 0),
            "format_version": meta.get("format_version"),
            "generation": meta.get("generation", 0),
            "size_bytes": size,
            "entries": entries,
            "heads": heads,
        }

    # ------------------------------------------------------------------ writes
    @staticmethod
    def _as_atom(a: AtomLike) -> Atom:
        if isinstance(a, Atom):
            return a
        if isinstance(a, str):
            return parse_atom(a)
        raise TypeError(f"expected an Atom or MeTTa text, not {type(a).__name__}")

    def add(self, atom: AtomLike, count: int = 1) -> None:
        """Add `count` copies of an atom."""
        atom = self._as_atom(atom)
        path, names = encode_with_names(atom)
        self._write(lambda w: w.add_path(path, names or None, None, count))

    def add_all(self, atoms: Iterable[AtomLike]) -> int:
        """Add each atom once more, all in one transaction; returns how many were added."""
        items = [encode_with_names(self._as_atom(a)) for a in atoms]

        def run(w: _Writer) -> int:
            for path, names in items:
                w.add_path(path, names or None, None)
            return len(items)

        return int(self._write(run))

    def remove(self, atom: AtomLike, count: int = 1) -> bool:
        """Remove one copy (or `count`) of an atom equal up to variable renaming; False if absent."""
        atom = self._as_atom(atom)
        path, _ = encode_with_names(atom)
        return bool(self._write(lambda w: w.remove_path(path, count)))

    def replace(self, old: AtomLike, new: AtomLike) -> bool:
        """Remove one copy of `old` and add `new`, atomically; False (and no change) if `old` is absent."""
        o, n = self._as_atom(old), self._as_atom(new)
        op, _ = encode_with_names(o)
        np_, nn = encode_with_names(n)

        def run(w: _Writer) -> bool:
            if not w.remove_path(op, 1):
                return False
            w.add_path(np_, nn or None, None)
            return True

        return bool(self._write(run))

    def clear(self) -> None:
        """Remove every atom."""
        def run(w: _Writer) -> None:
            for name in (b"atoms", b"rev", b"vx", b"heads"):
                w.txn.drop(self._dbs[name], delete=False)
            self._vx_cache, self._vx_touched_by = None, w
            for k in (b"atoms", b"distinct"):
                w.txn.put(k, _pack(0), db=self._dbs[b"meta"])

        self._write(run)

    def load_paths(self, *sources: PathLike | BinaryIO, duplicates: bool = False, bulk: bool | None = None) -> LoadReport:
        """Load MORK `.paths` dumps, all or nothing (set union unless duplicates); `bulk` as for `load`."""
        from .interchange import read_paths

        t0 = time.perf_counter()
        if self.readonly:
            raise ReadOnlyError(f"{self.path} is open read-only")
        if bulk is None:
            size = sum(os.path.getsize(s) for s in sources if isinstance(s, (str, os.PathLike)) and os.path.exists(s))
            bulk = (all(isinstance(s, (str, os.PathLike)) for s in sources)
                    and size * 4 >= max(BULK_MIN_BYTES, self._used_bytes() // 4))  # .paths are compressed ~4x
        if bulk and getattr(self._txn_local, "writer", None) is None and self._slot_dbs[1] is not None:

            def records(s: Any, st: Transcoded) -> Iterator[tuple[bytes, Any, Any]]:
                f = open(s, "rb") if isinstance(s, (str, os.PathLike)) else s
                try:
                    for path, names in read_paths(f, st.source):
                        tokens = split_tokens(path) if names is None and 3 <= path[0] < 64 else None
                        yield path, names, tokens if tokens is not None and _reversible(tokens) else None
                finally:
                    if f is not s:
                        f.close()

            gc_was = gc.isenabled()
            gc.disable()
            try:
                bulk_report = self._bulk_load(sources, [None] * len(sources), duplicates, None, records)
            finally:
                if gc_was:
                    gc.enable()
            bulk_report.seconds, bulk_report.mode = time.perf_counter() - t0, "bulk"
            return bulk_report

        def run(w: _Writer) -> LoadReport:
            report = LoadReport()
            for s in sources:
                name = os.fspath(s) if isinstance(s, (str, os.PathLike)) else getattr(s, "name", "<stream>")
                report.files.append(name)
                f = open(s, "rb") if isinstance(s, (str, os.PathLike)) else s
                try:
                    for path, names in read_paths(f, name):
                        if w.add_path(path, names, None, 1, not duplicates):
                            report.added += 1
                        else:
                            report.present += 1
                finally:
                    if f is not s:
                        f.close()
            report.read = report.added + report.present
            return report

        report: LoadReport = self._write(run)
        report.seconds = time.perf_counter() - t0
        return report

    def export(self, out: BinaryIO, fmt: str = "metta", progress: Callable[[int], None] | None = None) -> Any:
        """Write every atom to a binary stream as `metta` text, `jsonl` or MORK `paths`."""
        from .interchange import export_space

        return export_space(self, out, fmt, progress)

    def _used_bytes(self) -> int:
        info = self.env.info()
        return int((info["last_pgno"] + 1) * self.env.stat()["psize"])

    def load(self, *sources: PathLike | BinaryIO, duplicates: bool = False,
             progress: Callable[[int, int], None] | None = None, bulk: bool | None = None) -> LoadReport:
        """Load MeTTa files (paths or binary streams): all or nothing.

        By default a set union (atoms already present are not added again);
        `duplicates=True` adds a copy for every occurrence.  `!` expressions are
        counted, not evaluated.  Raises ParseError naming file, line and column;
        the space is then exactly as it was.

        Small inputs go through one write transaction.  Large ones (`bulk`, by
        default chosen from the input's size, see docs/FORMAT.md) are sorted in
        bounded memory and written into the inactive database slot over many
        transactions, then made visible by one final transaction: still all or
        nothing, with memory that does not grow with the input.
        """
        t0 = time.perf_counter()
        size = 0
        for s in sources:
            if isinstance(s, (str, os.PathLike)):
                try:
                    size += os.path.getsize(s)
                except OSError as e:
                    raise MettaDBError(f"cannot read {os.fspath(s)}: {e.strerror}") from None
        need = size * 6
        positions: list[int | None] = []
        for s in sources:
            positions.append(s.tell() if not isinstance(s, (str, os.PathLike)) and s.seekable() else None)
        if self.readonly:
            raise ReadOnlyError(f"{self.path} is open read-only")
        in_txn = getattr(self._txn_local, "writer", None) is not None
        if bulk is None:
            bulk = (all(isinstance(s, (str, os.PathLike)) for s in sources)
                    and size >= max(BULK_MIN_BYTES, self._used_bytes() // 4))
        if bulk and not in_txn and self._slot_dbs[1] is not None:
            gc_was = gc.isenabled()
            gc.disable()
            try:
                bulk_report = self._bulk_load(sources, positions, duplicates, progress)
            finally:
                if gc_was:
                    gc.enable()
            bulk_report.seconds = time.perf_counter() - t0
            bulk_report.mode = "bulk"
            return bulk_report

        def run(w: _Writer) -> LoadReport:
            report = LoadReport()
            add = w.add_path
            union = not duplicates
            aput = w.txn.cursor(db=w.atoms).put
            rput = w.txn.cursor(db=w.rev).put
            heads = w.head_delta
            one = _ONE
            done_before = 0
            added = present = fast_new = 0
            for s, pos in zip(sources, positions):
                if pos is not None:
                    s.seek(pos)
                st = Transcoded(os.fspath(s) if isinstance(s, (str, os.PathLike)) else getattr(s, "name", "<stream>"))
                report.files.append(st.source)
                for path, names, tokens in transcode_file(s, st):
                    if names is None and len(path) <= MAX_PLAIN and union:
                        # the hot loop: a ground atom with a plain key, set-union semantics
                        if aput(path, one, True, False):
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
                    elif add(path, names, tokens, 1, union):
                        added += 1
                    else:
                        present += 1
                    if progress is not None and not (added + present) & 0xFFFF:
                        progress(done_before + st.bytes_read, added + present)
                done_before += st.bytes_read
                report.bangs += st.bangs
                report.bytes_read += st.bytes_read
            w.total_delta += fast_new
            w.distinct_delta += fast_new
            report.added, report.present = added, present
            report.read = added + present
            return report

        gc_was = gc.isenabled()
        gc.disable()  # the load allocates no cycles; collection passes only cost time
        try:
            report: LoadReport = self._write(run, need)
        finally:
            if gc_was:
                gc.enable()
        report.seconds = time.perf_counter() - t0
        return report

    # ------------------------------------------------------------------ bulk loads
    def _bulk_load(self, sources: tuple[PathLike | BinaryIO, ...], positions: list[int | None], duplicates: bool,
                   progress: Callable[[int, int], None] | None,
                   reader: Callable[[Any, Transcoded], Iterator[tuple[bytes, Any, Any]]] | None = None) -> LoadReport:
        """Parse into sorted runs, then build the inactive slot and flip to it (see `load`)."""
        import shutil
        import tempfile

        from . import bulk as bulk_mod
        from .bulk import KeyRuns

        _clean_stale_load_dirs(self.path)
        tmp = tempfile.mkdtemp(prefix=f".load-{os.getpid()}-", dir=self.path)
        union = not duplicates
        try:
            with KeyRuns(tmp, "atoms") as akeys, KeyRuns(tmp, "rev") as rkeys:
                report = LoadReport()
                complex_: dict[bytes, list[Any]] = {}  # key -> [path, names, tokens, occurrences]
                aappend, rappend = akeys.append, rkeys.append
                akl, rkl = akeys.keys, rkeys.keys
                budget = bulk_mod.RUN_KEYS
                check_every = min(0x10000, max(1, budget // 4))
                next_check = check_every
                n = 0
                done_before = 0
                for s, pos in zip(sources, positions):
                    if pos is not None:
                        s.seek(pos)
                    st = Transcoded(os.fspath(s) if isinstance(s, (str, os.PathLike)) else getattr(s, "name", "<stream>"))
                    report.files.append(st.source)
                    for path, names, tokens in (reader or transcode_file)(s, st):
                        n += 1
                        if names is None and len(path) <= MAX_PLAIN:
                            aappend(path)
                            if tokens is not None:
                                rappend(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]))
                            if n >= next_check:
                                next_check = n + check_every
                                if len(akl) + len(rkl) >= budget:
                                    akeys.spill()
                                    rkeys.spill()
                                if progress is not None:
                                    progress(done_before + st.bytes_read, n)
                        else:
                            key = storage_key(path)
                            c = complex_.get(key)
                            if c is None:
                                complex_[key] = [path, names, tokens, 1]
                            else:
                                c[3] += 1
                    done_before += st.bytes_read
                    report.bangs += st.bangs
                    report.bytes_read += st.bytes_read
                report.read = n
                with _BulkLock(self.path):
                    for _attempt in range(3):
                        added = self._bulk_apply(akeys, rkeys, complex_, union)
                        if added is not None:
                            report.added = added
                            report.present = n - added
                            return report
                raise MettaDBError(f"{self.path} kept changing during the bulk load; nothing was written, try again")
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
            raise SpaceFullError(f"no space left on the device holding {self.path} for the load's sorted runs; "
                                 "the space is unchanged") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _bulk_apply(self, akeys: Any, rkeys: Any, complex_: dict[bytes, list[Any]], union: bool) -> int | None:
        """Merge the active slot with the runs into the other slot and flip; None if a writer intervened."""
        import bisect
        from itertools import repeat

        with self._read() as rtxn:
            gen0 = rtxn.get(b"generation", db=self._meta_db)
        src = self._slot
        dst = 1 - src
        sdb, ddb = self._slot_dbs[src], self._slot_dbs[dst]
        assert sdb is not None and ddb is not None
        meta = self._meta_db
        self._ensure_headroom(self._used_bytes() + (8 << 20))

        conflict = object()

        def staged(fn: Callable[[lmdb.Transaction], Any]) -> Any:
            """Run fn in its own write transaction (redone after growing a full map); `conflict` if the space moved on."""

            def body(txn: lmdb.Transaction) -> Any:
                if txn.get(b"generation", db=meta) != gen0 or txn.get(b"slot", db=meta) != _pack(src):
                    return conflict  # nothing written: committing the empty transaction is harmless
                return fn(txn)

            return self._in_write_txn(body)

        def clear(txn: lmdb.Transaction) -> None:
            for name in _SLOTTED:
                txn.drop(ddb[name], delete=False)

        if staged(clear) is conflict:  # also removes leftovers of an interrupted bulk load
            return None
        head_delta: dict[bytes, list[int]] = {}
        totals = [0, 0]  # copies added, distinct atoms added
        one = _ONE

        def old_range(txn: lmdb.Transaction, db: Any, lo: bytes, hi: bytes | None) -> dict[bytes, bytes]:
            cur = txn.cursor(db=db)
            out: dict[bytes, bytes] = {}
            if not cur.set_range(lo):
                return out
            rows: Iterator[tuple[bytes, bytes]] = cur.iternext()  # bytes: buffers=False
            for k, v in rows:
                if hi is not None and k >= hi:
                    break
                out[k] = v
            return out

        Batch = list[tuple[bytes, "bytes | None", list[bytes]]]

        def atoms_batch(batch: Batch) -> Callable[[lmdb.Transaction], Any]:
            def fn(txn: lmdb.Transaction) -> tuple[dict[bytes, list[int]], int, int]:
                heads: dict[bytes, list[int]] = {}
                total = distinct = 0
                dcur = txn.cursor(db=ddb[b"atoms"])
                for lo, hi, keys in batch:
                    old = old_range(txn, sdb[b"atoms"], lo, hi)
                    if union:
                        if old:
                            fresh = sorted(set(keys).difference(old))
                            old.update(dict.fromkeys(fresh, one))
                            dcur.putmulti(sorted(old.items()), append=True)
                        else:
                            fresh = keys  # sorted, with copies: the append skips them
                        i, n = 0, len(fresh)
                        while i < n:  # sorted keys: one head's atoms are one run
                            hk = path_head_key(fresh[i])
                            j = bisect.bisect_left(fresh, _successor(hk), i) if len(hk) > 1 else i + 1
                            if old:
                                new = j - i
                            else:
                                new = dcur.putmulti(zip(fresh[i:j], repeat(one)), overwrite=False, append=True)[1]
                            d = heads.get(hk)
                            if d is None:
                                d = heads[hk] = [0, 0]
                            d[0] += new
                            d[1] += new
                            total += new
                            distinct += new
                            i = j
                    else:
                        counts: dict[bytes, int] = {}
                        for k in keys:
                            counts[k] = counts.get(k, 0) + 1
                        for k, c in counts.items():
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
                                old[k] = one if c == 1 else _pack(c)
                            else:
                                rec = _Record(k, raw)
                                old[k] = _Record.pack(rec.count + c, rec.names, None)
                        dcur.putmulti(sorted(old.items()), append=True)
                return heads, total, distinct
            return fn

        def rev_batch(batch: Batch) -> Callable[[lmdb.Transaction], Any]:
            def fn(txn: lmdb.Transaction) -> None:
                dcur = txn.cursor(db=ddb[b"rev"])
                for lo, hi, keys in batch:
                    old = old_range(txn, sdb[b"rev"], lo, hi)
                    merged = sorted(set(keys).union(old)) if old else keys
                    dcur.putmulti(zip(merged, repeat(b"")), overwrite=False, append=True)
            return fn

        def commit_batch(make: Callable[[Batch], Callable[[lmdb.Transaction], Any]], batch: Batch) -> bool:
            result = staged(make(batch))
            if result is conflict:
                return False
            if result is not None:
                heads, total, distinct = result
                for hk, (dd, dt) in heads.items():
                    d = head_delta.setdefault(hk, [0, 0])
                    d[0] += dd
                    d[1] += dt
                totals[0] += total
                totals[1] += distinct
            return True

        for runs, make in ((akeys, atoms_batch), (rkeys, rev_batch)):
            batch: Batch = []
            rows = 0
            for bucket in runs.buckets():
                batch.append(bucket)
                rows += len(bucket[2])
                if rows >= _BULK_COMMIT_ROWS:
                    if not commit_batch(make, batch):
                        return None
                    batch, rows = [], 0
            if batch and not commit_batch(make, batch):
                return None

        def copy_vx(txn: lmdb.Transaction) -> None:
            txn.cursor(db=ddb[b"vx"]).putmulti(txn.cursor(db=sdb[b"vx"]).iternext(), dupdata=True)

        if staged(copy_vx) is conflict:
            return None

        def flip(txn: lmdb.Transaction) -> int:
            txn.cursor(db=ddb[b"heads"]).putmulti(txn.cursor(db=sdb[b"heads"]).iternext(), append=True)
            w = _Writer(self, txn, dbs=ddb)
            w.head_delta = {k: list(v) for k, v in head_delta.items()}
            w.total_delta, w.distinct_delta = totals
            added = totals[1]
            for path, names, tokens, occurrences in complex_.values():
                if union:
                    added += w.add_path(path, names, tokens, 1, True)
                else:
                    added += w.add_path(path, names, tokens, occurrences, False)
            w.finish()
            txn.put(b"slot", _pack(dst), db=meta)
            for name in _SLOTTED:
                txn.drop(sdb[name], delete=False)
            return added

        added = staged(flip)
        if added is conflict:
            return None
        with self._read():
            pass  # now reading the new slot
        return int(added)

    # ------------------------------------------------------------------ reads
    def _records(self, txn: lmdb.Transaction) -> Iterator[tuple[bytes, _Record]]:
        for key, raw in txn.cursor(db=self._dbs[b"atoms"]):
            yield key, _Record(key, raw)

    def atoms(self, *, distinct: bool = False) -> Iterator[Atom]:
        """Every atom in key order (each copy, unless distinct); variables keep their names."""
        with self._read() as txn:
            for _key, rec in self._records(txn):
                atom = decode(rec.path, rec.names)
                for _ in range(1 if distinct else rec.count):
                    yield atom

    def items(self) -> Iterator[tuple[Atom, int]]:
        """(atom, count) for each distinct atom."""
        with self._read() as txn:
            for _key, rec in self._records(txn):
                yield decode(rec.path, rec.names), rec.count

    def __iter__(self) -> Iterator[Atom]:
        return self.atoms()

    def count(self, atom: AtomLike) -> int:
        """How many copies of the atom (up to variable renaming) the space holds."""
        path, _ = encode_with_names(self._as_atom(atom))
        key = storage_key(path)
        with self._read() as txn:
            raw = txn.get(key, db=self._dbs[b"atoms"])
        return _Record(key, raw).count if raw is not None else 0

    def __contains__(self, atom: object) -> bool:
        if not isinstance(atom, (Atom, str)):
            return False
        return self.count(atom) > 0

    # queries are implemented in mettadb.query; these are thin entry points
    def query(self, pattern: AtomLike, bindings: Bindings = EMPTY_BINDINGS) -> Iterator[Bindings]:
        """Lazily yield the Bindings of each match (once per stored copy).

        A pattern `(, p1 p2 ...)` is a conjunction.
        """
        from .query import run_query

        return run_query(self, self._as_atom(pattern), bindings)

    def match(self, pattern: AtomLike, template: AtomLike | None = None) -> Iterator[Atom]:
        """Lazily yield the template instantiated by each match (the pattern itself without one)."""
        p = self._as_atom(pattern)
        t = self._as_atom(template) if template is not None else p
        for b in self.query(p):
            yield b.resolve(t)

    def explain(self, pattern: AtomLike, analyze: bool = False) -> dict[str, Any]:
        """How a query would run (access paths, join order, estimates) without running it;
        with `analyze`, run it and show each step's actual rows and keys visited."""
        from .query import explain

        return explain(self, self._as_atom(pattern), analyze)

    def count_matches(self, pattern: AtomLike) -> int:
        """How many results `query(pattern)` yields, without building them."""
        from .query import count

        return count(self, self._as_atom(pattern))

    def interpreter(self, **options: Any) -> Any:
        """A MeTTa interpreter over this space (`mettadb.eval.Interpreter`)."""
        from .eval import Interpreter

        return Interpreter(self, **options)

    def eval(self, expr: AtomLike, **options: Any) -> list[Atom]:
        """Evaluate one expression as `!expr`; writes it makes commit together at the end."""
        interp = self.interpreter(**options)
        atom = self._as_atom(expr)
        if self.readonly:
            interp.readonly = True
            return list(interp.evaluate(atom))
        with self.transaction():
            return list(interp.evaluate(atom))

    def run(self, text: str, *, source: str = "<string>", commit_each: bool = False, **options: Any) -> list[list[Atom]]:
        """Run a MeTTa script: atoms are added, each `!` evaluated; returns each `!`'s results.

        Commits once at the end (or after each `!` with commit_each); a host-level
        failure rolls the whole run back.
        """
        from .runner import run_script

        options.setdefault("base_dir", os.path.dirname(os.path.abspath(source)) if source != "<string>" else None)
        interp = self.interpreter(**options)
        if commit_each:
            return run_script(interp, text, source)
        with self.transaction():
            return run_script(interp, text, source)

    def evaluate_many(self, queries: Any, *, jobs: int | str = "auto", client: Any = None, **options: Any) -> Any:
        """Evaluate independent read-only queries in parallel (see `mettadb.parallel`)."""
        from .parallel import evaluate_many

        return evaluate_many(self, queries, jobs=jobs, client=client, **options)

    def match_many(self, patterns: Any, *, jobs: int | str = "auto", client: Any = None, **options: Any) -> Any:
        """`match &self` for each (pattern, template) pair, in parallel like evaluate_many."""
        queries = [f"(match &self {p} {t})" for p, t in patterns]
        return self.evaluate_many(queries, jobs=jobs, client=client, **options)

    def check(self) -> list[str]:
        """Verify keys, indexes, statistics and format; returns the problems found."""
        from .check import check_space

        return check_space(self)

    def copy_to(self, dest: PathLike, compact: bool = False) -> None:
        """A consistent copy of the space at `dest` (LMDB's copy; safe while others write)."""
        d = os.fspath(dest)
        os.makedirs(d, mode=0o700, exist_ok=True)
        try:
            self.env.copy(d, compact=compact)
        except lmdb.Error as e:
            raise MettaDBError(f"cannot copy to {d}: {e}") from None


def rebuild_derived(space: Space, w: _Writer) -> None:
    """Recompute `rev`, `vx`, `heads` and the totals from the primary database (in w's transaction)."""
    txn = w.txn
    for name in (b"rev", b"vx", b"heads"):
        txn.drop(space._dbs[name], delete=False)
    space._vx_cache, space._vx_touched_by = None, w
    heads: dict[bytes, list[int]] = {}
    total = distinct = 0
    for key, raw in txn.cursor(db=space._dbs[b"atoms"]):
        rec = _Record(key, raw)
        toks = split_tokens(rec.path)
        if rec.names is not None or is_hashed(key):
            txn.put(b"v" + const_prefix(toks)[0], key, db=space._dbs[b"vx"], dupdata=True)
        elif _reversible(toks):
            txn.put(reverse_key(toks), b"", db=space._dbs[b"rev"])
        h = heads.setdefault(path_head_key(rec.path), [0, 0])
        h[0] += 1
        h[1] += rec.count
        total += rec.count
        distinct += 1
    for hk, v in heads.items():
        txn.put(hk, _pack(v), db=space._dbs[b"heads"])
    txn.put(b"atoms", _pack(total), db=space._dbs[b"meta"])
    txn.put(b"distinct", _pack(distinct), db=space._dbs[b"meta"])


def migrate(path: PathLike, *, dry_run: bool = False) -> list[tuple[int, str]]:
    """Upgrade the space at `path` to FORMAT_VERSION; returns the steps (run, or planned with dry_run).

    Each step runs in its own write transaction with its version bump.
    """
    from mettadb.migrations import pending

    with Space(path, create=False, _for_migration=True) as space:
        current = space.format_version
        if current > FORMAT_VERSION:
            raise FormatVersionError(
                f"{space.path} has format version {current}, newer than this mettadb understands ({FORMAT_VERSION})")
        steps = pending(current, FORMAT_VERSION)
        done = []
        for step in steps:
            done.append((step.target, step.description))
            if dry_run:
                continue

            def run(w: _Writer, step: Any = step) -> None:
                step.apply(space, w)
                w.txn.put(b"format_version", _pack(step.target), db=space._dbs[b"meta"])
                if w.txn.get(b"generation", db=space._dbs[b"meta"]) is None:
                    w.txn.put(b"generation", _pack(0), db=space._dbs[b"meta"])

            space._write(run)
        return done


def open_space(path: PathLike | None = None, *, readonly: bool = False, **kwargs: Any) -> Space:
    """Open (creating if needed) the space at `path`; see `Space`.

    With no path: `$METTADB_DB`, else `./metta.db`.
    """
    return Space(path, readonly=readonly, **kwargs)

