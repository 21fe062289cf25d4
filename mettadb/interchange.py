"""Moving spaces in and out: MeTTa text, JSON lines, and MORK's binary `.paths` dumps.

`.paths` is a zlib stream of records, each a little-endian u32 length and that
many bytes of expression path, as MORK (without its `interning` feature)
writes and reads it.  Paths that need mettadb's extension tags (symbols of 64
bytes or more, expressions wider than 63, ...) are written too, so a
mettadb-to-mettadb round trip is lossless; MORK cannot read those records,
and `export_paths` counts them.  Variable names are not part of a path.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from .encoding import check_path, split_tokens
from .errors import DecodeError, MettaDBError

__all__ = ["FORMATS", "ExportReport", "export_space", "read_paths"]

FORMATS = ("metta", "jsonl", "paths")
_U32 = struct.Struct("<I")


class ExportReport:
    """What an export wrote."""

    def __init__(self) -> None:
        self.atoms = 0
        self.extended = 0  # paths that use mettadb's extension tags (not readable by MORK)


def _uses_extension(path: bytes) -> bool:
    return any(0x40 <= t[0] < 0x80 for t in split_tokens(path))


def export_space(space: Any, out: IO[bytes], fmt: str = "metta",
                 progress: Callable[[int], None] | None = None) -> ExportReport:
    """Write every atom (each copy) of the space to a binary stream in the given format."""
    if fmt not in FORMATS:
        raise MettaDBError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    report = ExportReport()
    if fmt == "paths":
        z = zlib.compressobj(6)
        for _key, rec in space.records():
            if _uses_extension(rec.path):
                report.extended += rec.count
            record = _U32.pack(len(rec.path)) + rec.path
            for _ in range(rec.count):
                out.write(z.compress(record))
                report.atoms += 1
            if progress is not None and not report.atoms & 0x3FFF:
                progress(report.atoms)
        out.write(z.flush())
        return report
    for atom in space.atoms():
        text = str(atom)
        line = json.dumps(text, ensure_ascii=False) if fmt == "jsonl" else text
        out.write(line.encode("utf-8") + b"\n")
        report.atoms += 1
        if progress is not None and not report.atoms & 0x3FFF:
            progress(report.atoms)
    return report


def read_paths(stream: IO[bytes], source: str = "<paths>") -> Iterator[tuple[bytes, list[str] | None]]:
    """Yield (path, variable names) from a `.paths` stream; DecodeError names the record on bad input."""
    d: Any = None
    buf = b""
    first = stream.read(1 << 16)
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):  # zlib-wrapped, else raw deflate
        try:
            d = zlib.decompressobj(wbits)
            buf = d.decompress(first)
            break
        except zlib.error:
            d = None
    if d is None:
        raise DecodeError(f"{source}: not a zlib stream")
    n = 0
    while True:
        pos, end = 0, len(buf)
        while end - pos >= 4:  # an offset into the buffer: slicing off each record would copy the rest
            (length,) = _U32.unpack_from(buf, pos)
            if end - pos < 4 + length:
                break
            path = buf[pos + 4:pos + 4 + length]
            pos += 4 + length
            n += 1
            try:
                nvars = check_path(path)
            except DecodeError as e:
                raise DecodeError(f"{source}: record {n}: {e}") from None
            yield path, [f"_{i}" for i in range(nvars)] if nvars else None
        buf = buf[pos:]
        chunk = stream.read(1 << 16)
        if not chunk:
            try:
                buf += d.flush()
            except zlib.error as e:
                raise DecodeError(f"{source}: corrupt stream: {e}") from None
            if not buf:
                return
            if len(buf) < 4 or len(buf) < 4 + _U32.unpack_from(buf)[0]:
                raise DecodeError(f"{source}: truncated record {n + 1}")
            continue
        try:
            buf += d.decompress(chunk)
        except zlib.error as e:
            raise DecodeError(f"{source}: corrupt stream: {e}") from None
