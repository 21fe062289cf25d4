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

import os
from collections.abc import Iterable, Iterator
from typing import IO, Union

from .atoms import Atom, Bool, Expression, Float, Integer, Regex, String, Symbol, Variable, read_int
from .errors import ParseError
from .tokens import REGEX_RE, TOKEN_RE, classify_word, unescape

__all__ = [
    "BLOCK_SIZE",
    "DANGLING_BANG",
    "INCOMPLETE_MESSAGES",
    "InputLines",
    "Source",
    "is_complete",
    "line_blocks",
    "open_binary",
    "parse",
    "parse_atom",
    "parse_file",
    "parse_script",
    "parse_script_lines",
    "word_atom",
]

BLOCK_SIZE = 1 << 20
#: the error of a `!` with no atom after it (raised once the whole text has been read)
DANGLING_BANG = "'!' must be followed by an atom"
#: the errors that more input could cure
INCOMPLETE_MESSAGES = frozenset({"'(' is never closed", "unterminated string", DANGLING_BANG})
Source = Union[str, "os.PathLike[str]", IO[bytes]]


def _position(text: str, pos: int, base_line: int) -> tuple[int, int]:
    line = base_line + text.count("\n", 0, pos)
    col = pos - text.rfind("\n", 0, pos)
    return line, col


def line_blocks(stream: IO[bytes], block_size: int) -> Iterator[tuple[bytes, bool]]:
    """Raw blocks cut after a newline (the last one may end anywhere): (bytes, is_last)."""
    carry = b""
    while True:
        data = stream.read(block_size)
        last = not data
        buf = carry + data
        if not last:
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                if b"\x00" in data:
                    # a NUL byte is never valid: report it now, not after a newline that may never come
                    # (`load /dev/zero`)
                    yield buf, False
                    carry = b""
                    continue
                carry = buf
                continue
            buf, carry = buf[:cut], buf[cut:]
        yield buf, last
        if last:
            return


def _blocks(stream: IO[bytes], source: str, block_size: int) -> Iterator[tuple[str, bool, int]]:
    """Decoded text in blocks of whole lines: (text, is_last, lines_before)."""
    lines = 1
    for buf, last in line_blocks(stream, block_size):
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as e:
            head = buf[: e.start]
            line = lines + head.count(b"\n")
            col = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
            raise ParseError(f"invalid UTF-8 byte 0x{buf[e.start]:02x}", line, col, source) from None
        yield text, last, lines
        lines += text.count("\n")


def word_atom(word: str) -> Atom:
    """The atom a bare word denotes (symbol, variable, number, bool, a `regex:"…"` token); a lone `$`
    is the variable of the empty name, as in hyperon."""
    kind = classify_word(word)
    if kind == "symbol":
        if word[0] == "r" and word.startswith('regex:"') and REGEX_RE.fullmatch(word):
            return Regex(word)
        return Symbol(word)
    if kind == "variable":
        return Variable(word[1:])
    if kind == "integer":
        return Integer(read_int(word))
    if kind == "float":
        return Float(float(word))
    return Bool(word == "True")


def _scan(blocks: Iterable[tuple[str, bool, int]], source: str) -> Iterator[tuple[bool, Atom]]:
    for bang, atom, _line in _scan_lines(blocks, source, False):
        yield bang, atom


def _scan_lines(blocks: Iterable[tuple[str, bool, int]], source: str,
                lines: bool) -> Iterator[tuple[bool, Atom, int]]:
    """The precise scanner: yields (is_bang, atom) in order, errors with positions."""
    stack: list[tuple[list[Atom], str, int, int]] = []  # children, text, pos, base_line
    bang: tuple[str, int, int] | None = None
    pending = ""
    pending_line = 1
    resume = 0
    start = 0  # where the current top-level item (or its `!`) starts, in `text`
    counted, counted_line = 0, 1  # newlines counted incrementally, so lines cost O(n) in all
    for block, last, block_line in blocks:
        if pending:
            text, base = pending + block, pending_line
        else:
            text, base = block, block_line
        counted, counted_line = 0, base
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
            if not stack and bang is None:
                start = pos
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
                if not stack and word == "!":
                    if bang is None:  # (`! !` marks one item, as in hyperon's runner)
                        bang = (text, pos, base)
                    continue
                atom = word_atom(word)
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
                line = 0
                if lines:
                    if start < counted:  # the item began in carried-over text
                        counted, counted_line = 0, base
                    counted_line += text.count("\n", counted, start)
                    counted = start
                    line = counted_line
                yield bang is not None, atom, line
                bang = None
        if last:
            break
    if stack:
        _, text, pos, base = stack[-1]
        raise ParseError("'(' is never closed", *_position(text, pos, base), source)
    if bang is not None:
        text, pos, base = bang
        raise ParseError(DANGLING_BANG, *_position(text, pos, base), source)


