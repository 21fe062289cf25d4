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

import re
from fractions import Fraction

from .atoms import Atom, Expression, Float, Integer, Symbol

__all__ = ["read_ascii"]

_TOKEN_RE = re.compile(rb"(?P<w>(?:\\[\x00-\xff]|[^\\ \t\n\x0b\x0c\r()])+)|(?P<o>\()|(?P<c>\))|[ \t\n\x0b\x0c\r]+")
_ESCAPE_RE = re.compile(rb"\\([\x00-\xff])")
_INT_RE = re.compile(rb"-?[0-9]+")
#: what `strtold` reads of a word that `strtoll` reads (a digit after an optional `-`)
_HEX_RE = re.compile(rb"(-?)0[xX]([0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP]([-+]?[0-9]+))?")
_DEC_RE = re.compile(rb"(-?)([0-9]+)(?:\.([0-9]*))?(?:[eE]([-+]?[0-9]+))?")
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
        kind = m.lastgroup
        if kind == "w":
            if not word:
                start = m.start()
            word.append(m.group())
            continue
        if kind == "c" and not stack:
            continue  # (skipped; the word around it goes on)
        if word:
            atom = _word(b"".join(word), start)
            word = []
            if not stack:  # (a `(` right after a word at the top level is skipped)
                if atom is not None:
                    atoms.append(atom)
                continue
            if atom is not None:
                children.append(atom)
        if kind == "o":
            stack.append(children)
            children = []
        elif kind == "c":
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
    m = _INT_RE.match(raw)
    if m is None:
        return None
    digits = m.group().lstrip(b"-").lstrip(b"0")
    if len(digits) > 19:
        return None
    ll = -int(digits or b"0") if raw[0] == 45 else int(digits or b"0")  # (45: `-`)
    if not -_I64 <= ll < _I64:
        return None
    if m.end() == len(raw):
        return Integer(ll)
    ld = _long_double(raw)
    if ld is None:
        return None
    if ld == ll:
        return Integer(ll)
    try:
        return Float(float(ld))
    except OverflowError:  # (a long double beyond a double's range: C's conversion gives infinity)
        return Float(float("inf") if ld > 0 else float("-inf"))


def _long_double(raw: bytes) -> Fraction | None:
    """The value `strtold` reads at the start of `raw`, rounded to a long double's 64-bit
    mantissa; None when it is out of a long double's range."""
    hx = _HEX_RE.match(raw)
    if hx is not None:
        sign, mant, exp = hx.groups()
        whole, _, frac = mant.partition(b".")
        value = _scaled(whole + frac, 16, _exponent(exp) - 4 * len(frac), 2)
    else:
        dm = _DEC_RE.match(raw)
        assert dm is not None  # (raw starts with digits, after an optional `-`)
        sign, whole, frac, exp = dm.group(1), dm.group(2), dm.group(3) or b"", dm.group(4)
        value = _scaled(whole + frac, 10, _exponent(exp) - len(frac), 10)
    if value is None:
        return None
    return -value if sign and value else value


def _exponent(text: bytes | None) -> int:
    """An exponent's value, clamped far beyond any long double's range (a long run of digits)."""
    if text is None:
        return 0
    body = text.lstrip(b"+-").lstrip(b"0") or b"0"
    n = int(body) if len(body) <= 12 else 10**12
    return -n if text.startswith(b"-") else n


def _scaled(digits: bytes, base: int, exp: int, radix: int) -> Fraction | None:
    """int(digits, base) * radix**exp rounded to a long double (positive); None out of its range."""
    digits = digits.lstrip(b"0")
    if not digits:
        return Fraction(0)
    if len(digits) > _KEEP:  # (what lies past the kept digits only decides a tie: one more digit)
        sticky = digits[_KEEP:].strip(b"0") != b""
        exp += len(digits) - _KEEP - (1 if sticky else 0)
        digits = digits[:_KEEP] + (b"1" if sticky else b"")
    bits = 3.33 if radix == 10 else 1.0  # (log2 of the radix, roughly: a first check of the range)
    top = len(digits) * (4 if base == 16 else 3.33) + exp * bits
    if top > _LD_MAX_EXP + 200:
        return None
    if top < _LD_MIN_EXP - 200:
        return None
    n = int(digits, base)
    value = Fraction(n) * Fraction(radix) ** exp
    return _round64(value)


def _round64(a: Fraction) -> Fraction | None:
    """A positive value rounded to 64 significant bits (half to even); None beyond a long double."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if a < Fraction(2) ** e:
        e -= 1
    if e < _LD_MIN_EXP:
        return None
    n = round(a * Fraction(2) ** (63 - e))
    out = Fraction(n) * Fraction(2) ** (e - 63)
    return None if out >= Fraction(2) ** _LD_MAX_EXP else out
