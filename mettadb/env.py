"""LMDB environments: one per path and process, typed helpers around py-lmdb.

py-lmdb returns `bytes` from transactions begun with `buffers=False` (the
only kind mettadb begins); its stubs say so when a transaction is annotated
`Transaction[bytes]`, which is what `Txn` is.  Everything LMDB-specific that
is not about the layout of mettadb's data lives here: opening an environment
once per process (LMDB forbids two handles on one file), growing its map,
and recognising a full disk.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import lmdb

if TYPE_CHECKING:
    Txn: TypeAlias = lmdb.Transaction[bytes]
    Cursor: TypeAlias = lmdb.Cursor[bytes]
    Db: TypeAlias = lmdb._Database

__all__ = ["MIN_MAP", "Cursor", "Db", "Dbs", "Txn", "acquire", "begin_read", "begin_write", "initial_map_size",
           "is_enospc", "prefix_items", "reclaim_readers", "release", "used_bytes"]

MIN_MAP = 64 << 20

_LOCK = threading.Lock()


@dataclass
class _Shared:
    env: lmdb.Environment
    handles: int
    readonly: bool


#: realpath -> the environment open in this process
_OPEN: dict[str, _Shared] = {}


def acquire(real: str, readonly: bool, open_env: Callable[[], lmdb.Environment]) -> lmdb.Environment:
    """The process's environment for `real`, opened by `open_env` if it is not open yet."""
    with _LOCK:
        entry = _OPEN.get(real)
        if entry is not None:
            if entry.readonly and not readonly:
                raise ValueError("already open read-only in this process")
            entry.handles += 1
            return entry.env
        env = open_env()
        _OPEN[real] = _Shared(env, 1, readonly)
        return env


def release(real: str, env: lmdb.Environment) -> None:
    """Drop one handle; the last one closes the environment."""
    with _LOCK:
        entry = _OPEN.get(real)
        if entry is not None and entry.env is env:
            entry.handles -= 1
            if entry.handles <= 0:
                del _OPEN[real]
                env.close()


def reclaim_readers(path: str) -> None:
    """Free reader slots left by dead processes (LMDB's reader_check), if the path is open here."""
    with _LOCK:
        entry = _OPEN.get(os.path.realpath(path))
    if entry is not None:
        try:
            entry.env.reader_check()
        except lmdb.Error:
            pass


def begin_read(env: lmdb.Environment) -> Txn:
    """A read transaction returning bytes; follows a map another process grew."""
    try:
        return env.begin(buffers=False)
    except lmdb.MapResizedError:
        env.set_mapsize(0)
        return env.begin(buffers=False)


def begin_write(env: lmdb.Environment) -> Txn:
    """A write transaction returning bytes."""
    return env.begin(write=True, buffers=False)


def initial_map_size(data_file: str) -> int:
    """Twice the data file, rounded up to a power of two, at least `MIN_MAP`."""
    try:
        size = os.path.getsize(data_file)
    except OSError:
        size = 0
    return max(MIN_MAP, 1 << max(size * 2, 1).bit_length())


def prefix_items(cur: Cursor, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of every key starting with `prefix`, in order, from a cursor (moved by it)."""
    if cur.set_range(prefix):
        for key, value in cur:
            if not key.startswith(prefix):
                break
            yield key, value


def used_bytes(env: lmdb.Environment) -> int:
    """Bytes of the map in use (up to the last page written)."""
    return (env.info()["last_pgno"] + 1) * env.stat()["psize"]


def is_enospc(e: BaseException, path: str | None = None) -> bool:
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


@dataclass(frozen=True)
class Dbs:
    """The named databases of one slot (docs/FORMAT.md); `meta` is shared by both slots."""

    meta: Db
    atoms: Db
    rev: Db
    vx: Db
    heads: Db

    def named(self) -> dict[str, Db]:
        """By name, for statistics."""
        return {"meta": self.meta, "atoms": self.atoms, "rev": self.rev, "vx": self.vx, "heads": self.heads}