def _text_blocks(text: str, source: str) -> Iterator[tuple[str, bool, int]]:
    if not isinstance(text, str):
        raise TypeError(f"MeTTa text must be a str, not {type(text).__name__}")
    if not text.isascii():  # (a str from Python may hold a lone surrogate, which no file can)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            before = text[:e.start]
            line = before.count("\n") + 1
            col = e.start - (before.rfind("\n") + 1) + 1
            raise ParseError(f"invalid character U+{ord(text[e.start]):04X} (a lone surrogate)", line, col,
                             source) from None
    yield text, True, 1


def parse_script(text: str, source: str = "<string>") -> Iterator[tuple[bool, Atom]]:
    """Yield `(is_bang, atom)` for each top-level atom; `is_bang` marks `!expr`."""
    return _scan(_text_blocks(text, source), source)


def parse_script_lines(text: str, source: str = "<string>") -> Iterator[tuple[bool, Atom, int]]:
    """`parse_script` with the line each top-level item (or its `!`) starts on."""
    return _scan_lines(_text_blocks(text, source), source, True)


def is_complete(text: str) -> bool:
    """False when the text is a prefix of valid input that needs more lines (the REPL's continuation):
    an open `(`, an open string, a last `!`.  Text with another error is complete (the error is
    reported, not waited on).  A lone surrogate (a byte read with `surrogateescape`) counts as a word
    character here; the REPL names it once the input is complete."""
    try:
        for _ in _scan(((text, True, 1),), "<repl>"):
            pass
    except ParseError as e:
        return e.message not in INCOMPLETE_MESSAGES
    return True


class InputLines:
    """The REPL's input so far, line by line, and whether it is complete (`is_complete`'s answer).

    Each line's brackets are counted as it comes; the whole text is scanned again only where that
    count cannot tell (depth back to 0, a string running on, a stray `)`, an escape or a bad
    character), so an expression pasted over many lines costs time linear in its length."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0
        self.counted = True  # `depth` is exact so far

    def add(self, line: str) -> bool:
        """Take one more line (without its newline); whether the input is now complete."""
        self.lines.append(line)
        if self.counted:
            for m in TOKEN_RE.finditer(line):
                kind = m.lastgroup
                if kind == "open":
                    self.depth += 1
                elif kind == "close":
                    self.depth -= 1
                    if self.depth < 0:
                        self.counted = False
                        break
                elif kind == "badstring" or kind == "bad" or (kind == "string" and "\\" in m.group()):
                    self.counted = False
                    break
            if self.counted and self.depth > 0:
                return False  # an open `(` and nothing wrong before it: more is needed
        return is_complete(self.text())

    def text(self) -> str:
        """The lines so far, joined."""
        return "\n".join(self.lines)


def parse(text: str, source: str = "<string>") -> Iterator[Atom]:
    """Yield the atoms of MeTTa text; a `!` marker is an error here (see `parse_script`).

    >>> [str(a) for a in parse('(parent Tom Bob) ; a fact\\n(age Tom 42)')]
    ['(parent Tom Bob)', '(age Tom 42)']
    """
    for bang, atom in _scan(_text_blocks(text, source), source):
        if bang:
            raise ParseError("'!' marks what a script evaluates; here write the expression without it", 1, 1, source)
        yield atom


def parse_atom(text: str) -> Atom:
    """Exactly one atom from text; ParseError otherwise."""
    atoms = list(parse(text))
    if len(atoms) != 1:
        raise ParseError(f"expected one atom, found {len(atoms)}", 1, 1, "<string>")
    return atoms[0]


def open_binary(src: Source) -> tuple[IO[bytes], str, bool]:
    """(stream, name, whether the caller must close it) for a path or a binary stream."""
    if isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)
        return open(name, "rb"), name, True
    return src, getattr(src, "name", "<stream>"), False


def parse_file(src: Source, *, block_size: int = BLOCK_SIZE, name: str | None = None) -> Iterator[tuple[bool, Atom]]:
    """Stream `(is_bang, atom)` from a file path or binary stream (`name`: the one errors give)."""
    stream, own_name, close = open_binary(src)
    name = own_name if name is None else name
    try:
        yield from _scan(_blocks(stream, name, block_size), name)
    finally:
        if close:
            stream.close()
