"""Files read as hyperon 0.2.10's `load-ascii` reads them: words and parentheses, nothing else.

hyperon's reader (a loop over the file's bytes in its C++ Python module) knows no comments,
strings, variables, `!` or tokens: a word is a run of bytes up to whitespace (C's six: space,
`\\t \\n \\v \\f \\r`) or a parenthesis, and `\\` takes the next byte into the word whatever it is.
So `; note`, `"a b"` and `$x` are symbols (`;` and `note`, `"a` and `b"`, `$x`). Its rules, kept here:

* a word starting with an ASCII digit or `-` is a number when C's `stoll` and `stold` both read
  a prefix of it: an integer when the two agree (`12abc` is 12, `1.0` is 1), else the float
  `stold` read (`1.5`, `1e3`, `0x10` is 16.0); a word either refuses (`-`, `-x`, past i64, past a
  long double's range: `1e5000`, `1e-5000`) is a symbol;
* a word ends at a NUL byte (it becomes a C string); one that starts with one is an empty symbol
  in hyperon, which mettadb has not: it is left out;
* `)` with no `(` open is skipped without ending the word around it (`a)b` is `ab`); `(` right
  after a word at the top level is skipped too (`f(x)` is `f` then `x`);
* a word or an expression still open at the end of the file is dropped (the last word needs
  whitespace or a parenthesis after it);
* a symbol's bytes must be UTF-8 (hyperon aborts the process on others; here a UnicodeError).
"""

from __future__ import annotations

import math
import re

from .atoms import Atom, Expression, Float, Integer, Symbol

__all__ = ["read_ascii"]

_WS = rb" \t\n\x0b\x0c\r"
#: whitespace, then a word or a `)` (and the whitespace byte after it, if one is there: it ends a
#: word), a `(`, or the end (a lone `\\` there): every match starts where the last ended, so the
#: scan is linear
_TOKEN_RE = re.compile(rb"[%s]*(?:((?:\\[\x00-\xff]|[^\\%s()])+)([%s])?|(\()|(\))([%s])?|\\?\Z)" % ((_WS,) * 4))
_ESCAPE_RE = re.compile(rb"\\([\x00-\xff])")
#: what `strtoll` and `strtold` read of a word (the integer part is all `strtoll` reads)
_DEC_RE = re.compile(rb"-?([0-9]+)(?:\.([0-9]*))?(?:[eE]([-+]?[0-9]+))?")
_HEX_RE = re.compile(rb"-?0[xX]([0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP]([-+]?[0-9]+))?")
_I64 = 1 << 63
#: significant digits kept of a long mantissa (the rest count only as "something nonzero")
_KEEP = 40
#: a long double's range: beyond 2**16384 `stold` overflows; below its least normal value, it
#: underflows (both are C++ `out_of_range`)
_LD_MAX_EXP, _LD_MIN_EXP = 16384, -16382


def read_ascii(data: bytes) -> list[Atom]:
    """The atoms hyperon's `load-ascii` adds for a file's bytes, in its order.  A symbol that is not
    UTF-8 raises UnicodeError (naming the byte where its word starts); nothing here recurses."""
    atoms: list[Atom] = []
    stack: list[list[Atom]] = []
    children: list[Atom] = []
    word: list[bytes] = []
    start = 0
    for m in _TOKEN_RE.finditer(data):
        w, space, opened, closed, after = m.groups()
        if w is not None:
            if not word:
                start = m.start(1)
            word.append(w)
            if space is None:
                continue  # (a parenthesis or the end comes next)
        elif closed is not None and not stack:  # (skipped; the word around it goes on, up to whitespace)
            if after is None or not word:
                continue
            closed = None
        elif opened is None and closed is None:
            continue  # (whitespace at the end; what is open there is dropped)
        if word:
            atom = _word(b"".join(word), start)
            word = []
            if not stack:  # (a `(` right after a word at the top level is skipped)
                if atom is not None:
                    atoms.append(atom)
                continue
            if atom is not None:
                children.append(atom)
        if opened is not None:
            stack.append(children)
            children = []
        elif closed is not None:
            expr = Expression(children)
            children = stack.pop()
            (children if stack else atoms).append(expr)
    return atoms


