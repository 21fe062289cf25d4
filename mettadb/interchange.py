"""Moving spaces in and out: MeTTa text, JSON lines, and MORK's binary `.paths` dumps.

`.paths` is a zlib stream of records, each a little-endian u32 length and that
many bytes of expression path, as MORK (without its `interning` feature)
writes and reads it.  Paths that need mettadb's extension tags (symbols of 64
bytes or more, expressions wider than 63, ...) are written too, so a
mettadb-to-mettadb round trip is lossless; MORK cannot read those records,
and `export_paths` counts them.  Variable names are not part of a path.
"""

from __future__ import annotations

import functools
import json
import re
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from .atoms import Atom, unwritable
from .encoding import VALID_SYMBOL_PATTERN, check_path, checked_tokens, flat_pattern, split_tokens
from .errors import DecodeError, MettaDBError
from .keys import MAX_PLAIN

__all__ = ["FORMATS", "ExportReport", "block_items", "block_keys", "export_space", "metta_line", "numbered_block_keys",
           "paths_blocks", "read_paths"]

FORMATS = ("metta", "jsonl", "paths")
_U32 = struct.Struct("<I")
_UNSET: Any = object()
_LENGTH = b"...."  # a record's u32 length before its path, in `block_keys`' regex (compiled with re.S)
_PIECE = 256 << 10  # bytes of records `block_keys` cuts up at once


class ExportReport:
    """What an export wrote."""

    def __init__(self) -> None:
        self.atoms = 0
        self.extended = 0  # paths that use mettadb's extension tags (not readable by MORK)


def _uses_extension(path: bytes) -> bool:
    return any(0x40 <= t[0] < 0x80 for t in split_tokens(path))


def metta_line(atom: Atom, number: int) -> str:
    """The text of the `number`-th atom of a dump; a MettaDBError naming it if its text would not
    read back as the atom (`atoms.unwritable`: a symbol such as hyperon's `S("a b")`)."""
    text = str(atom)
    bad = unwritable(atom)
    if bad is None:
        return text
    raise MettaDBError(f"atom {number:,} in insertion order, {_clip(text)}, has no MeTTa text that reads back as it "
                       f"({_clip(bad)}); `export --format paths` writes every atom")


def _clip(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def export_space(space: Any, out: IO[bytes], fmt: str = "metta",
                 progress: Callable[[int], None] | None = None) -> ExportReport:
    """Write every atom (each copy) of the space to a binary stream in the given format, in insertion
    order (so a space loaded from it numbers its atoms, and tries its rules, as the original does)."""
    if fmt not in FORMATS:
        raise MettaDBError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    report = ExportReport()
    if fmt == "paths":
        z = zlib.compressobj(6)
        for _key, rec in space.records(ordered=True):
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
    for atom in space.atoms(ordered=True):
        if fmt == "jsonl":  # (hyperon's printed text, for other tools: not read back)
            line = json.dumps(str(atom), ensure_ascii=False)
        else:
            line = metta_line(atom, report.atoms + 1)
        out.write(line.encode("utf-8") + b"\n")
        report.atoms += 1
        if progress is not None and not report.atoms & 0x3FFF:
            progress(report.atoms)
    return report


def _open_zlib(stream: IO[bytes], source: str) -> tuple[Any, bytes]:
    """(decompressor, first decompressed bytes) of a zlib-wrapped or raw-deflate stream."""
    first = stream.read(1 << 16)
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):  # zlib-wrapped, else raw deflate
        try:
            d = zlib.decompressobj(wbits)
            return d, d.decompress(first)
        except zlib.error:
            continue
    raise DecodeError(f"{source}: not a zlib stream")


def _truncated(source: str, records: int) -> str:
    return (f"{source}: truncated: the compressed stream ends before its end marker (after {records:,} whole "
            "records); nothing was loaded")


def read_paths(stream: IO[bytes], source: str = "<paths>") -> Iterator[tuple[bytes, list[str] | None]]:
    """Yield (path, variable names) from a `.paths` stream; DecodeError names the record on bad input."""
    d, buf = _open_zlib(stream, source)
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
            if not d.eof:
                raise DecodeError(_truncated(source, n))
            if not buf:
                return
            if len(buf) < 4 or len(buf) < 4 + _U32.unpack_from(buf)[0]:
                raise DecodeError(f"{source}: truncated record {n + 1}")
            continue
        try:
            buf += d.decompress(chunk)
        except zlib.error as e:
            raise DecodeError(f"{source}: corrupt stream: {e}") from None


