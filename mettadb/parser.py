"""The MeTTa reader: text to atoms, and text straight to byte paths for bulk loads.

Two scanners share the token definitions of `mettadb.tokens`:

* the precise scanner keeps token positions and builds `Atom` objects; it
  serves `parse()`, scripts, and error reporting;
* the bulk transcoder (`transcode_file`) uses a single `findall` per chunk and
  writes byte paths without building atoms.  When it meets anything wrong it
  re-reads the input with the precise scanner, which names line and column.

Files are read in blocks cut at line ends, so a multi-GB file is never held in
memory whole.  Nothing here recurses.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, BinaryIO, Union

from .atoms import Atom, Bool, Expression, Float, Integer, String, Symbol, Variable
from .encoding import NEW_VAR, arity_token, varref_token, word_token
from .errors import ParseError
from .tokens import CLOSE, COMMENT, OPEN, STRING, TOKEN_RE, UNTERMINATED_STRING, WORD, classify_word, unescape

__all__ = [
    "BLOCK_SIZE",
    "Transcoded",
    "item_positions",
    "parse",
    "parse_atom",
    "parse_file",
    "parse_script",
    "transcode_file",
]

BLOCK_SIZE = 1 << 20
Source = Union[str, "os.PathLike[str]", BinaryIO]


def _position(text: str, pos: int, base_line: int) -> tuple[int, int]:
    line = base_line + text.count("\n", 0, pos)
    col = pos - text.rfind("\n", 0, pos)
    return line, col


def _line_blocks(stream: IO[bytes], block_size: int) -> Iterator[tuple[bytes, bool]]:
    """Raw blocks cut after a newline (the last one may end anywhere): (bytes, is_last)."""
    carry = b""
    while True:
        data = stream.read(block_size)
        last = not data
        buf = carry + data
        if not last:
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                carry = buf
                continue
            buf, carry = buf[:cut], buf[cut:]
        yield buf, last
        if last:
            return


def _blocks(stream: IO[bytes], source: str, block_size: int) -> Iterator[tuple[str, bool, int]]:
    """Decoded text in blocks of whole lines: (text, is_last, lines_before)."""
    lines = 1
    for buf, last in _line_blocks(stream, block_size):
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as e:
            head = buf[: e.start]
            line = lines + head.count(b"\n")
            col = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
            raise ParseError(f"invalid UTF-8 byte 0x{buf[e.start]:02x}", line, col, source) from None
        yield text, last, lines
        lines += text.count("\n")


def _word_atom(word: str) -> Atom | None:
    kind = classify_word(word)
    if kind == "symbol":
        return Symbol(word)
    if kind == "variable":
        return Variable(word[1:]) if len(word) > 1 else None
    if kind == "integer":
        return Integer(int(word))
    if kind == "float":
        return Float(float(word))
    return Bool(word == "True")


def _scan(blocks: Iterable[tuple[str, bool, int]], source: str) -> Iterator[tuple[bool, Atom]]:
    """The precise scanner: yields (is_bang, atom) in order, errors with positions."""
    stack: list[tuple[list[Atom], str, int, int]] = []  # children, text, pos, base_line
    bang: tuple[str, int, int] | None = None
    pending = ""
    pending_line = 1
    resume = 0
    for block, last, lines in blocks:
        if pending:
            text, base = pending + block, pending_line
        else:
            text, base = block, lines
        pending = ""
        at, resume = resume, 0
        match = TOKEN_RE.match
        while True:
            m = match(text, at)
            if m is None:
                break
            at = m.end()
            kind = m.lastgroup
            if kind == "ws" or kind == "comment":
                continue
            pos = m.start()
            atom: Atom | None
            if kind == "open":
                stack.append(([], text, pos, base))
                continue
            if kind == "close":
                if not stack:
                    raise ParseError("unexpected ')'", *_position(text, pos, base), source)
                atom = Expression(stack.pop()[0])
            elif kind == "word":
                word = m.group()
                if not stack and word == "!" and bang is None:
                    bang = (text, pos, base)
                    continue
                atom = _word_atom(word)
                if atom is None:
                    raise ParseError("'$' must be followed by a variable name", *_position(text, pos, base), source)
            elif kind == "string":
                try:
                    atom = String(unescape(m.group()[1:-1]))
                except ValueError as e:
                    offset, msg = e.args
                    raise ParseError(msg, *_position(text, pos + 1 + offset, base), source) from None
            elif kind == "badstring":
                if not last:
                    # carry the whole line so that columns stay right
                    line_start = text.rfind("\n", 0, pos) + 1
                    pending, pending_line = text[line_start:], _position(text, pos, base)[0]
                    resume = pos - line_start
                    break
                raise ParseError("unterminated string", *_position(text, pos, base), source)
            else:
                ch = m.group()
                what = "NUL byte" if ch == "\0" else f"unexpected character {ch!r}"
                raise ParseError(what, *_position(text, pos, base), source)
            if stack:
                stack[-1][0].append(atom)
            else:
                yield bang is not None, atom
                bang = None
        if last:
            break
    if stack:
        _, text, pos, base = stack[-1]
        raise ParseError("'(' is never closed", *_position(text, pos, base), source)
    if bang is not None:
        text, pos, base = bang
        raise ParseError("'!' must be followed by an atom", *_position(text, pos, base), source)


def _text_blocks(text: str) -> Iterator[tuple[str, bool, int]]:
    yield text, True, 1


def parse_script(text: str, source: str = "<string>") -> Iterator[tuple[bool, Atom]]:
    """Yield `(is_bang, atom)` for each top-level atom; `is_bang` marks `!expr`."""
    return _scan(_text_blocks(text), source)


def item_positions(text: str) -> Iterator[tuple[int, int]]:
    """`(line, column)` where each top-level item of well-formed script text starts (a `!` item at its `!`)."""
    depth = 0
    bang = False
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        if depth == 0 and not bang:
            yield _position(text, m.start(), 1)
            bang = kind == "word" and m.group() == "!"
        elif depth == 0:
            bang = False
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1


def parse(text: str, source: str = "<string>") -> Iterator[Atom]:
    """Yield the atoms of MeTTa text; a `!` marker is an error here (see `parse_script`).

    >>> [str(a) for a in parse('(parent Tom Bob) ; a fact\\n(age Tom 42)')]
    ['(parent Tom Bob)', '(age Tom 42)']
    """
    for bang, atom in _scan(_text_blocks(text), source):
        if bang:
            raise ParseError("'!' is only allowed in scripts (use parse_script)", 1, 1, source)
        yield atom


def parse_atom(text: str) -> Atom:
    """Exactly one atom from text; ParseError otherwise."""
    atoms = list(parse(text))
    if len(atoms) != 1:
        raise ParseError(f"expected one atom, found {len(atoms)}", 1, 1, "<string>")
    return atoms[0]


def _open_binary(src: Source) -> tuple[IO[bytes], str, bool]:
    if isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)
        return open(name, "rb"), name, True
    return src, getattr(src, "name", "<stream>"), False


def parse_file(src: Source, *, block_size: int = BLOCK_SIZE) -> Iterator[tuple[bool, Atom]]:
    """Stream `(is_bang, atom)` from a file path or binary stream."""
    stream, name, close = _open_binary(src)
    try:
        yield from _scan(_blocks(stream, name, block_size), name)
    finally:
        if close:
            stream.close()


class Transcoded:
    """Counters of one transcoded input (filled while iterating)."""

    __slots__ = ("atoms", "bangs", "bytes_read", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.atoms = 0
        self.bangs = 0
        self.bytes_read = 0


class _Anomaly(Exception):
    pass


def transcode_file(
    src: Source,
    stats: Transcoded | None = None,
    *,
    block_size: int = BLOCK_SIZE,
) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    """Stream `(path, variable_names, tokens)` for every non-`!` atom of a file.

    `tokens` is the path cut into nodes (for the store's reverse index) when the
    atom is an expression of arity >= 3 whose head is a symbol, else None.
    `!` expressions are skipped and counted in `stats.bangs`.  On bad input the
    file is re-read by the precise scanner and its ParseError is raised; a
    non-seekable stream is spooled to a temporary file first so that can happen.
    """
    stream, name, close = _open_binary(src)
    if not close and not _seekable(stream):
        spool = tempfile.TemporaryFile()
        while chunk := stream.read(block_size):
            spool.write(chunk)
        spool.seek(0)
        stream, close = spool, True
    st = stats if stats is not None else Transcoded(name)
    try:
        start = stream.tell()
        try:
            yield from _transcode(stream, name, st, block_size)
        except _Anomaly:
            stream.seek(start)
            for _ in _scan(_blocks(stream, name, block_size), name):
                pass
            raise ParseError("malformed input", 1, 1, name) from None
    finally:
        if close:
            stream.close()


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False


_MAX_CACHE = 100_000
_ARITY = [arity_token(n) for n in range(64)]


def _encode_words(words: list[str], cache: dict[str, bytes], varidx: dict[str, int], varnames: list[str]) -> list[bytes]:
    """Tokens of scanned words; fills variable numbering in place."""
    out = []
    for w in words:
        if w[0] > "@":
            b = w.encode()
            if len(b) < 64:
                out.append(_SYM[len(b)] + b)
                continue
        elif w[0] == "$":
            if len(w) == 1:
                raise _Anomaly
            k = varidx.get(w)
            if k is None:
                varidx[w] = len(varnames)
                varnames.append(w[1:])
                out.append(b"\xc0")
            else:
                out.append(varref_token(k))
            continue
        t = cache.get(w)
        if t is None:
            try:
                t = word_token(w)
            except ValueError:
                raise _Anomaly from None
            assert t is not None
            if w[0] != '"':
                if len(cache) >= _MAX_CACHE:
                    cache.clear()
                cache[w] = t
        out.append(t)
    return out


def _transcode(
    stream: IO[bytes], name: str, st: Transcoded, block_size: int
) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    cache: dict[str, bytes] = {}
    bcache: dict[bytes, bytes] = {}
    simple = _SIMPLE_LINE.fullmatch
    simple_string = _SIMPLE_STRING_LINE.fullmatch
    findall = _FLAT_RE.findall
    sym = _SYM
    arity = _ARITY

    def btok(w: bytes) -> bytes:
        b = bcache.get(w)
        if b is None:
            b = word_token(w.decode())
            if b is None:
                raise _Anomaly
            if len(bcache) >= _MAX_CACHE:
                bcache.clear()
            bcache[w] = b
        return b

    parts: list[bytes] = []  # tokens of the atom being built
    opens: list[int] = []  # index in parts of each open '(' placeholder
    counts: list[int] = []  # children seen so far at each open level
    varnames: list[str] = []
    varidx: dict[str, int] = {}
    bang = False
    pending = ""
    for bblock, last in _byte_blocks(stream, name, block_size):
        st.bytes_read += len(bblock)
        lines = bblock.split(b"\n")
        if not lines[-1]:
            lines.pop()  # the block ends with a newline
        for line in lines:
            if not counts and not pending and not bang:
                m = simple(line)
                if m is not None:
                    # the common case: one flat ASCII expression on its own line
                    ws = m[1].split()
                    try:
                        enc = [arity[len(ws)]] + [sym[len(w)] + w if w[0] > 64 else btok(w) for w in ws]
                    except (IndexError, TypeError):
                        pass
                    else:
                        st.atoms += 1
                        yield b"".join(enc), None, (enc if len(enc) > 3 and enc[1][0] > 0xC0 else None)
                        continue
                elif not line or line.isspace():
                    continue
                else:
                    m = simple_string(line)
                    if m is not None:
                        # one flat line ending in a plain string literal: `(name P1 "Ann")`
                        ws = m[1].split()
                        strtok = m[2]
                        try:
                            enc = [arity[len(ws) + 1]] + [sym[len(w)] + w if w[0] > 64 else btok(w) for w in ws]
                            enc.append(sym[len(strtok)] + strtok)
                        except (IndexError, TypeError):
                            pass
                        else:
                            st.atoms += 1
                            yield b"".join(enc), None, (enc if len(enc) > 3 and enc[1][0] > 0xC0 else None)
                            continue
            text = line.decode()
            if pending:
                text = pending + "\n" + text
                pending = ""
            items = findall(text)
            if ("", '"') in items or ("", "\x00") in items:
                if ("", "\x00") not in items:
                    pending = text
                    continue
                raise _Anomaly
            for body, tok in items:
                if tok:
                    c = tok[0]
                    if c == "(":
                        if counts:
                            counts[-1] += 1
                        opens.append(len(parts))
                        parts.append(b"")
                        counts.append(0)
                        continue
                    if c == ")":
                        if not opens:
                            raise _Anomaly
                        n = counts.pop()
                        parts[opens.pop()] = arity[n] if n < 64 else arity_token(n)
                        if counts:
                            continue
                    elif c == ";":
                        continue
                    else:
                        if tok == "!" and not counts and not bang:
                            bang = True
                            continue
                        parts.extend(_encode_words([tok], cache, varidx, varnames))
                        if counts:
                            counts[-1] += 1
                            continue
                else:
                    # a flat expression: no nested parentheses, strings or comments inside
                    words = body.split()
                    n = len(words)
                    if counts:
                        counts[-1] += 1
                    parts.append(arity[n] if n < 64 else arity_token(n))
                    parts.extend(_encode_words(words, cache, varidx, varnames))
                    if counts:
                        continue
                # a top-level atom is complete
                if bang:
                    st.bangs += 1
                    bang = False
                else:
                    st.atoms += 1
                    tokens = parts if len(parts) > 3 and 3 <= parts[0][0] < 64 and parts[1][0] > 0xC0 else None
                    yield b"".join(parts), (varnames if varnames else None), tokens
                parts = []
                if varnames:
                    varnames = []
                    varidx = {}
    if opens or bang or pending:
        raise _Anomaly


def _byte_blocks(stream: IO[bytes], source: str, block_size: int) -> Iterator[tuple[bytes, bool]]:
    """Raw blocks of whole lines, checked to be UTF-8 (errors re-raised by the precise path)."""
    for buf, last in _line_blocks(stream, block_size):
        try:
            buf.decode("utf-8")
        except UnicodeDecodeError:
            raise _Anomaly from None
        yield buf, last


_SIMPLE_LINE = re.compile(rb"[ \t\r]*\(([^()\";$\x00\x80-\xff]*)\)[ \t\r]*")
_SIMPLE_STRING_LINE = re.compile(rb'[ \t\r]*\(([^()";$\x00\x80-\xff]*[ \t])("[^"\\\x00-\x1f\x7f-\xff]*")[ \t]*\)[ \t\r]*')
_SYM = [bytes((0xC0 | n,)) for n in range(64)]
_FLAT_RE = re.compile(
    r"\s*+(?:\(([^()\";\x00]*)\)|(" + "|".join((OPEN, CLOSE, STRING, WORD, COMMENT, UNTERMINATED_STRING, r"\x00")) + "))"
)


assert NEW_VAR == 0xC0