def _word(raw: bytes, start: int) -> Atom | None:
    if b"\\" in raw:
        raw = _ESCAPE_RE.sub(rb"\1", raw)
    raw = raw.split(b"\0", 1)[0]
    if not raw:
        return None
    if raw[0] in b"0123456789-":
        number = _number(raw)
        if number is not None:
            return number
    try:
        return Symbol(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UnicodeError(f"a symbol that is not UTF-8 (the word at byte {start})") from None


def _number(raw: bytes) -> Atom | None:
    """A word read as C++'s `stoll` and `stold` read it (see the module's text); None: a symbol."""
    m = _DEC_RE.match(raw)
    if m is None:
        return None
    digits = m.group(1).lstrip(b"0")
    if len(digits) > 19:
        return None
    negative = raw[0] == 45  # (`-`)
    ll = -int(digits or b"0") if negative else int(digits or b"0")
    if not -_I64 <= ll < _I64:
        return None
    if m.end(1) == len(raw):
        return Integer(ll)
    ld = _long_double(raw, m)
    if ld is None:
        return None
    q, x = ld  # (the long double's magnitude is q * 2**x)
    mag = -ll if negative else ll
    if (q << x == mag) if x >= 0 else (q & ((1 << -x) - 1) == 0 and q >> -x == mag):
        return Integer(ll)
    f = _double(q, x)
    return Float(-f if negative else f)


def _long_double(raw: bytes, dec: re.Match[bytes]) -> tuple[int, int] | None:
    """The magnitude `strtold` reads at the start of `raw` (`dec`: its decimal reading), rounded
    to a long double's 64-bit mantissa: (q, x) for q * 2**x; None out of a long double's range."""
    if raw[1:2] in (b"x", b"X") or raw[2:3] in (b"x", b"X"):  # (`0x…`, `-0x…`)
        hx = _HEX_RE.match(raw)
        if hx is not None:
            whole, _, frac = hx.group(1).partition(b".")
            return _scaled(whole + frac, 16, _exponent(hx.group(2)) - 4 * len(frac), 2)
    frac = dec.group(2) or b""
    return _scaled(dec.group(1) + frac, 10, _exponent(dec.group(3)) - len(frac), 10)


def _double(q: int, x: int) -> float:
    """q * 2**x as C converts a long double to a double: rounded once, half to even (to a
    subnormal's precision below 2**-1022), infinity beyond a double's range."""
    cut = -1074 - x  # (the bits of q below a subnormal double's least one)
    if cut > 0 and q.bit_length() + x <= -1022:
        low = q & ((1 << cut) - 1)
        q >>= cut
        half = 1 << (cut - 1)
        if low > half or (low == half and q & 1):
            q += 1
        return math.ldexp(float(q), -1074)
    try:
        return math.ldexp(float(q), x)
    except OverflowError:
        return math.inf


def _exponent(text: bytes | None) -> int:
    """An exponent's value, clamped far beyond any long double's range (a long run of digits)."""
    if text is None:
        return 0
    body = text.lstrip(b"+-").lstrip(b"0") or b"0"
    n = int(body) if len(body) <= 12 else 10**12
    return -n if text.startswith(b"-") else n


def _scaled(digits: bytes, base: int, exp: int, radix: int) -> tuple[int, int] | None:
    """int(digits, base) * radix**exp rounded to a long double, as `_round64` gives it; None out
    of its range."""
    digits = digits.lstrip(b"0")
    if not digits:
        return 0, 0
    if len(digits) > _KEEP:  # (what lies past the kept digits only decides a tie: one more digit)
        sticky = digits[_KEEP:].strip(b"0") != b""
        exp += (len(digits) - _KEEP - (1 if sticky else 0)) * (4 if base == 16 else 1)
        digits = digits[:_KEEP] + (b"1" if sticky else b"")
    # (log2 of the value, roughly: a first check of the range before any big number is made)
    top = len(digits) * (4 if base == 16 else 3.33) + exp * (3.33 if radix == 10 else 1)
    if not _LD_MIN_EXP - 200 < top < _LD_MAX_EXP + 200:
        return None
    n = int(digits, base)
    return _round64(n * radix**exp, 1) if exp >= 0 else _round64(n, radix**-exp)


def _round64(num: int, den: int) -> tuple[int, int] | None:
    """num/den (positive) rounded to 64 significant bits, half to even: (q, x) for q * 2**x; None
    beyond a long double's range (C++'s `out_of_range`, for an underflow too)."""
    e = num.bit_length() - den.bit_length()  # (2**e <= num/den < 2**(e+1), once corrected)
    if (num << -e if e < 0 else num) < (den << e if e > 0 else den):
        e -= 1
    if e < _LD_MIN_EXP - 1:
        return None
    s = 63 - e
    d = den if s >= 0 else den << -s
    q, r = divmod(num << s if s >= 0 else num, d)
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
    if q >> 64:
        q >>= 1
        e += 1
    return None if not _LD_MIN_EXP <= e < _LD_MAX_EXP else (q, e - 63)  # (tiny once rounded: underflow)