def paths_blocks(stream: IO[bytes], source: str = "<paths>", block_size: int = 4 << 20,
                 numbered: bool = True, taper: int = 0) -> Iterator[tuple[bytes, int]]:
    """Decompressed `.paths` data in blocks of whole records: (block, number of its first record).

    With `numbered` False the number is 0 and runs of records shorter than 256
    bytes are skipped over by one regex match instead of record by record
    (for workers, which only need a number to name a bad record; a load that
    meets one reads the dump again numbered).  With `taper` (the stream's
    compressed size), blocks near the end shrink to a quarter of what is left
    (estimated from the compression so far), down to 1/16 of `block_size`: the
    processes sharing them finish together.  Raises DecodeError for a stream
    that is not zlib, is corrupt or ends inside a record.
    """
    d, buf = _open_zlib(stream, source)
    full = block_size
    out = 0  # decompressed bytes yielded (with buf: made so far)
    unpack = _U32.unpack_from
    skip = None if numbered else _skip_pattern().match
    n = 1
    pos = 0  # start of the first record not yet walked over
    count = 0  # whole records in buf[:pos]
    eof = False
    while True:
        end = len(buf)
        while end - pos >= 4 and pos < block_size:  # walk record lengths only: `block_items` cuts them up
            if skip is not None:
                m = skip(buf, pos, min(end, block_size))  # always matches (maybe nothing)
                stop = m.end() if m is not None else pos
                if stop > pos:
                    pos = stop
                    continue
            nxt = pos + 4 + unpack(buf, pos)[0]
            if nxt > end:
                break
            pos = nxt
            count += 1
        if pos and (pos >= block_size or eof):
            yield buf[:pos], n if numbered else 0
            n += count
            out += pos
            buf, pos, count = buf[pos:], 0, 0
            read = stream.tell() if taper else 0  # compressed bytes read
            if read:
                left = (taper - read) * (out + len(buf)) // read + len(buf)
                block_size = max(full >> 4, min(full, left // 4))
            if len(buf) >= block_size:
                continue
        if eof:
            if buf:
                raise DecodeError(f"{source}: truncated record {n}")
            return
        chunk = stream.read(1 << 20)
        try:
            if chunk:
                buf += d.decompress(chunk)
            else:
                buf += d.flush()
                eof = True
        except zlib.error as e:
            raise DecodeError(f"{source}: corrupt stream: {e}") from None
        if eof and not d.eof:
            raise DecodeError(_truncated(source, n + count))


def block_items(block: bytes, first: int = 1, source: str = "<paths>",
                seen: set[bytes] | None = None) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    """`(path, variable names, tokens)` of each record of a block from `paths_blocks`, checked as `decode` would.

    `tokens` as for `parser.transcode_file` (see `encoding.checked_tokens`;
    `seen` carries its memory of checked symbols across blocks).  DecodeError
    names the record.
    """
    unpack = _U32.unpack_from
    seen = seen if seen is not None else set()
    pos, end, i = 0, len(block), first
    while pos < end:
        (length,) = unpack(block, pos)
        path = block[pos + 4:pos + 4 + length]
        pos += 4 + length
        try:
            nvars, tokens = checked_tokens(path, seen)
        except DecodeError as e:
            raise DecodeError(f"{source}: record {i}: {e}") from None
        i += 1
        yield path, [f"_{k}" for k in range(nvars)] if nvars else None, tokens


Items = list[tuple[bytes, list[str] | None, list[bytes] | None]]
#: how `numbered_block_keys` numbers records: (pack, tag, first number); a key ends in `pack(tag, n)`
Numbers = tuple[Callable[[int, int], bytes], int, int]


def _any_record() -> bytes:
    """A regex for one record shorter than 256 bytes (its length prefix decides which branch)."""
    return b"|".join(re.escape(_U32.pack(n)) + b".{%d}" % n for n in range(1, 256))


@functools.cache
def _skip_pattern() -> re.Pattern[bytes]:
    """Consecutive records shorter than 256 bytes (possessive: no backtracking state)."""
    return re.compile(b"(?:" + _any_record() + b")*+", re.S)


@functools.cache
def _token_pattern() -> re.Pattern[bytes]:
    """One token of a ground path of valid symbols (compiled on first use)."""
    return re.compile(b"[\x00-\x3f]|" + VALID_SYMBOL_PATTERN, re.S)


@functools.cache
def _records_pattern() -> re.Pattern[bytes]:
    """Every record of a block, one match each: see `block_keys` (compiled on first use, ~0.1 s)."""
    sym = VALID_SYMBOL_PATTERN
    flat = [b"(.)\x00\x00\x00(" + re.escape(bytes((n,))) + (b"(" + sym + b")") * n + b")" for n in (3, 2, 4)]
    child = b"(?:" + sym + b"|\x02(?:" + sym + b"){2}|\x03(?:" + sym + b"){3})"  # a symbol or a flat (a b) / (a b c)
    nested = b"(.)\x00\x00\x00((?:\x02" + sym + child + b"|\x03" + sym + child * 2 + b"|\x04" + sym + child * 3 + b"))"
    any_record = b"(" + _any_record() + b")"
    return re.compile(b"|".join([*flat, nested, any_record]), re.S)


def block_keys(block: bytes, first: int = 1, source: str = "<paths>", seen: set[bytes] | None = None,
               ) -> tuple[list[bytes], list[bytes], Items]:
    """The records of a `paths_blocks` block, sorted out for a bulk load: see `numbered_block_keys`."""
    akeys, rkeys, others, _ = numbered_block_keys(block, first, source, seen)
    return akeys, rkeys, others


def numbered_block_keys(block: bytes, first: int = 1, source: str = "<paths>", seen: set[bytes] | None = None,
                        number: Numbers | None = None) -> tuple[list[bytes], list[bytes], Items, list[int]]:
    """The records of a `paths_blocks` block, sorted out for a bulk load, checked as `decode` would.

    Returns (plain keys, reverse-index keys, other items, their numbers): a ground record of
    2-15 symbols with a plain key, each symbol's text plain ASCII or a string
    without escapes, gives its key (and its reverse key for 3 or more)
    without being cut up; every other record is an item as `block_items`
    yields it.  DecodeError names the record.

    One `findall` per 256 KiB piece cuts the block into records when each is
    shorter than 256 bytes: `(h a b)`, `(h a)` and `(h a b c)` with a symbol
    head and each argument a symbol or a flat `(x y)`/`(x y z)` of symbols
    (all valid as they stand) come out as their key and arguments, others
    whole.  The matches are only trusted when every length prefix agrees and
    together they cover the block; else (and to name a bad record) the
    block is walked record by record.

    With `number` (pack, tag, n), the records are numbered in the block's
    order from n: a plain key ends in its record's `pack(tag, number)` (a
    `bulk.Numbering` suffix), and the numbers of the other items are the
    fourth list (empty without `number`).
    """
    seen = seen if seen is not None else set()
    akeys: list[bytes] = []
    rkeys: list[bytes] = []
    others: Items = []
    nums: list[int] = []
    seq = number[2] if number is not None else 0
    skip = _skip_pattern().match
    pos, end = 0, len(block)
    while pos < end:  # in pieces of whole records: `findall`'s tuples take ~20x the bytes they match
        m = skip(block, pos, min(end, pos + _PIECE))
        stop = m.end() if m is not None else pos
        got = _piece_keys(block, pos, stop, first, source, seen, number, seq) if stop > pos else None
        if got is None:  # a record of 256 bytes or more, or one to check (or name) record by record
            return _block_keys(block, first, source, seen, number)
        akeys += got[0]
        rkeys += got[1]
        others += got[2]
        nums += got[3]
        seq += got[4]
        pos = stop
    return akeys, rkeys, others, nums


def _piece_keys(block: bytes, start: int, end: int, first: int, source: str, seen: set[bytes],
                number: Numbers | None, seq: int) -> tuple[list[bytes], list[bytes], Items, list[int], int] | None:
    """`numbered_block_keys` for the whole records `block[start:end]` by one `findall` (numbered from
    `seq`), and how many records; None if it cannot vouch for them."""
    found: list[tuple[bytes, ...]] = _records_pattern().findall(block, start, end)
    # groups: 0-4 length, key, head, 2 arguments of flat `(h a b)`; 5-8 `(h a)`; 9-14 `(h a b c)`;
    # 15-16 length and key of a nested one; 17 another record
    akeys = [x[1] or x[6] or x[10] or x[16] for x in found if not x[17]]
    lengths = bytes(map(len, akeys))
    if lengths != b"".join([x[0] or x[5] or x[9] or x[15] for x in found if not x[17]]):
        return None
    rest = [x[17] for x in found if x[17]] if len(akeys) < len(found) else []
    if 4 * len(akeys) + sum(lengths) + sum(map(len, rest)) != end - start:
        return None
    t3, t4 = b"\x03", b"\x04"
    rkeys = [b"".join((t3, x[2], x[4], x[3])) for x in found if x[2]]
    rkeys += [b"".join((t4, x[11], x[14], x[13], x[12])) for x in found if x[11]]
    tokens = _token_pattern().findall
    rkeys += [b"".join([t[0], t[1], *t[:1:-1]]) for t in [tokens(x[16]) for x in found if x[16] and x[16][0] > 2]]
    others: Items = []
    nums: list[int] = []
    if number is not None:  # each record's number is its place among the matches
        pack, tag = number[0], number[1]
        if rest:
            akeys = [k + pack(tag, i) for k, i in zip(akeys, [i for i, x in enumerate(found, seq) if not x[17]])]
        else:
            akeys = [k + pack(tag, i) for i, k in enumerate(akeys, seq)]
    if rest:
        at = [i for i, x in enumerate(found, seq) if x[17]] if number is not None else None
        try:
            more, rmore, others, nums = _block_keys(b"".join(rest), first, source, seen, number, at)
        except DecodeError:
            return None  # the whole block again, for the record's number
        akeys += more
        rkeys += rmore
    return akeys, rkeys, others, nums, len(found)


def _block_keys(block: bytes, first: int, source: str, seen: set[bytes], number: Numbers | None = None,
                at: Sequence[int] | None = None) -> tuple[list[bytes], list[bytes], Items, list[int]]:
    """`numbered_block_keys` record by record (the j-th record, from 0, numbered `at[j]`: by default
    in order from `number`'s)."""
    akeys: list[bytes] = []
    rkeys: list[bytes] = []
    others: list[tuple[bytes, list[str] | None, list[bytes] | None]] = []
    aappend, rappend = akeys.append, rkeys.append
    unpack = _U32.unpack_from
    patterns: dict[int, re.Pattern[bytes] | None] = {}  # by arity tag: a record is its u32 length, then the path
    pos, end, i = 0, len(block), first
    nums: list[int] = []
    pack: Callable[[int, int], bytes] | None = None
    ntag = 0  # the numbers' msgpack type
    if number is not None:
        pack, ntag = number[0], number[1]
        if at is None:
            at = range(number[2], number[2] + len(block))  # a record takes 5 bytes at least
    try:
        while pos < end:
            (length,) = unpack(block, pos)
            nxt = pos + 4 + length
            pattern = None
            if 0 < length <= MAX_PLAIN:
                tag = block[pos + 4]
                pattern = patterns.get(tag, _UNSET)
                if pattern is _UNSET:
                    pattern = patterns[tag] = flat_pattern(tag, _LENGTH)
            m = pattern.match(block, pos, nxt) if pattern is not None else None
            if m is not None and m.end() == nxt:
                syms = m.groups()  # every symbol already valid as it stands (see `_valid_symbol`)
                path = block[pos + 4:nxt]
                aappend(path if pack is None or at is None else path + pack(ntag, at[i - first]))
                if len(syms) > 2:
                    rappend(path[:1] + syms[0] + b"".join(syms[:0:-1]))
            else:
                path = block[pos + 4:nxt]
                nvars, tokens = checked_tokens(path, seen)
                others.append((path, [f"_{k}" for k in range(nvars)] if nvars else None, tokens))
                if at is not None:
                    nums.append(at[i - first])
            pos = nxt
            i += 1
    except DecodeError as e:
        raise DecodeError(f"{source}: record {i}: {e}") from None
    return akeys, rkeys, others, nums
