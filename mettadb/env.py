"""LMDB environments: one per path and process, typed helpers around py-lmdb.

py-lmdb returns `bytes` from transactions begun with `buffers=False` (the
only kind mettadb begins); its stubs say so when a transaction is annotated
`Transaction[bytes]`, which is what `Txn` is.  Everything LMDB-specific that
is not about the layout of mettadb's data lives here: opening an environment
once per process (LMDB forbids two handles on one file), growing its map,
recognising a full disk, and recognising a damaged file: one cut short (read
from its meta pages before LMDB maps it), one that shrinks while open, and the
errors LMDB gives for pages it never wrote.
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import lmdb

if TYPE_CHECKING:
    Txn: TypeAlias = lmdb.Transaction[bytes]
    Cursor: TypeAlias = lmdb.Cursor[bytes]
    Db: TypeAlias = lmdb._Database

__all__ = ["DAMAGE_ERRORS", "EMPTY", "MIN_MAP", "Cursor", "DataFile", "Db", "Dbs", "Txn", "acquire", "begin_read", "begin_write",
           "damage_text", "data_file_damage", "initial_map_size", "is_enospc", "prefix_items", "reclaim_readers", "release",
           "settled_damage", "used_bytes"]

MIN_MAP = 64 << 20

_LOCK = threading.Lock()


class DataFile:
    """The data file under an open environment, watched for shrinking (LMDB never shrinks it; a read
    past its end kills the process with SIGBUS).  One descriptor per environment, not per handle."""

    __slots__ = ("fd", "size")

    def __init__(self, path: str) -> None:
        try:
            self.fd = os.open(path, os.O_RDONLY)
            self.size = os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd, self.size = -1, 0

    def shrunk(self) -> int | None:
        """The file's size now if it is smaller than any size seen since the open, else None (one lseek)."""
        if self.fd < 0:
            return None
        size = os.lseek(self.fd, 0, os.SEEK_END)
        if size < self.size:
            return size
        self.size = size
        return None

    def close(self) -> None:
        """Close the descriptor."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class _Shared:
    env: lmdb.Environment
    handles: int
    readonly: bool
    file: DataFile


#: realpath -> the environment open in this process
_OPEN: dict[str, _Shared] = {}


def acquire(real: str, readonly: bool, open_env: Callable[[], lmdb.Environment]) -> tuple[lmdb.Environment, DataFile]:
    """The process's environment for `real` (opened by `open_env` if it is not open yet) and its data file."""
    with _LOCK:
        entry = _OPEN.get(real)
        if entry is not None:
            if entry.readonly and not readonly:
                raise ValueError("already open read-only in this process")
            entry.handles += 1
            return entry.env, entry.file
        env = open_env()
        entry = _OPEN[real] = _Shared(env, 1, readonly, DataFile(os.path.join(real, "data.mdb")))
        return env, entry.file


def release(real: str, env: lmdb.Environment) -> None:
    """Drop one handle; the last one closes the environment."""
    with _LOCK:
        entry = _OPEN.get(real)
        if entry is not None and entry.env is env:
            entry.handles -= 1
            if entry.handles <= 0:
                del _OPEN[real]
                entry.file.close()
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


#: py-lmdb's errors that mean the file holds what LMDB never wrote: a page of the wrong kind, a page
#: number past the end, a tree deeper than any LMDB builds, a bad checksum (LMDB 1.0), a bad meta page
DAMAGE_ERRORS: tuple[type[lmdb.Error], ...] = (
    lmdb.CorruptedError, lmdb.PageNotFoundError, lmdb.CursorFullError, lmdb.InvalidError,
    *((lmdb.BadChecksumError,) if hasattr(lmdb, "BadChecksumError") else ()))

# LMDB's two meta pages (pages 0 and 1, 64-bit build): after a 16-byte page header (its flags at byte
# 10), the meta record: magic, version, ..., the free-page tree's record whose first field is the page
# size (byte 40), ..., the last page number in use (byte 136) and the transaction id (byte 144)
_META = struct.Struct("=8x2xH4xII16xI92xQQ")
_P_META = 0x08
_MAGIC = 0xBEEFC0DE
_DATA_VERSION = 1
#: what `data_file_damage` says of an empty file (LMDB's own before it writes a new environment)
EMPTY = "its data file is empty"


def data_file_damage(data_file: str) -> str | None:
    """Why LMDB cannot safely map `data_file`, read from its meta pages without mapping it; None when
    they hold no such reason (or the file is not LMDB's: LMDB itself then refuses it).

    LMDB maps the file and reads the pages the newer of its two meta pages reaches, up to that meta's
    last page number; a file cut shorter than that would kill the process with SIGBUS at the first
    read past its end.  LMDB writes every page before the meta page that refers to it, so a sound file
    is never shorter.
    """
    if struct.calcsize("P") != 8:  # (the offsets are those of a 64-bit build)
        return None
    try:
        fd = os.open(data_file, os.O_RDONLY)
    except OSError:
        return None  # (opening it reports this better)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return EMPTY
        raw = os.pread(fd, _META.size, 0)
        if len(raw) >= 24 and struct.unpack_from("=I", raw, 16)[0] != _MAGIC:
            alt = os.pread(fd, _META.size, 4096)  # (the usual page size)
            if len(alt) == _META.size and _META.unpack(alt)[1] == _MAGIC:
                return "its first meta page is overwritten"
            return None  # not LMDB's file at all: LMDB says so
        if len(raw) < _META.size:
            return f"its data file is cut short ({size:,} bytes)"
        first = _META.unpack(raw)
        flags, _magic, version, psize, _last, _txnid = first
        if version != _DATA_VERSION:
            return None  # another LMDB format: LMDB says so
        if not flags & _P_META or psize < 512 or psize > 1 << 16 or psize & (psize - 1):
            return "its first meta page is overwritten"
        if size < 2 * psize:
            return f"its data file is cut short ({size:,} bytes, less than its two meta pages)"
        second = _META.unpack(os.pread(fd, _META.size, psize))
        if not second[0] & _P_META or second[1] != _MAGIC or second[2] != _DATA_VERSION:
            return "its second meta page is overwritten"
        newer = second if second[5] > first[5] else first  # (LMDB's choice: the higher transaction id)
        need = (newer[4] + 1) * psize
        if size < need:
            return f"its data file is cut short ({size:,} bytes; its last transaction needs {need:,})"
        return None
    finally:
        os.close(fd)


def settled_damage(data_file: str, wait: float = 0.5) -> str | None:
    """`data_file_damage` once an empty `data_file` has had `wait` seconds to get its first pages (a
    process creating the space writes them right after making the file)."""
    deadline = time.monotonic() + wait
    why = data_file_damage(data_file)
    while why == EMPTY and time.monotonic() < deadline:
        time.sleep(0.01)
        why = data_file_damage(data_file)
    return why


def damage_text(e: lmdb.Error) -> str:
    """LMDB's words for a damage error, without the C function's name: `MDB_CORRUPTED: Located page...`."""
    text = str(e)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith("mdb_") else text


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
