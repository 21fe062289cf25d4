"""Module files read as hyperon 0.2.10 reads them (for `import!`, `register-module!`, `include`), and
the text of `parse` (`read_first`).

A script is handed to hyperon's parser as a C string; a module file is read as bytes, so its text
differs from a script's on the points below, and so do its faults, which carry hyperon's own short
messages (no file, line or column) because they become the `import!`'s error atom (whitespace,
variables and `\\u{..}` are read as a script's, `mettadb.tokens`):

* a NUL byte is a character like any other (part of a word);
* bytes that are not UTF-8 end the reading: `Input read error at position N: Bad UTF-8: [..]`, N the
  byte offset, the bytes those hyperon's decoder gives up on (see `bad_bytes`); any part of the parser
  that reads up to them reports that instead of its own fault;
* the parser's own faults: `Unexpected end of expression`, `Unexpected right bracket`,
  `Unclosed String Literal`, `Invalid escape sequence` (only `\\' \\" \\\\ \\n \\r \\t`, `\\xNN` up to 7F,
  `\\u{..}` of up to 8 hex digits), `Escaping sequence is not finished`, `'#' char is reserved for
  internal usage` (a `#` in a variable); a variable ends only at whitespace or a parenthesis (`$x;c`,
  and a lone `$` is the variable of the empty name);
* a number hyperon's tokenizer cannot hold (an integer beyond i64, a digit that is not ASCII):
  `byte range = (S..E) | Could not parse integer: 'W', ...`, checked once the whole item has read
  (a syntax fault wins), the item's last such word reported;
* a `!` word marks the next item; a last `!` with nothing after it is ignored.

Items are yielded one at a time, as hyperon runs them: those before a fault are run before it is
raised.  Nothing here recurses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .atoms import Atom, Expression, String, Symbol, Variable
from .errors import ModuleTextError
from .parser import word_atom
from .tokens import WHITESPACE_CHARS

__all__ = ["bad_bytes", "read_first", "read_module"]

_WS = WHITESPACE_CHARS  # Rust's `char::is_whitespace`, as a script's scanner has it
#: hyperon's tokens: a word starts with anything but these and `"`, `$`; a variable ends only at
#: whitespace or a parenthesis (`#` is checked after it); a string is read by `_Reader.string`
_TOKEN_RE = re.compile(f"(?P<ws>[{_WS}]+)|(?P<comment>;[^\n]*)|(?P<open>\\()|(?P<close>\\))"
                       f"|(?P<var>\\$[^{_WS}()#]*)|(?P<string>\")|(?P<word>[^{_WS}();]+)")
_PLAIN_RE = re.compile(r'[^"\\]*')
_BAD_RE = re.compile("[\udc80-\udcff]")
#: hyperon's number tokens (`\d`: any Unicode decimal digit, as Rust's regex has it)
_INT_RE = re.compile(r"[-+]?\d+")
_FLOAT_RE = re.compile(r"[-+]?\d+\.\d+|[-+]?\d+(?:\.\d+)?[eE][-+]?\d+")
_HEX = "0123456789abcdefABCDEF"
_SIMPLE = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_I64 = 1 << 63
_BANG = Symbol("!")


def bad_bytes(rest: bytes) -> list[int]:
    """The bytes hyperon's decoder reports at a fault that starts `rest`: it holds up to 4 bytes;
    with fewer left, all of them; else those before the first place from which the rest of the 4
    is whole UTF-8."""
    if len(rest) < 4:
        return list(rest)
    held = rest[:4]
    for i in range(1, 4):
        try:
            held[i:].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return list(held[:i])
    return list(held)


def _invalid() -> ModuleTextError:
    return ModuleTextError("Invalid escape sequence")


def _int_fault(word: str) -> str | None:
    """Why Rust's i64 parse refuses a word of hyperon's integer form (digits read left to right)."""
    sign = -1 if word[0] == "-" else 1
    value = 0
    for c in word.lstrip("+-"):
        if not "0" <= c <= "9":
            return "invalid digit found in string"
        value = value * 10 + int(c)
        if sign > 0 and value >= _I64:
            return "number too large to fit in target type"
        if sign < 0 and value > _I64:
            return "number too small to fit in target type"
    return None


class _Reader:
    """The text before the first bad byte, and the fault that reading up to it raises."""

    def __init__(self, data: bytes) -> None:
        text = data.decode("utf-8", "surrogateescape")
        m = _BAD_RE.search(text)
        self.bad: str | None = None
        if m is not None:
            at = len(text[: m.start()].encode("utf-8"))
            self.bad = f"Input read error at position {at}: Bad UTF-8: {bad_bytes(data[at:])}"
            text = text[: m.start()]
        self.text = text
        self.n = len(text)
        self.fault: tuple[int, int, str] | None = None  # the item's last number fault: chars, message

    def end(self, i: int) -> bool:
        """Whether `i` is past the text (raising the read error when bad bytes are there)."""
        if i < self.n:
            return False
        if self.bad is not None:
            raise ModuleTextError(self.bad)
        return True

    def leftovers(self, message: str) -> ModuleTextError:
        """hyperon reads the rest of the text before giving up with `message`."""
        self.end(self.n)
        return ModuleTextError(message)

    def word(self, i: int, j: int) -> Atom:
        """The atom of the word `text[i:j]` (a number hyperon's tokenizer refuses noted as the fault)."""
        word = self.text[i:j]
        c = word[0]
        if (c.isdigit() or c in "+-") and (not word.isascii() or len(word) > 18):
            if _INT_RE.fullmatch(word):
                why = _int_fault(word)
                if why is not None:
                    self.fault = (i, j, f"Could not parse integer: '{word}', {why}")
                    return Symbol(word)
            elif _FLOAT_RE.fullmatch(word) and not word.isascii():
                self.fault = (i, j, f"Could not parse float: '{word}', invalid float literal")
                return Symbol(word)
        return word_atom(word)

    def next_char(self, i: int) -> str | None:
        return None if self.end(i) else self.text[i]

    def string(self, i: int) -> tuple[Atom, int]:
        """A string literal's atom from after its `"`, and where it ends."""
        text = self.text
        out: list[str] = []
        while True:
            j = _PLAIN_RE.match(text, i).end()  # type: ignore[union-attr]
            out.append(text[i:j])
            if self.end(j):
                raise ModuleTextError("Unclosed String Literal")
            if text[j] == '"':
                return String("".join(out)), j + 1
            e = self.next_char(j + 1)
            if e is None:
                raise ModuleTextError("Escaping sequence is not finished")
            i = j + 2
            if e in _SIMPLE:
                out.append(_SIMPLE[e])
            elif e == "x":
                hi = self.next_char(i)
                if hi is None or hi not in _HEX:
                    raise _invalid()
                lo = self.next_char(i + 1)
                if lo is None or lo not in _HEX or int(hi + lo, 16) > 0x7F:
                    raise _invalid()
                out.append(chr(int(hi + lo, 16)))
                i += 2
            elif e == "u":
                if self.next_char(i) != "{":
                    raise _invalid()
                i += 1
                value, digits = 0, 0
                while True:
                    d = self.next_char(i)
                    i += 1
                    if d is None:
                        raise _invalid()
                    if d == "{":
                        continue
                    if d == "}":
                        break
                    digits += 1
                    if digits > 8 or d not in _HEX:
                        raise _invalid()
                    value = value << 4 | int(d, 16)
                if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    raise _invalid()
                out.append(chr(value))
            else:
                raise _invalid()

    def item(self, i: int) -> tuple[Atom | None, int]:
        """The next top-level atom from `i` (None at the end) and where it ends."""
        text, n = self.text, self.n
        match = _TOKEN_RE.match
        self.fault = None
        stack: list[list[Atom]] = []
        while True:
            m = match(text, i)
            if m is None:  # the end of the text (or of what decodes)
                if self.bad is not None:
                    raise ModuleTextError(self.bad)
                if stack:
                    raise ModuleTextError("Unexpected end of expression")
                return None, i
            kind = m.lastgroup
            j = m.end()
            atom: Atom
            if kind == "ws" or kind == "comment":
                if j >= n:
                    self.end(j)  # (hyperon looks past them: at bad bytes, its read error)
                i = j
                continue
            if kind == "open":
                stack.append([])
                i = j
                continue
            if kind == "close":
                if not stack:
                    raise self.leftovers("Unexpected right bracket")
                atom = Expression(tuple(stack.pop()))
            elif kind == "string":
                atom, j = self.string(j)
            elif kind == "var":
                if j < n and text[j] == "#":
                    raise self.leftovers("'#' char is reserved for internal usage")
                self.end(j)
                atom = Variable(text[i + 1:j])
            else:
                self.end(j)
                atom = self.word(i, j)
            i = j
            if not stack:
                return self.checked(atom), i
            stack[-1].append(atom)

    def checked(self, atom: Atom) -> Atom:
        """The item, unless one of its numbers is one hyperon's tokenizer refuses."""
        if self.fault is None:
            return atom
        start, end, message = self.fault
        b0 = len(self.text[:start].encode("utf-8"))
        b1 = b0 + len(self.text[start:end].encode("utf-8"))
        raise ModuleTextError(f"byte range = ({b0}..{b1}) | {message}")


def read_module(data: bytes) -> Iterator[tuple[bool, Atom]]:
    """`(is_bang, atom)` for each item of a module file's bytes, as hyperon reads them; a fault
    raises ModuleTextError (hyperon's message) when the reading reaches it."""
    reader = _Reader(data)
    i = 0
    bang = False
    while True:
        atom, i = reader.item(i)
        if atom is None:
            return
        if atom == _BANG:
            bang = True
            continue
        yield bang, atom
        bang = False


def read_first(text: str) -> Atom | None:
    """The first atom of a text as hyperon's parser gives it when asked for one (its `parse`): a `!`
    is the symbol `!` and what follows the atom is not read; None when the text holds no atom.  A
    fault before the atom ends raises ModuleTextError (hyperon's message)."""
    return _Reader(text.encode("utf-8", "surrogatepass")).item(0)[0]
