"""The durable store: atoms as keys of an LMDB environment, with CRUD and reads.

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

All writes of one call go through one write transaction (`write`), except
bulk loads (`mettadb.loading`), which build the inactive slot over many
transactions and make it active in one; the generation number in `meta` is
bumped by every commit that changes the space.  Queries, evaluation and loads
live above this module and reach the data through `read`, `dbs` and `write`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import struct
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Union

import lmdb

from . import env as lmdb_env
from .atoms import Atom
from .bulk import KeyRuns
from .encoding import decode, encode_with_names, split_tokens
from .env import Dbs
from .errors import DamagedSpaceError, DecodeError, FormatVersionError, MettaDBError, ReadOnlyError, SpaceFullError
from .keys import is_hashed, storage_key
from .layout import FIRST_SEQ, Record, has_variants, pack_value, unpack_value
from .parser import parse_atom
from .trieorder import NODE_PREFIX
from .writer import LOADED_PREFIX, Writer

if TYPE_CHECKING:
    from .env import Txn

__all__ = [
    "DECODE_DAMAGE",
    "DEFAULT_PATH",
    "FORMAT_VERSION",
    "READABLE_SINCE",
    "AtomLike",
    "PathLike",
    "Store",
    "as_atom",
]

FORMAT_VERSION = 4
#: what decoding a damaged record raises: msgpack's errors are ValueErrors, a cut path an IndexError, a
#: value of the wrong kind a TypeError or KeyError, an empty key read back and looked up BadValsizeError
DECODE_DAMAGE = (IndexError, KeyError, TypeError, ValueError, lmdb.BadValsizeError)
#: the oldest format this release reads and writes without migrating: format 3 changed the primary record;
#: format 4 only added a shape of it, which the writer writes (raising the space's version to 4 in the same
#: transaction) only when a key first holds atoms equal up to variable names (`Writer.add_path`)
READABLE_SINCE = 3
DEFAULT_PATH = "metta.db"
PathLike = Union[str, "os.PathLike[str]"]
AtomLike = Union[Atom, str]
#: (insertion number, key) pairs an insertion-order read holds in memory before it spills a sorted run
ORDER_RUN_KEYS = int(os.environ.get("METTADB_ORDER_RUN_KEYS") or 200_000)
_SEQ = struct.Struct(">Q")

_DB_NAMES = (b"meta", b"atoms", b"rev", b"vx", b"heads")
#: the databases that come in two slots (format 2): a bulk load builds the inactive
#: slot over several transactions and one final transaction makes it the active one
SLOTTED = (b"atoms", b"rev", b"vx", b"heads")


def _slot_name(name: bytes, slot: int) -> bytes:
    return name if slot == 0 or name not in SLOTTED else name + b"~1"


def as_atom(a: AtomLike) -> Atom:
    """An atom, parsing MeTTa text."""
    if isinstance(a, Atom):
        return a
    if isinstance(a, str):
        return parse_atom(a)
    raise TypeError(f"expected an Atom or MeTTa text, not {type(a).__name__}")


def _release_dropped(pid: int, real: str, env: lmdb.Environment) -> None:
    """Give back the handle of a Store collected without `close()` (in the process that opened it)."""
    if os.getpid() == pid:
        lmdb_env.release(real, env)


class Store:
    """A multiset of atoms stored on disk, like hyperon's space: adding an atom twice keeps two copies.

    Users get the subclass `mettadb.Space` from `mettadb.open()`, which adds
    loading, queries and evaluation on top.
    """

    def __init__(self, path: PathLike | None = None, *, readonly: bool = False, create: bool = True,
                 mode: int = 0o600, map_size: int | None = None, max_map_size: int | None = None,
                 durable: bool = True, for_migration: bool = False) -> None:
        if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike, type(None))):
            raise TypeError(f"a space's path is text (str or os.PathLike), not {type(path).__name__}")
        for flag, value in (("readonly", readonly), ("create", create), ("durable", durable)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be True or False, not {value!r}"[:200])
        for size_name, size_value in (("map_size", map_size), ("max_map_size", max_map_size)):
            if size_value is not None and (isinstance(size_value, bool) or not isinstance(size_value, int)
                                           or size_value < 0):
                raise TypeError(f"{size_name} must be a number of bytes or None, not {size_value!r}"[:200])
        given = os.fspath(path) if path is not None else os.environ.get("METTADB_DB") or DEFAULT_PATH
        if not isinstance(given, str):  # (an os.PathLike of bytes)
            raise TypeError(f"a space's path is text, not {type(given).__name__}")
        if not given:  # (abspath would make it the working directory)
            raise MettaDBError("the path is empty")
        self.path = os.path.abspath(given)
        self.max_map_size = max_map_size
        self.note: str | None = None
        #: why LMDB found the space damaged in this process, if it did: no more writes then (LMDB trusts its
        #: pages; a write through a damaged one spreads the damage, or reads past the file's end)
        self.damage: str | None = None
        self._closed = True
        data = os.path.join(self.path, "data.mdb")
        exists = os.path.exists(data)
        if exists and not os.access(data, os.R_OK):
            raise MettaDBError(f"permission denied: {self.path}")
        if exists:
            why = lmdb_env.data_file_damage(data)
            if why == lmdb_env.EMPTY:
                # (LMDB creating a space leaves the file empty for an instant, under its exclusive lock,
                # before it writes the meta pages: wait that out, but never start a new space over an
                # emptied one, whose truncation is evidence)
                why = lmdb_env.settled_damage(data)
            if why is not None:
                raise DamagedSpaceError(self.damage_message(why), why)
        if not exists:
            if readonly or not create:
                raise MettaDBError(f"no space at {self.path}")
            if os.path.exists(self.path) and not os.path.isdir(self.path):
                raise MettaDBError(f"{self.path} is not a directory")
            # only the space's own directory is made: a mistyped parent is an error, not a new directory tree
            parent = os.path.dirname(self.path)
            if not os.path.isdir(parent):
                why = "is not a directory" if os.path.exists(parent) else "does not exist"
                raise MettaDBError(f"cannot create {self.path}: {parent} {why}")
            try:
                os.mkdir(self.path, mode=mode | ((mode & 0o444) >> 2))
            except FileExistsError:
                pass  # (made meanwhile by another process)
            except OSError as e:
                raise MettaDBError(f"cannot create {self.path}: {e.strerror}") from None
        elif not readonly and not os.access(data, os.W_OK):
            readonly = True
            self.note = f"{self.path} is not writable by you: opened read-only"
        lock = True
        lock_file = os.path.join(self.path, "lock.mdb")
        if readonly and exists and not os.access(lock_file, os.W_OK) \
                and (os.path.exists(lock_file) or not os.access(self.path, os.W_OK)):
            # LMDB readers register in lock.mdb (LMDB creates it where it may: a fresh backup has
            # none); without write access there, read unlocked
            lock = False
            self.note = (f"{self.path} is not writable by you: opened read-only, without reader locks "
                         "(a writer running meanwhile could disturb this session)")
        self.readonly = readonly
        self._for_migration = for_migration
        self._real = os.path.realpath(self.path)

        def open_env() -> lmdb.Environment:
            size = map_size or lmdb_env.initial_map_size(data)
            if max_map_size:
                size = min(size, max_map_size)
            try:
                return lmdb.open(self._real, map_size=size, subdir=True, readonly=readonly,
                                 max_dbs=2 * len(_DB_NAMES) + 2, mode=mode, create=not readonly, writemap=False,
                                 metasync=durable, sync=durable, readahead=False, max_readers=254, lock=lock)
            except lmdb.Error as e:
                raise MettaDBError(f"cannot open {self.path}: {e}") from None

        try:
            self.env, self._data = lmdb_env.acquire(self._real, readonly, open_env)
        except ValueError:
            raise MettaDBError(f"{self.path} is already open read-only in this process: close() that space "
                               "(or leave its `with` block) before opening it to write") from None
        # a Store dropped without close() gives its handle back when collected (the finalizer holds the
        # environment, not the Store); not at exit, nor in a forked child (LMDB's close there would
        # clear the parent's reader slots)
        self._release = weakref.finalize(self, _release_dropped, os.getpid(), self._real, self.env)
        self._release.atexit = False
        self._closed = False
        self._local = threading.local()
        try:
            self._open_dbs()
        except lmdb_env.DAMAGE_ERRORS as e:
            self.close()
            raise self.damaged(e) from None
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ setup
    def _open_dbs(self) -> None:
        env = self.env
        slots: list[Dbs | None] = [None, None]

        def dbs_of(open_db: Callable[[bytes, bool], Any], meta: Any) -> Dbs:
            return Dbs(meta, *(open_db(_slot_name(n, slot), n == b"vx") for n in _DB_NAMES[1:]))

        if self.readonly:
            try:
                meta = env.open_db(b"meta", create=False)
            except lmdb.NotFoundError:
                with env.begin() as txn:
                    self._refuse_unrecognised(txn)
                raise FormatVersionError(f"{self.path} is not a mettadb space") from None
            self._meta_db = meta
            with env.begin() as txn:
                if txn.get(b"format_version", db=meta) is None and txn.stat(meta)["entries"]:
                    raise self.unreadable_version()  # (the migration runner would take it for format 0)
            for slot in (0, 1):
                try:
                    slots[slot] = dbs_of(lambda name, dup: env.open_db(name, create=False, dupsort=dup), meta)
                except lmdb.NotFoundError:
                    slots[slot] = None  # format 1 has one slot; format 0 has neither
            self._slots, self._slot = slots, 0
            self._dbs = slots[0] or Dbs(meta, meta, meta, meta, meta)
            if slots[0] is None:
                return  # a format-0 space read by the migration runner: only its meta is used
            if not self._for_migration:
                self._check_version()
            if slots[0] is None and not self._for_migration:
                raise FormatVersionError(
                    f"{self.path} has format version {self.format_version} and cannot be read by this release; "
                    f"run `mettadb --db {self.path} migrate`")
        else:
            with env.begin(write=True) as txn:
                if txn.get(b"meta") is None:
                    self._refuse_unrecognised(txn)  # (a new space's main database is empty)
                meta = env.open_db(b"meta", txn=txn)
                self._meta_db = meta
                for slot in (0, 1):
                    slots[slot] = dbs_of(lambda name, dup: env.open_db(name, txn=txn, dupsort=dup), meta)
                first = slots[0]
                assert first is not None
                if txn.get(b"format_version", db=meta) is None:
                    if txn.stat(meta)["entries"] or txn.stat(first.atoms)["entries"]:
                        raise self.unreadable_version()  # (never taken for a new space, nor for format 0)
                if txn.get(b"format_version", db=meta) is None and not self._for_migration:
                    for k, v in ((b"format_version", FORMAT_VERSION), (b"generation", 0), (b"atoms", 0),
                                 (b"distinct", 0), (b"slot", 0), (b"seq", FIRST_SEQ)):
                        txn.put(k, pack_value(v), db=meta)
        first = slots[0]
        assert first is not None
        self._slots, self._slot, self._dbs = slots, 0, first
        with self.read():
            pass  # picks the active slot
        if not self._for_migration:
            self._check_version()

    def sync_slot(self, txn: Txn) -> None:
        """Point `dbs` at the slot active in `txn`'s snapshot."""
        slot = 1 if txn.get(b"slot", db=self._meta_db) == b"\x01" else 0
        if slot != self._slot:
            dbs = self._slots[slot]
            if dbs is None:
                raise FormatVersionError(f"{self.path}: slot {slot} is active but missing")
            self._slot, self._dbs = slot, dbs

    def _refuse_unrecognised(self, txn: Txn) -> None:
        """Refuse an environment without mettadb's `meta` database whose main database holds anything:
        damaged if it lists more entries than can be read, else not a mettadb space (never initialised
        over: its data would be lost)."""
        listed = self.env.stat()["entries"]  # (the main database's count, from the meta page)
        if not listed:
            return
        keys = [k for k, _ in txn.cursor()]
        # LMDB keeps keys non-empty and in order; one of mettadb's own names means its meta was lost
        ours = {_slot_name(n, slot) for n in _DB_NAMES for slot in (0, 1)}
        if len(keys) != listed or not all(keys) or any(a >= b for a, b in itertools.pairwise(keys)) \
                or ours.intersection(keys):
            why = f"its main database (listing {listed} entries) is unreadable"
            raise DamagedSpaceError(self.damage_message(why), why)
        raise FormatVersionError(f"{self.path} is not a mettadb space")

    def unreadable_version(self) -> DamagedSpaceError:
        """The error of a space whose format version record is missing while it holds data."""
        why = "its format version record is unreadable"
        return DamagedSpaceError(self.damage_message(why), why)

    def _check_version(self) -> None:
        if self.meta(b"format_version") is None:
            raise self.unreadable_version()
        v = self.format_version
        if v > FORMAT_VERSION:
            raise FormatVersionError(
                f"{self.path} has format version {v}, newer than this mettadb understands ({FORMAT_VERSION}); upgrade mettadb")
        if v < READABLE_SINCE:
            raise FormatVersionError(
                f"{self.path} has format version {v}; run `mettadb --db {self.path} migrate` to upgrade it to {FORMAT_VERSION}")

    def close(self) -> None:
        """Release the environment (the last Store of a path closes it)."""
        if self._closed:
            return
        self._closed = True
        self._release.detach()
        lmdb_env.release(self._real, self.env)

    def damage_message(self, why: str, check: bool = False) -> str:
        """The text of a DamagedSpaceError of this space: what is wrong and what to do (`check`: suggest
        `mettadb check`, which can open the space and list the damage)."""
        hint = f"`mettadb --db {self.path} check` shows the damage; " if check else ""
        return f"{self.path} is damaged: {why}; {hint}restore the space from a backup (`mettadb backup` makes one)"

    @contextlib.contextmanager
    def decoding(self) -> Iterator[None]:
        """Raise a stored record that does not decode inside the block (its bytes are not what mettadb
        wrote) as DamagedSpaceError; for reads that run nothing of the user's (dump, stats, check, match),
        at their boundary rather than per record."""
        try:
            yield
        except MettaDBError as e:
            if not isinstance(e, DecodeError):
                raise
            why = f"a stored record does not decode ({e})"
        except DECODE_DAMAGE as e:
            why = f"a stored record does not decode ({type(e).__name__}: {e})"
        else:
            return
        self.damage = self.damage or why
        raise DamagedSpaceError(self.damage_message(why, check=True), why) from None

    def damaged(self, e: lmdb.Error) -> DamagedSpaceError:
        """The DamagedSpaceError an LMDB error of `lmdb_env.DAMAGE_ERRORS` becomes."""
        why = f"LMDB reports {lmdb_env.damage_text(e)}"
        self.damage = self.damage or why
        return DamagedSpaceError(self.damage_message(why, check=True), why)

    def check_file(self) -> None:
        """Refuse a data file that shrank since it was opened (DamagedSpaceError): reading past its end kills
        the process.  Called as each transaction of `read`, `pinned`, `transaction` and `write` begins."""
        was = self._data.size
        size = self._data.shrunk()
        if size is not None:
            why = f"its data file shrank from {was:,} to {size:,} bytes while it was open"
            raise DamagedSpaceError(self.damage_message(why), why)

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise MettaDBError(f"{self.path} is closed")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r}{' read-only' if self.readonly else ''}>"

    # ------------------------------------------------------------------ slots and snapshots
    @property
    def dbs(self) -> Dbs:
        """The databases of the live slot (as of the innermost `read` or write transaction)."""
        return self._dbs

    @property
    def slot(self) -> int:
        """Which slot `dbs` is (0 or 1)."""
        return self._slot

    def slot_dbs(self, slot: int) -> Dbs | None:
        """The databases of a slot; None where the format has no second slot."""
        return self._slots[slot]

    @property
    def meta_db(self) -> Any:
        """The `meta` database, shared by both slots."""
        return self._meta_db

    @contextlib.contextmanager
    def read(self) -> Iterator[Txn]:
        """A read snapshot (the thread's open transaction, if it has one)."""
        cur: Txn | None = getattr(self._local, "txn", None)
        if cur is not None:
            yield cur
            return
        self._check_open()
        self.check_file()
        txn = lmdb_env.begin_read(self.env)
        try:
            self.sync_slot(txn)
            yield txn
        except lmdb_env.DAMAGE_ERRORS as e:
            raise self.damaged(e) from None
        finally:
            txn.abort()

    @contextlib.contextmanager
    def pinned(self) -> Iterator[Txn]:
        """One read snapshot that every read of this thread uses until the block ends."""
        if getattr(self._local, "txn", None) is not None:
            with self.read() as txn:
                yield txn
            return
        self._check_open()
        self.check_file()
        txn = lmdb_env.begin_read(self.env)
        self._local.txn = txn
        try:
            self.sync_slot(txn)
            yield txn
        except lmdb_env.DAMAGE_ERRORS as e:
            raise self.damaged(e) from None
        finally:
            self._local.txn = None
            txn.abort()

    def current_txn(self) -> Txn | None:
        """The transaction this thread has open on the store (pinned read or write), if any."""
        txn: Txn | None = getattr(self._local, "txn", None)
        return txn

    def current_writer(self) -> Writer | None:
        """The writer of this thread's open `transaction()`, if any."""
        w: Writer | None = getattr(self._local, "writer", None)
        return w

    # ------------------------------------------------------------------ writes
    def grow(self, need: int = 0) -> None:
        """Double the map (at least `need` more bytes), up to `max_map_size`."""
        cur = self.env.info()["map_size"]
        new = max(cur * 2, cur + need)
        if self.max_map_size and new > self.max_map_size:
            if cur >= self.max_map_size:
                raise SpaceFullError(f"{self.path} reached its size cap of {self.max_map_size} bytes; nothing was written")
            new = self.max_map_size
        self.env.set_mapsize(new)

    def used_bytes(self) -> int:
        """Bytes of the map in use."""
        return lmdb_env.used_bytes(self.env)

    def ensure_headroom(self, need: int) -> None:
        """Grow the map now if fewer than `need` bytes are free in it."""
        if self.env.info()["map_size"] - self.used_bytes() < need:
            with contextlib.suppress(SpaceFullError):  # a cap only matters if the write really needs it
                self.grow(need)

    def require_writable(self) -> None:
        """Raise ReadOnlyError (or the closed error) unless this store can write."""
        self._check_open()
        if self.readonly:
            raise ReadOnlyError(f"{self.path} is open read-only")
        if self.damage is not None:
            raise DamagedSpaceError(self.damage_message(self.damage, check=True), self.damage)

    def write(self, fn: Callable[[Writer], Any], need: int = 0) -> Any:
        """Run fn in one write transaction (or the thread's `transaction()`); retried on a full map after growing it."""
        self.require_writable()
        local = self._local
        if getattr(local, "writer", None) is not None:
            # inside transaction(): every write is kept so that a full map can be grown and
            # the whole transaction replayed, unseen by the caller
            local.ops.append(fn)
            while True:
                try:
                    return fn(local.writer)
                except lmdb.MapFullError:
                    self._regrow_and_replay(upto=len(local.ops) - 1)
        self.ensure_headroom(need + (1 << 20))

        unchanged: list[Writer] = []

        def body(txn: Txn) -> Any:
            unchanged.clear()
            self.sync_slot(txn)
            w = Writer(txn, self._dbs)
            result = fn(w)
            if w.changed:
                w.finish()
            else:
                unchanged.append(w)  # committing an empty transaction is harmless, but skip the fsync
            return result

        return self.in_write_txn(body, commit=lambda: not unchanged)

    def in_write_txn(self, body: Callable[[Txn], Any], commit: Callable[[], bool] = lambda: True) -> Any:
        """Run body in a write transaction and commit (unless `commit()` says not to); a full map is grown
        and body run again."""
        self.require_writable()
        self.check_file()
        while True:
            txn = lmdb_env.begin_write(self.env)
            try:
                result = body(txn)
                if commit():
                    txn.commit()
                else:
                    txn.abort()
                return result
            except lmdb.MapFullError:
                txn.abort()
                self.grow()
            except lmdb.Error as e:
                txn.abort()
                raise self.write_error(e) from None
            except BaseException:
                txn.abort()
                raise

    def write_error(self, e: lmdb.Error) -> MettaDBError:
        """The error a failed write transaction becomes (the space is unchanged either way)."""
        if lmdb_env.is_enospc(e, self.path):
            return SpaceFullError(f"no space left on the device holding {self.path}; the space is unchanged")
        if isinstance(e, lmdb_env.DAMAGE_ERRORS):
            return self.damaged(e)
        return MettaDBError(f"{self.path}: {e}")

    def _regrow_and_replay(self, upto: int) -> None:
        """Abort the open transaction, grow the map, and redo its first `upto` writes in a new one."""
        local = self._local
        with contextlib.suppress(Exception):
            local.writer.txn.abort()
        self.grow()
        txn = lmdb_env.begin_write(self.env)
        self.sync_slot(txn)
        w = Writer(txn, self._dbs)
        local.writer, local.txn = w, w.txn
        for fn in local.ops[:upto]:
            while True:
                try:
                    fn(w)
                    break
                except lmdb.MapFullError:
                    return self._regrow_and_replay(upto)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes: they commit together at the end, or not at all on an exception.

        A map that fills up meanwhile is grown and the writes so far are replayed;
        the caller never sees it.  A transaction that wrote nothing commits
        nothing: the generation stays as it was.
        """
        local = self._local
        if getattr(local, "writer", None) is not None:
            yield self
            return
        self.require_writable()
        self.check_file()
        self.ensure_headroom(1 << 20)
        txn = lmdb_env.begin_write(self.env)
        try:
            self.sync_slot(txn)
        except BaseException:
            txn.abort()
            raise
        w = Writer(txn, self._dbs)
        local.writer, local.txn, local.ops = w, w.txn, []
        try:
            yield self
            if not local.writer.changed:
                local.writer.txn.abort()  # nothing written: no commit, no new generation
            while local.writer.changed:
                try:
                    local.writer.finish()
                    local.writer.txn.commit()
                    break
                except lmdb.MapFullError:
                    self._regrow_and_replay(upto=len(local.ops))
                except lmdb.Error as e:
                    raise self.write_error(e) from None
        except lmdb_env.DAMAGE_ERRORS as e:
            with contextlib.suppress(Exception):
                local.writer.txn.abort()
            raise self.damaged(e) from None
        except BaseException:
            with contextlib.suppress(Exception):
                local.writer.txn.abort()
            raise
        finally:
            local.writer = local.txn = local.ops = None

    # ------------------------------------------------------------------ metadata
    def meta(self, key: bytes) -> Any:
        """A value of the `meta` database (None if absent)."""
        with self.read() as txn:
            raw = txn.get(key, db=self._meta_db)
        return unpack_value(raw) if raw is not None else None

    @property
    def format_version(self) -> int:
        """The on-disk format version of this space."""
        return int(self.meta(b"format_version") or 0)

    @property
    def generation(self) -> int:
        """Bumped by every write commit; names one committed version."""
        return int(self.meta(b"generation") or 0)

    def __len__(self) -> int:
        return int(self.meta(b"atoms") or 0)

    @property
    def distinct(self) -> int:
        """Number of distinct atoms (`len()` counts copies)."""
        return int(self.meta(b"distinct") or 0)

    def stats(self) -> dict[str, Any]:
        """Totals, size on disk and per-head counts (`arity` counts the arguments, hyperon-style)."""
        heads = []
        with self.read() as txn:
            meta = {k.decode(): unpack_value(v) for k, v in txn.cursor(db=self._meta_db)
                    if not k.startswith((NODE_PREFIX, LOADED_PREFIX))}  # (binary keys, not totals)
            for hk, v in txn.cursor(db=self._dbs.heads):
                d, t = unpack_value(v)
                toks = split_tokens(hk)
                if len(toks) == 2:
                    head = str(decode(toks[1]))
                    arity = toks[0][0]
                elif toks[0][0] < 0x40:
                    head, arity = "(expression)", toks[0][0]
                else:
                    head, arity = "(atom)", 0
                heads.append({"head": head, "arity": arity, "distinct": d, "atoms": t})
            entries = {name: txn.stat(db)["entries"] for name, db in self._dbs.named().items()}
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

    # ------------------------------------------------------------------ CRUD
    def add(self, atom: AtomLike, count: int = 1, *, seq: int | None = None) -> None:
        """Add `count` copies of an atom (a new one numbered `seq`, from `reserve_seq`, if given)."""
        path, names = encode_with_names(as_atom(atom))
        self.add_encoded(path, names, count, seq=seq)

    def add_encoded(self, path: bytes, names: list[str], count: int = 1, *, seq: int | None = None) -> None:
        """`add` of an atom already encoded (`encoding.encode_with_names`)."""
        self.write(lambda w: w.add_path(path, names or None, None, count, seq=seq))

    def reserve_seq(self) -> int:
        """Take an insertion number now for an atom added later (`add(atom, seq=...)`): it is then
        ordered where it was reserved, before the atoms added meanwhile."""
        return int(self.write(lambda w: w.reserve_seq()))

    def add_all(self, atoms: Iterable[AtomLike]) -> int:
        """Add each atom once more, all in one transaction; returns how many were added."""
        items = [encode_with_names(as_atom(a)) for a in atoms]

        def run(w: Writer) -> int:
            for path, names in items:
                w.add_path(path, names or None, None)
            return len(items)

        return int(self.write(run))

    def remove(self, atom: AtomLike, count: int = 1, *, exact: bool = False) -> bool:
        """Remove one copy (or `count`) of an atom; False if absent.

        With `exact`, only copies with the atom's variable names, as hyperon removes (`(p $y)` leaves a
        stored `(p $x)`); without, copies with its names first, then any equal up to variable
        renaming, the last added first."""
        path, names = encode_with_names(as_atom(atom))

        def run(w: Writer) -> int:
            n = w.remove_path(path, count, names)
            if n < count and not exact and names:
                n += w.remove_path(path, count - n, True)
            return n

        return bool(self.write(run))

    def replace(self, old: AtomLike, new: AtomLike, *, exact: bool = False) -> bool:
        """Remove one copy of `old` (as `remove` does) and add `new`, atomically; False (and no change)
        if `old` is absent."""
        op, on = encode_with_names(as_atom(old))
        np_, nn = encode_with_names(as_atom(new))

        def run(w: Writer) -> bool:
            if not w.remove_path(op, 1, on) and (exact or not on or not w.remove_path(op, 1, True)):
                return False
            w.add_path(np_, nn or None, None)
            return True

        return bool(self.write(run))

    def clear(self) -> None:
        """Remove every atom."""
        self.write(lambda w: w.clear())

    # ------------------------------------------------------------------ reads
    def records(self, *, ordered: bool = False) -> Iterator[tuple[bytes, Record]]:
        """(primary key, record) of each distinct atom, from one snapshot: in key order, or with `ordered`
        in insertion order (hyperon's order). Both stream: the insertion order is an external sort of
        (number, key) pairs, at most `ORDER_RUN_KEYS` of them in memory, each record read again by key."""
        if ordered:
            yield from self._records_by_seq()
            return
        with self.read() as txn:
            for key, raw in txn.cursor(db=self._dbs.atoms):
                yield key, Record(key, raw)

    def _records_by_seq(self) -> Iterator[tuple[bytes, Record]]:
        """`records(ordered=True)`: (number, key) pairs sorted in bounded memory, records read again.  A
        key holding several atoms equal up to variable names (`Record.variants`) comes once per atom, at
        the atom's number, as a record of that atom alone."""
        seq_of = Record.seq_of
        with self.read() as txn, tempfile.TemporaryDirectory(prefix="mettadb-order-") as tmp, \
                KeyRuns(tmp, "order", bucket_keys=ORDER_RUN_KEYS) as runs:
            db = self._dbs.atoms
            add, budget = runs.append, ORDER_RUN_KEYS
            several = 0
            for key, raw in txn.cursor(db=db):
                if has_variants(raw):
                    for _n, _c, s in Record(key, raw).variants:
                        add(_SEQ.pack(max(s, 0)) + key)
                    several += 1
                else:
                    add(_SEQ.pack(max(seq_of(key, raw), 0)) + key)
                if len(runs.keys) >= budget:
                    runs.spill()
            get = txn.get
            split: dict[bytes, dict[int, Record]] = {}  # (a few keys' variants by number, made once a key)
            for _lo, _hi, entries in runs.buckets():
                for entry in entries:
                    key = entry[8:]
                    if several:
                        parts = split.get(key)
                        if parts is not None:
                            yield key, parts[_SEQ.unpack(entry[:8])[0]]
                            continue
                    again = get(key, db=db)
                    assert again is not None  # the same snapshot
                    rec = Record(key, again)
                    if several and rec.more is not None:
                        if len(split) >= 64:
                            split.clear()
                        parts = split[key] = {v[2]: Record(key, one) for v, one in
                                              zip(rec.variants, rec.variant_raws(is_hashed(key)), strict=True)}
                        rec = parts[_SEQ.unpack(entry[:8])[0]]
                    yield key, rec

    def atoms(self, *, distinct: bool = False, ordered: bool = False) -> Iterator[Atom]:
        """Every atom in key order, or with `ordered` in insertion order (each copy, unless distinct; copies
        come together, as in hyperon); variables keep their names (atoms equal up to them are distinct)."""
        for _key, rec in self.records(ordered=ordered):
            for names, count, _seq in rec.variants:
                atom = decode(rec.path, names)
                for _ in range(1 if distinct else count):
                    yield atom

    def items(self, *, ordered: bool = False) -> Iterator[tuple[Atom, int]]:
        """(atom, count) for each distinct atom (key order, or insertion order with `ordered`)."""
        for _key, rec in self.records(ordered=ordered):
            for names, count, _seq in rec.variants:
                yield decode(rec.path, names), count

    def __iter__(self) -> Iterator[Atom]:
        return self.atoms()

    def count(self, atom: AtomLike, *, exact: bool = False) -> int:
        """How many copies of the atom (up to variable renaming; with `exact`, with its variable names)
        the space holds."""
        path, names = encode_with_names(as_atom(atom))
        return self.count_path(path, names if exact else True)

    def count_path(self, path: bytes, names: list[str] | bool | None = True) -> int:
        """`count` of an atom already encoded (`encoding.encode_with_names`): of the atom with `names`
        (None or [] for none), or with True of every atom equal up to variable renaming."""
        key = storage_key(path)
        txn = self.current_txn()
        if txn is not None:  # inside the thread's transaction (a script's step): no context manager
            w = self.current_writer()
            if w is not None and names is not True:
                got = w.kept_count(key, names)  # type: ignore[arg-type]
                if got is not None:
                    return got
            raw = txn.get(key, db=self._dbs.atoms)
        else:
            with self.read() as txn:
                raw = txn.get(key, db=self._dbs.atoms)
        if raw is None:
            return 0
        rec = Record(key, raw)
        if names is True:
            return int(rec.count)
        mine = names or None
        return sum(c for n, c, _s in rec.variants if n == mine)

    def __contains__(self, atom: object) -> bool:
        if not isinstance(atom, (Atom, str)):
            return False
        return self.count(atom) > 0

    def copy_to(self, dest: PathLike, compact: bool = False) -> None:
        """A consistent copy of the space at `dest` (LMDB's copy; safe while others write), owner-only."""
        self._check_open()
        d = os.fspath(dest)
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            self.env.copy(d, compact=compact)
            for name in os.listdir(d):
                os.chmod(os.path.join(d, name), 0o600)
        except lmdb.Error as e:
            raise MettaDBError(f"cannot copy to {d}: {e}") from None
        except OSError as e:
            raise MettaDBError(f"cannot copy to {d}: {e.strerror}") from None
