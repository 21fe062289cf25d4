"""MORK-style byte paths: `encode(atom) -> bytes` and `decode(bytes) -> Atom`.

One tag byte per node in prefix order, exactly as MORK writes expressions:

* `0x00|n`  an expression of arity n (n <= 63)
* `0xC0`    a variable seen for the first time
* `0x80|k`  the k-th variable introduced (k <= 63)
* `0xC0|n`  a symbol of n UTF-8 bytes (1 <= n <= 63), bytes follow

Grounded values are symbols whose text is their canonical MeTTa literal
(`42`, `1.5`, `"text"`, `True`), so the type comes back from the text.
MORK leaves tags `0x40`-`0x7F` unused; mettadb's extension lives there
(see docs/FORMAT.md): long symbols, symbols that would read as literals,
wide expressions, variable references past 63 and non-finite floats.

This module knows nothing of LMDB: key-size limits are the store's business.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .atoms import (
    Atom,
    Bool,
    Expression,
    Float,
    Integer,
    String,
    Symbol,
    Variable,
    format_float,
    int_text,
    quote_string,
    read_int,
    same_number,
)
from .errors import DecodeError
from .tokens import classify_word, unescape

__all__ = [
    "EMPTY_EXPRESSION",
    "NEW_VAR",
    "TAG_LONG_SYMBOL",
    "TAG_RAW_SYMBOL",
    "TAG_SPECIAL_FLOAT",
    "TAG_VAR_REF",
    "TAG_WIDE_ARITY",
    "TEXT_CACHE",
    "VALID_SYMBOL_PATTERN",
    "arity_token",
    "atom_tokens",
    "check_path",
    "check_symbols",
    "checked_tokens",
    "clear_caches",
    "decode",
    "encode",
    "encode_with_names",
    "flat_pattern",
    "flat_symbols",
    "is_arity_tag",
    "is_symbol_tag",
    "is_variable_tag",
    "literal_token",
    "same_number_tokens",
    "split_tokens",
    "symbol_token",
    "text_atom",
    "token_arity",
    "varref_index",
    "varref_token",
    "word_token",
]

NEW_VAR = 0xC0
TAG_LONG_SYMBOL = 0x40
TAG_RAW_SYMBOL = 0x41
TAG_WIDE_ARITY = 0x42
TAG_VAR_REF = 0x43
TAG_SPECIAL_FLOAT = 0x44

_NEW_VAR_B = b"\xc0"


def is_arity_tag(tag: int) -> bool:
    """A MORK arity tag `0x00|n` (n <= 63; wider expressions use `TAG_WIDE_ARITY`)."""
    return tag < 0x40


def is_symbol_tag(tag: int) -> bool:
    """A MORK short-symbol tag `0xC0|n` with n >= 1 (`0xC0` itself is a new variable)."""
    return tag > 0xC0


def is_variable_tag(tag: int) -> bool:
    """A new variable (`0xC0`), a short reference (`0x80|k`) or a long one (`TAG_VAR_REF`)."""
    return 0x80 <= tag <= 0xC0 or tag == TAG_VAR_REF
#: a string literal already in canonical form (no escapes, no control characters)
_PLAIN_STRING = re.compile(r'"[^"\\\x00-\x1f\x7f]*"')
EMPTY_EXPRESSION = Expression(())


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(path: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(path):
            raise DecodeError("truncated length in extension tag")
        b = path[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise DecodeError("length in extension tag too large")


def arity_token(n: int) -> bytes:
    """The tag of an expression with n children."""
    return bytes((n,)) if n < 64 else bytes((TAG_WIDE_ARITY,)) + _varint(n)


def token_arity(token: bytes) -> int | None:
    """The number of children of an arity token (`split_tokens` gives one), None for any other token."""
    tag = token[0]
    if tag < 0x40:
        return tag
    if tag == TAG_WIDE_ARITY:
        return _read_varint(token, 1)[0]
    return None


def varref_index(token: bytes) -> int | None:
    """Which variable (0-based, in order of introduction) a reference token names; None for others."""
    tag = token[0]
    if 0x80 <= tag < 0xC0:
        return tag & 0x3F
    if tag == TAG_VAR_REF:
        return _read_varint(token, 1)[0]
    return None


def varref_token(k: int) -> bytes:
    """The tag referring back to the k-th variable introduced (0-based)."""
    return bytes((0x80 | k,)) if k < 64 else bytes((TAG_VAR_REF,)) + _varint(k)


def _text_token(text: str, raw: bool = False) -> bytes:
    b = text.encode("utf-8")
    n = len(b)
    if raw:
        return bytes((TAG_RAW_SYMBOL,)) + _varint(n) + b
    if n < 64:
        return bytes((0xC0 | n,)) + b
    return bytes((TAG_LONG_SYMBOL,)) + _varint(n) + b


_SYMBOL_TOKENS: dict[str, bytes] = {}


def symbol_token(name: str) -> bytes:
    """The token of a symbol; a name that would read back as a literal is escaped."""
    t = _SYMBOL_TOKENS.get(name)
    if t is None:
        if classify_word(name) != "symbol" or name[0] == '"':
            t = _text_token(name, raw=True)
        else:
            t = _text_token(name)
        if len(_SYMBOL_TOKENS) >= 200_000:
            _SYMBOL_TOKENS.clear()
        _SYMBOL_TOKENS[name] = t
    return t


def literal_token(atom: Atom) -> bytes:
    """The token of a grounded Integer, Float, String or Bool."""
    t = type(atom)
    if t is Integer:
        return _text_token(int_text(atom.value))  # type: ignore[attr-defined]
    if t is Float:
        v = atom.value  # type: ignore[attr-defined]
        if math.isfinite(v):
            return _text_token(format_float(v))
        return bytes((TAG_SPECIAL_FLOAT,)) + _text_token(format_float(v))
    if t is String:
        return _text_token(quote_string(atom.value))  # type: ignore[attr-defined]
    if t is Bool:
        return _text_token("True" if atom.value else "False")  # type: ignore[attr-defined]
    raise TypeError(f"a {getattr(t, 'session_kind', t.__name__)} lives only in a run's session (Space.run, Space.eval, "
                    "the REPL) and cannot be stored or looked up through the library")


def word_token(word: str) -> bytes | None:
    """The token of a scanned word or string literal (None for a variable).

    Numbers and strings are canonicalised (`007` and `7` are one atom, as in
    hyperon); raises ValueError for a bad escape inside a string literal.
    """
    if word[0] == '"':
        if _PLAIN_STRING.fullmatch(word):
            return _text_token(word)
        return _text_token(quote_string(unescape(word[1:-1])))
    kind = classify_word(word)
    if kind == "symbol" or kind == "bool":
        return _text_token(word)
    if kind == "integer":
        return _text_token(int_text(read_int(word)))
    if kind == "float":
        return literal_token(Float(float(word)))
    return None


def atom_tokens(atom: Atom) -> Iterator[tuple[bytes, Variable | None]]:
    """The path's tokens in order; a variable's token comes with the variable."""
    varidx: dict[Atom, int] = {}
    stack: list[Atom] = [atom]
    while stack:
        a = stack.pop()
        t = type(a)
        if t is Expression:
            kids = a.children  # type: ignore[attr-defined]
            yield arity_token(len(kids)), None
            stack.extend(reversed(kids))
        elif t is Symbol:
            yield symbol_token(a.name), None  # type: ignore[attr-defined]
        elif t is Variable:
            k = varidx.get(a)
            if k is None:
                varidx[a] = len(varidx)
                yield _NEW_VAR_B, a  # type: ignore[misc]
            else:
                yield varref_token(k), a  # type: ignore[misc]
        else:
            yield literal_token(a), None


def encode_with_names(atom: Atom) -> tuple[bytes, list[str]]:
    """The byte path and the variable names in order of first occurrence."""
    parts = []
    names: list[str] = []
    for tok, var in atom_tokens(atom):
        parts.append(tok)
        if tok is _NEW_VAR_B and var is not None:
            names.append(var.name)
    return b"".join(parts), names


def encode(atom: Atom) -> bytes:
    """The MORK byte path of an atom (variable names are dropped).

    >>> from mettadb import E, S
    >>> encode(E(S("parent"), S("Tom"), S("Bob"))).hex(" ")
    '03 c6 70 61 72 65 6e 74 c3 54 6f 6d c3 42 6f 62'
    """
    return encode_with_names(atom)[0]


#: symbol token -> atom, for decoding the same symbols again without building them
TEXT_CACHE: dict[bytes, Atom] = {}
_TEXT_CACHE_MAX = 500_000


def text_atom(token: bytes, text: bytes | None = None) -> Atom:
    a = TEXT_CACHE.get(token)
    if a is not None:
        return a
    if text is None:
        text = token[1:]
    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError(f"symbol is not valid UTF-8: {e.reason}") from None
    c = s[0]
    if c > "@" and c != "T" and c != "F":
        a = Symbol(s)  # cannot be a literal: no digit, sign, quote or `$` first
    elif c == '"':
        if len(s) < 2 or s[-1] != '"':
            raise DecodeError("malformed string literal")
        try:
            a = String(unescape(s[1:-1]))
        except ValueError:
            raise DecodeError("bad escape in string literal") from None
    else:
        kind = classify_word(s)
        if kind == "integer":
            a = Integer(read_int(s))
        elif kind == "float":
            a = Float(float(s))
        elif kind == "bool":
            a = Bool(s == "True")
        elif kind == "variable":
            raise DecodeError("a symbol's text may not start with '$'")
        else:
            a = Symbol(s)
    if len(TEXT_CACHE) >= _TEXT_CACHE_MAX:
        TEXT_CACHE.clear()
    TEXT_CACHE[token] = a
    return a


def decode(path: bytes, names: Sequence[str] | None = None) -> Atom:
    """Rebuild the atom from a byte path; variables get `names` (else `_0`, `_1`, ...).

    Raises DecodeError for anything that is not exactly one encoded atom.
    """
    n = len(path)
    if n == 0:
        raise DecodeError("empty path")
    pos = 0
    stack: list[list[Any]] = []  # [children, remaining]
    variables: list[Variable] = []
    while True:
        if pos >= n:
            raise DecodeError(f"path ends inside an expression at byte {pos}")
        tag = path[pos]
        pos += 1
        atom: Atom
        if tag < 0x40:
            if tag:
                stack.append([[], tag])
                continue
            atom = EMPTY_EXPRESSION
        elif tag > 0xC0:
            end = pos + (tag & 0x3F)
            if end > n:
                raise DecodeError(f"symbol runs past the end of the path at byte {pos - 1}")
            atom = text_atom(path[pos - 1 : end], path[pos:end])
            pos = end
        elif tag == 0xC0:
            k = len(variables)
            name = names[k] if names is not None and k < len(names) else f"_{k}"
            atom = Variable(name)
            variables.append(atom)
        elif tag >= 0x80:
            k = tag & 0x3F
            if k >= len(variables):
                raise DecodeError(f"reference to variable {k} before it is introduced")
            atom = variables[k]
        elif tag == TAG_WIDE_ARITY:
            arity, pos = _read_varint(path, pos)
            if arity < 64:
                raise DecodeError("wide arity tag used for a small arity")
            stack.append([[], arity])
            continue
        elif tag == TAG_VAR_REF:
            k, pos = _read_varint(path, pos)
            if k >= len(variables):
                raise DecodeError(f"reference to variable {k} before it is introduced")
            atom = variables[k]
        elif tag in (TAG_LONG_SYMBOL, TAG_RAW_SYMBOL):
            length, pos = _read_varint(path, pos)
            end = pos + length
            if end > n or length == 0:
                raise DecodeError("symbol runs past the end of the path")
            if tag == TAG_RAW_SYMBOL:
                try:
                    atom = Symbol(path[pos:end].decode("utf-8"))
                except UnicodeDecodeError:
                    raise DecodeError("symbol is not valid UTF-8") from None
            else:
                atom = text_atom(path[pos - 1 : end], path[pos:end])
            pos = end
        elif tag == TAG_SPECIAL_FLOAT:
            if pos >= n or path[pos] <= 0xC0:
                raise DecodeError("malformed special float")
            end = pos + 1 + (path[pos] & 0x3F)
            text = path[pos + 1 : end].decode("utf-8", "replace")
            if text not in ("NaN", "inf", "-inf"):
                raise DecodeError("malformed special float")
            atom = Float(float(text.replace("NaN", "nan")))
            pos = end
        else:
            raise DecodeError(f"unknown tag 0x{tag:02x} at byte {pos - 1}")
        while stack:
            top = stack[-1]
            top[0].append(atom)
            top[1] -= 1
            if top[1]:
                break
            stack.pop()
            atom = Expression(top[0])
        if not stack:
            if pos != n:
                raise DecodeError(f"{n - pos} trailing bytes after the atom")
            return atom


def check_path(path: bytes) -> int:
    """How many variables a path introduces; raises DecodeError exactly when `decode` would.

    Builds no atom (symbols go through the same text check and cache), so
    imports can validate millions of records cheaply.
    """
    n = len(path)
    if n == 0:
        raise DecodeError("empty path")
    pos = 0
    need = 1
    nvars = 0
    cached = TEXT_CACHE.get
    while need:
        if pos >= n:
            raise DecodeError(f"path ends inside an expression at byte {pos}")
        tag = path[pos]
        pos += 1
        need -= 1
        if tag < 0x40:
            need += tag
        elif tag > 0xC0:
            end = pos + (tag & 0x3F)
            if end > n:
                raise DecodeError(f"symbol runs past the end of the path at byte {pos - 1}")
            if cached(path[pos - 1:end]) is None:
                text_atom(path[pos - 1:end], path[pos:end])
            pos = end
        elif tag == 0xC0:
            nvars += 1
        elif tag >= 0x80:
            if tag & 0x3F >= nvars:
                raise DecodeError(f"reference to variable {tag & 0x3F} before it is introduced")
        else:  # an extension tag: the full decoder checks those
            decode(path)
            return sum(1 for t in split_tokens(path) if t[0] == 0xC0)
    if pos != n:
        raise DecodeError(f"{n - pos} trailing bytes after the atom")
    return nvars


def split_tokens(path: bytes) -> list[bytes]:
    """The path cut into its tokens (one node each), without checking structure."""
    out: list[bytes] = []
    pos = 0
    n = len(path)
    while pos < n:
        tag = path[pos]
        start = pos
        pos += 1
        if tag > 0xC0:
            pos += tag & 0x3F
        elif 0x40 <= tag < 0x80:
            if tag == TAG_SPECIAL_FLOAT:
                pos += 1 + (path[pos] & 0x3F) if pos < n else 0
            else:
                length, pos = _read_varint(path, pos)
                if tag in (TAG_LONG_SYMBOL, TAG_RAW_SYMBOL):
                    pos += length
        if pos > n:
            raise DecodeError("token runs past the end of the path")
        out.append(path[start:pos])
    return out


def clear_caches() -> None:
    """Forget the symbol token and decoded-symbol caches (benchmarks start cold with it)."""
    _SYMBOL_TOKENS.clear()
    TEXT_CACHE.clear()


#: a regex (bytes, no groups) matching one symbol token: `0xC0|n` and its n bytes
_SYMBOL_TOKEN_PATTERN = b"(?:" + b"|".join(re.escape(bytes((0xC0 | n,))) + b".{%d}" % n for n in range(1, 64)) + b")"
_SYMBOL_TOKEN = re.compile(_SYMBOL_TOKEN_PATTERN, re.S)
_SEEN_MAX = 1 << 18


def _valid_symbol(n: int) -> bytes:
    """A regex for a symbol token of n text bytes whose text `decode` accepts as it stands.

    ASCII text that starts with neither `$` nor `"`, or a string literal
    without escapes or inner quotes; other symbols are left to `check_path`.
    """
    tag = re.escape(bytes((0xC0 | n,)))
    first = b'[^$"\x80-\xff]'
    plain = first + (b"[\x00-\x7f]{%d}" % (n - 1) if n > 1 else b"")
    if n < 2:
        return tag + plain
    string = b'"[^"\\\\\x80-\xff]{%d}"' % (n - 2)  # no quote, backslash or non-ASCII inside
    return tag + b"(?:" + plain + b"|" + string + b")"


#: a regex (bytes, no groups; compile with re.S) for one symbol token that is valid as it stands
VALID_SYMBOL_PATTERN = b"(?:" + b"|".join(_valid_symbol(n) for n in range(1, 64)) + b")"


@functools.cache
def flat_pattern(n: int, prefix: bytes = b"") -> re.Pattern[bytes] | None:
    """The regex of `prefix`, the arity tag n and n valid symbols (one group each), for n = 2..15, else None.

    Compiled on first use (each takes tens of milliseconds: not at import).
    """
    if not 2 <= n < 16:
        return None
    return re.compile(prefix + re.escape(bytes((n,))) + (b"(" + VALID_SYMBOL_PATTERN + b")") * n, re.S)


def flat_symbols(path: bytes) -> tuple[bytes, ...] | None:
    """The symbol tokens of a flat expression of 2-15 symbols each valid as it stands, else None.

    A path this returns tokens for is one `check_path` accepts (without variables).
    """
    pattern = flat_pattern(path[0]) if path else None
    if pattern is None:
        return None
    m = pattern.fullmatch(path)
    return m.groups() if m is not None else None


def check_symbols(tokens: Iterable[bytes], seen: set[bytes]) -> None:
    """Check the text of symbol tokens not in `seen` as `decode` would (DecodeError), then remember them.

    ASCII text that is neither a variable (`$`) nor a string literal is valid as
    it stands, and so is a string literal without escapes; anything else goes
    through the decoder's own check.  `seen` is bounded (cleared when full).
    """
    for t in tokens:
        if t not in seen:
            c = t[1]
            plain = c != 36 and c != 34  # neither `$` nor a string
            if not (t[1:].isascii() and (plain or (c == 34 and len(t) > 2 and t[-1] == 34 and 92 not in t))):
                text_atom(t, t[1:])
            if len(seen) >= _SEEN_MAX:
                seen.clear()
            seen.add(t)


def checked_tokens(path: bytes, seen: set[bytes]) -> tuple[int, list[bytes] | None]:
    """`check_path(path)` and, for a ground `(h a1 .. an)` with n >= 2 and a symbol head, its tokens.

    Returns (variables introduced, tokens or None).  A flat path of symbols is
    cut by one regex and its symbols are checked only the first time they are
    met (`seen` remembers them; bounded); anything else goes through
    `check_path` and `split_tokens`.  Raises DecodeError exactly when `decode` would.
    """
    n = len(path)
    if n > 3 and path[0] < 64:
        toks = _SYMBOL_TOKEN.findall(path, 1)
        if len(toks) == path[0] and len(toks) > 2 and sum(map(len, toks)) == n - 1:
            check_symbols(toks, seen)  # the regex proved the structure: only the symbols' text is left
            toks.insert(0, path[:1])
            return 0, toks
    nvars = check_path(path)
    if nvars or not 3 <= path[0] < 64:
        return nvars, None
    tokens = split_tokens(path)
    return 0, tokens if len(tokens) > 3 and tokens[1][0] > 0xC0 else None



def same_number_tokens(a: bytes, b: bytes) -> bool:
    """Whether two tokens of a path (unequal bytes) are numbers of the same value (`2` and `2.0`):
    a repeated variable of one pattern matches them both, as hyperon's bindings compare numbers."""
    if a[0] <= 0xC0 or b[0] <= 0xC0 or len(a) != 1 + (a[0] & 0x3F) or len(b) != 1 + (b[0] & 0x3F):
        return False
    if not (a[1] < 0x3A and b[1] < 0x3A):  # digits and signs sort below ':'; other text is no number
        return False
    x, y = text_atom(a), text_atom(b)
    return type(x) in (Integer, Float) and type(y) in (Integer, Float) and same_number(x, y)
