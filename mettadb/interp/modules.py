"""hyperon 0.2.10's optional modules that `!(import! &self NAME)` loads: `random`, `json`, `fileio`.

Their grounded operations (`MODULE_OPS`, merged into `grounded.BUILTINS`) exist
in a run only once the module is imported: until then the interpreter keeps
their names as tokens naming themselves, which hides them (a call stays as it is,
`get-type` knows nothing), as in hyperon, whose tokenizer learns them at import.

Random numbers come from hyperon's generator (rand 0.9's `StdRng`, ChaCha12,
seeded as `seed_from_u64` seeds it), so a seeded generator gives hyperon's numbers.
JSON is read as serde_json reads it (its error messages and positions); files are
opened as Rust's `OpenOptions` opens them, relative to the working directory.
"""

from __future__ import annotations

import errno
import math
import os
import random as pyrandom
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..atoms import Atom, Bool, Expression, Float, Grounded, Integer, String, Symbol, Variable, fresh_variable, quote_string
from ..spaces import MemorySpace, SpaceAtom
from .core import GROUNDED_NAMES, UNIT, Fail, Machine, error, in_sandbox, is_char

__all__ = ["FINAL_MODULE_RESULTS", "MODULES", "MODULE_OPS", "FileHandle", "RandomGenerator", "module_tokens"]

Operation = Callable[[Machine, list[Atom]], list[Atom]]
_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1


# ---------------------------------------------------------------- random

def _rotl(v: int, c: int) -> int:
    return ((v << c) & _M32) | (v >> (32 - c))


def _chacha12_block(key: list[int], counter: int) -> list[int]:
    """One 64-byte ChaCha block with 12 rounds (stream 0), as 16 words."""
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *key,
             counter & _M32, counter >> 32, 0, 0]
    x = list(state)
    for _ in range(6):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):
            x[a] = (x[a] + x[b]) & _M32
            x[d] = _rotl(x[d] ^ x[a], 16)
            x[c] = (x[c] + x[d]) & _M32
            x[b] = _rotl(x[b] ^ x[c], 12)
            x[a] = (x[a] + x[b]) & _M32
            x[d] = _rotl(x[d] ^ x[a], 8)
            x[c] = (x[c] + x[d]) & _M32
            x[b] = _rotl(x[b] ^ x[c], 7)
    return [(x[i] + state[i]) & _M32 for i in range(16)]


class ChaCha12:
    """rand 0.9's `StdRng`: ChaCha12 over a 32-byte key, read as u64s (low word first)."""

    def __init__(self, key: bytes) -> None:
        self.key = list(struct.unpack("<8I", key))
        self.counter = 0
        self.words: list[int] = []
        self.index = 0

    @classmethod
    def from_u64(cls, seed: int) -> ChaCha12:
        """rand_core's `seed_from_u64`: the key filled from a PCG32 stream started at `seed`."""
        state = seed & _M64
        out = bytearray()
        for _ in range(8):
            state = (state * 6364136223846793005 + 11634580027462260723) & _M64
            xorshifted = (((state >> 18) ^ state) >> 27) & _M32
            rot = state >> 59
            out += struct.pack("<I", ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & _M32)
        return cls(bytes(out))

    def next_u64(self) -> int:
        if self.index + 1 >= len(self.words):
            # (only u64s are drawn: the buffer of four blocks is used up two words at a time)
            self.words = [w for i in range(4) for w in _chacha12_block(self.key, self.counter + i)]
            self.counter += 4
            self.index = 0
        lo, hi = self.words[self.index], self.words[self.index + 1]
        self.index += 2
        return (hi << 32) | lo


class RandomGenerator(Grounded):
    """hyperon's `RandomGenerator`: a mutable generator, equal only to itself."""

    __slots__ = ()
    session_kind = "random generator"
    type_name = "RandomGenerator"

    def __init__(self, rng: ChaCha12) -> None:
        object.__setattr__(self, "value", [rng])
        object.__setattr__(self, "_hash", id(self))

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = Grounded.__hash__

    def text(self) -> str:
        """How the generator prints (hyperon shows its address)."""
        return f"RandomGenerator-0x{id(self.value):x}"

    @property
    def rng(self) -> ChaCha12:
        """The generator's current state."""
        return self.value[0]  # type: ignore[no-any-return]

    def reseed(self, rng: ChaCha12) -> None:
        """Start the generator over from another state."""
        self.value[0] = rng


def _os_rng() -> ChaCha12:
    return ChaCha12(os.urandom(32))


def _number_arg(a: Atom, message: str, kind: type) -> Any:
    """A number argument as Rust's `as` conversion takes it: a float to i64 truncated and saturated."""
    if type(a) not in (Integer, Float):
        raise Fail(Symbol(message))
    v = a.value  # type: ignore[attr-defined]
    if kind is float:
        return float(v)
    if isinstance(v, float):
        if math.isnan(v):
            return 0
        return max(-(1 << 63), min((1 << 63) - 1, int(v))) if math.isfinite(v) else (
            (1 << 63) - 1 if v > 0 else -(1 << 63))
    return v


def _at(args: list[Atom], i: int, message: str) -> Atom:
    """An argument a grounded call of another arity may lack (`eval` runs it as written): hyperon's
    error `message` when it is not there."""
    if i >= len(args):
        raise Fail(Symbol(message))
    return args[i]


def _generator(a: Atom, message: str) -> RandomGenerator:
    if type(a) is not RandomGenerator:
        raise Fail(Symbol(message))
    return a


def _random_int(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "random-int expects three arguments: random generator, number (start) and number (end)"
    first = _at(args, 0, msg)
    start = _number_arg(_at(args, 1, msg), msg, int)
    end = _number_arg(_at(args, 2, msg), msg, int)
    gen = _generator(first, "random-int expects a random generator as its argument")
    if not start < end:
        raise Fail(Symbol("RangeIsEmpty"))
    # rand 0.9's `sample_single_inclusive` for i64 (Canon's method: one more draw when biased)
    span = (end - 1 - start + 1) & _M64
    rng = gen.rng
    if span == 0:
        v = rng.next_u64()
    else:
        wide = rng.next_u64() * span
        v, low = wide >> 64, wide & _M64
        if low > (-span) & _M64:
            extra = (rng.next_u64() * span) >> 64
            v += 1 if low + extra > _M64 else 0
    r = (start + v) & _M64
    return [Integer(r - (1 << 64) if r >> 63 else r)]


def _random_float(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "random-float expects three arguments: random generator, number (start) and number (end)"
    first = _at(args, 0, msg)
    low = _number_arg(_at(args, 1, msg), msg, float)
    high = _number_arg(_at(args, 2, msg), msg, float)
    gen = _generator(first, "random-float expects a random generator as its argument")
    if not low < high:
        raise Fail(Symbol("RangeIsEmpty"))
    scale = high - low
    if not math.isfinite(scale):  # (hyperon 0.2.10 aborts the process here)
        raise Fail(Symbol("NonFinite"))
    while True:  # rand 0.9's `UniformFloat::sample_single`
        res = (gen.rng.next_u64() >> 12) * 2.0 ** -52 * scale + low
        if res < high:
            return [Float(res)]
        scale = struct.unpack("<d", struct.pack("<q", struct.unpack("<q", struct.pack("<d", scale))[0] - 1))[0]


def _set_random_seed(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "set-random-seed expects two arguments: random generator and number (seed)"
    first = _at(args, 0, msg)
    seed = _number_arg(_at(args, 1, msg), msg, int)
    gen = _generator(first, "set-random-seed expects a random generator as its argument")
    gen.reseed(ChaCha12.from_u64(seed))
    return [UNIT]


def _new_random_generator(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "new-random-generator expects one argument: number (seed)"
    seed = _number_arg(_at(args, 0, msg), msg, int)
    return [RandomGenerator(ChaCha12.from_u64(seed))]


def _reset_random_generator(it: Machine, args: list[Atom]) -> list[Atom]:
    first = _at(args, 0, "reset-random-generator expects one argument: random generator")
    gen = _generator(first, "set-random-seed expects a random generator as its argument")  # (hyperon's words)
    gen.reseed(_os_rng())
    return [UNIT]


def _flip(it: Machine, args: list[Atom]) -> list[Atom]:
    return [Bool(pyrandom.random() < 0.5)]


# ---------------------------------------------------------------- json

class _JsonError(Exception):
    pass


def _json_float(f: float) -> str:
    """A float as serde_json writes it: shortest digits; exponent form outside 1e-5..1e16."""
    if not math.isfinite(f):
        return "null"
    sign, digits, exp = Decimal(repr(f)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    e10 = len(digits) - 1 + int(exp)  # the exponent of the first digit
    neg = "-" if sign else ""
    if ds == "0":
        return neg + "0.0"
    if -5 <= e10 < 16:
        if e10 < 0:
            return f"{neg}0.{'0' * (-e10 - 1)}{ds}"
        whole, frac = ds[:e10 + 1].ljust(e10 + 1, "0"), ds[e10 + 1:]
        return f"{neg}{whole}.{frac or '0'}"
    mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
    return f"{neg}{mant}e{'+' if e10 > 0 else ''}{e10}"


def _json_str(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, "\\u%04x" % o))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_grounded_op(it: Machine, a: Atom) -> bool:
    """A name hyperon's tokenizer makes a grounded operation (a module's once imported, but not the
    functions its MeTTa code defines by rules)."""
    return type(a) is Symbol and (a.name in GROUNDED_NAMES or (
        a.name in MODULE_OPS and a.name not in RULE_DEFINED and a.name not in it.tokens))


def _encode(it: Machine, root: Atom, out: list[str]) -> None:
    """JSON text of an atom, as hyperon's `json-encode` writes it (an explicit stack: a list thousands
    of levels deep is encoded, as in hyperon)."""
    todo: list[Atom | str] = [root]
    while todo:
        a = todo.pop()
        if type(a) is str:
            out.append(a)
            continue
        assert isinstance(a, Atom)
        t = type(a)
        if t is Expression:
            out.append("[")
            todo.append("]")
            kids = a.children  # type: ignore[attr-defined]
            for i in range(len(kids) - 1, -1, -1):
                todo.append(kids[i])
                if i:
                    todo.append(", ")
        elif t is Integer:
            out.append(str(a.value))  # type: ignore[attr-defined]
        elif t is Float:
            out.append(_json_float(a.value))  # type: ignore[attr-defined]
        elif t is Bool:
            out.append("true" if a.value else "false")  # type: ignore[attr-defined]
        elif t is String:
            out.append(_json_str(a.value))  # type: ignore[attr-defined]
        elif isinstance(a, SpaceAtom):
            pairs: list[Atom | str] = []
            for i, x in enumerate(it.atoms_of(a.value)):
                if type(x) is not Expression or len(x.children) != 2:
                    raise _JsonError("Input space must be a dictionary space consists of key-value pairs only "
                                     "or empty space. Use dict-space function")
                key, value = x.children
                if type(key) is not String:
                    raise _JsonError("Key/value pair is expected, key must be a string")
                pairs.append((", " if i else "") + quote_string(key.value) + ":")
                pairs.append(value)
            out.append("{")
            todo.append("}")
            todo.extend(reversed(pairs))
        elif t is Symbol and not _is_grounded_op(it, a) and not is_char(a):
            name = a.name  # type: ignore[attr-defined]
            out.append("null" if name == "null" else _json_str("sym!:" + name))
        elif t is Variable:
            out.append(_json_str("var!:" + a.name))  # type: ignore[attr-defined]
        else:
            raise _JsonError(f"Encode failed for atom (unsupported type): {{{a}}}")


def _json_encode(it: Machine, args: list[Atom]) -> list[Atom]:
    out: list[str] = []
    try:
        _encode(it, _at(args, 0, "json-encode expects atom to encode as input"), out)
    except _JsonError as e:
        raise Fail(Symbol(str(e))) from None
    return [String("".join(out))]


class _JsonReader:
    """serde_json's reader: its values, its error messages and their line:column (in bytes)."""

    def __init__(self, text: str) -> None:
        self.s = text.encode("utf-8", "surrogatepass")
        self.i = 0
        self.depth = 128

    def _fail(self, message: str, peek: bool = False) -> _JsonError:
        end = min(len(self.s), self.i + 1) if peek else self.i
        line, col = 1, 0
        for c in self.s[:end]:
            if c == 0x0A:
                line, col = line + 1, 0
            else:
                col += 1
        return _JsonError(f"{message} at line {line} column {col}")

    def _peek(self) -> int | None:
        return self.s[self.i] if self.i < len(self.s) else None

    def _ws(self) -> int | None:
        while self.i < len(self.s) and self.s[self.i] in b" \n\t\r":
            self.i += 1
        return self._peek()

    def document(self) -> Any:
        v = self.value()
        if self._ws() is not None:
            raise self._fail("trailing characters", True)
        return v

    def value(self) -> Any:
        c = self._ws()
        if c is None:
            raise self._fail("EOF while parsing a value", True)
        if c in b"ntf":
            word = {ord("n"): b"null", ord("t"): b"true", ord("f"): b"false"}[c]
            self.i += 1
            for want in word[1:]:
                got = self._peek()
                if got is None:
                    raise self._fail("EOF while parsing a value")
                self.i += 1
                if got != want:
                    raise self._fail("expected ident")
            return None if c == ord("n") else c == ord("t")
        if c == ord("-"):
            self.i += 1
            return self._number(False)
        if 0x30 <= c <= 0x39:
            return self._number(True)
        if c == ord('"'):
            self.i += 1
            return ("s", self._string())
        if c in b"[{":
            self.depth -= 1
            if self.depth == 0:
                raise self._fail("recursion limit exceeded", True)
            self.i += 1
            got = self._list() if c == ord("[") else self._object()
            self.depth += 1
            return got
        raise self._fail("expected value", True)

    def _digits(self) -> int:
        start = self.i
        while self.i < len(self.s) and 0x30 <= self.s[self.i] <= 0x39:
            self.i += 1
        return self.i - start

    def _number(self, positive: bool) -> Any:
        start = self.i
        c = self._peek()
        if c is None:
            raise self._fail("EOF while parsing a value")
        self.i += 1
        if c == 0x30:
            nxt = self._peek()
            if nxt is not None and 0x30 <= nxt <= 0x39:
                raise self._fail("invalid number", True)
        elif 0x31 <= c <= 0x39:
            self._digits()
        else:
            raise self._fail("invalid number")
        is_float = False
        if self._peek() == ord("."):
            is_float = True
            self.i += 1
            if not self._digits():
                if self._peek() is not None:
                    raise self._fail("invalid number", True)
                raise self._fail("EOF while parsing a value")
        if self._peek() in (ord("e"), ord("E")):
            is_float = True
            self.i += 1
            if self._peek() in (ord("+"), ord("-")):
                self.i += 1
            c = self._peek()
            if c is None:
                raise self._fail("EOF while parsing a value")
            if not 0x30 <= c <= 0x39:
                self.i += 1
                raise self._fail("invalid number")
            self._digits()
        text = self.s[start:self.i].decode()
        if not is_float:
            n = int(text)
            if n <= _M64:
                if positive:
                    return ("u", n) if n >> 63 else n
                neg = (-n) & _M64
                neg = neg - (1 << 64) if neg >> 63 else neg
                return -float(n) if neg >= 0 else neg
        f = float(text)
        if math.isinf(f):
            raise self._fail("number out of range")
        return f if positive else -f

    def _hex4(self) -> int:
        if self.i + 4 > len(self.s):
            self.i = len(self.s)
            raise self._fail("EOF while parsing a string")
        part = self.s[self.i:self.i + 4]
        self.i += 4
        return int(part.decode("ascii"), 16) if all(chr(b) in "0123456789abcdefABCDEF" for b in part) else -1

    def _string(self) -> str:
        out = bytearray()
        while True:
            c = self._peek()
            if c is None:
                raise self._fail("EOF while parsing a string")
            self.i += 1
            if c == ord('"'):
                return out.decode("utf-8", "surrogatepass")
            if c < 0x20:
                raise self._fail("control character (\\u0000-\\u001F) found while parsing a string")
            if c != ord("\\"):
                out.append(c)
                continue
            e = self._peek()
            if e is None:
                raise self._fail("EOF while parsing a string")
            self.i += 1
            simple = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b", ord("f"): b"\f",
                      ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}.get(e)
            if simple is not None:
                out += simple
                continue
            if e != ord("u"):
                raise self._fail("invalid escape")
            n = self._hex4()
            if n < 0:
                raise self._fail("invalid escape")
            if 0xDC00 <= n <= 0xDFFF:
                raise self._fail("lone leading surrogate in hex escape")
            if 0xD800 <= n <= 0xDBFF:
                for want in (ord("\\"), ord("u")):
                    got = self._peek()
                    if got is None:
                        raise self._fail("EOF while parsing a string")
                    self.i += 1
                    if got != want:
                        raise self._fail("unexpected end of hex escape")
                n2 = self._hex4()
                if n2 < 0:
                    raise self._fail("invalid escape")
                if not 0xDC00 <= n2 <= 0xDFFF:
                    raise self._fail("lone leading surrogate in hex escape")
                n = 0x10000 + ((n - 0xD800) << 10) + (n2 - 0xDC00)
            out += chr(n).encode("utf-8")

    def _list(self) -> Any:
        items: list[Any] = []
        while True:
            c = self._ws()
            if c == ord("]"):
                self.i += 1
                return ("l", items)
            if items:
                if c is None:
                    raise self._fail("EOF while parsing a list", True)
                if c != ord(","):
                    raise self._fail("expected `,` or `]`", True)
                self.i += 1
                c = self._ws()
                if c == ord("]"):
                    raise self._fail("trailing comma", True)
            elif c is None:
                raise self._fail("EOF while parsing a list", True)
            items.append(self.value())

    def _object(self) -> Any:
        items: dict[str, Any] = {}
        first = True
        while True:
            c = self._ws()
            if c == ord("}"):
                self.i += 1
                return ("o", items)
            if not first:
                if c is None:
                    raise self._fail("EOF while parsing an object", True)
                if c != ord(","):
                    raise self._fail("expected `,` or `}`", True)
                self.i += 1
                c = self._ws()
                if c == ord("}"):
                    raise self._fail("trailing comma", True)
            elif c is None:
                raise self._fail("EOF while parsing an object", True)
            first = False
            if c is None:
                raise self._fail("EOF while parsing a value", True)
            if c != ord('"'):
                raise self._fail("key must be a string", True)
            self.i += 1
            key = self._string()
            c = self._ws()
            if c is None:
                raise self._fail("EOF while parsing an object", True)
            if c != ord(":"):
                raise self._fail("expected `:`", True)
            self.i += 1
            items[key] = self.value()


def _to_atom(v: Any) -> Atom:
    if v is None:
        return Symbol("null")
    if isinstance(v, bool):
        return Bool(v)
    if isinstance(v, int):
        return Integer(v)
    if isinstance(v, float):
        return Float(v)
    kind, x = v
    if kind == "u":
        raise Fail(Symbol("Currently u64 type is not supported"))
    if kind == "l":
        return Expression(tuple(_to_atom(k) for k in x))
    if kind == "o":
        space = MemorySpace()
        for key in sorted(x):  # (serde_json's map is ordered by key)
            space.add(Expression((String(key), _to_atom(x[key]))))
        return SpaceAtom(space)
    text = _json_str(x)  # hyperon reads the string back as JSON text, quotes and escapes kept
    if text.startswith('"sym!:'):
        if len(text) == 7:  # (hyperon makes a symbol with no name, which mettadb cannot hold)
            raise Fail(Symbol("json-decode cannot make a symbol with an empty name"))
        return Symbol(text[6:-1])
    if text.startswith('"var!:'):
        return Variable(text[6:-1])
    return String(text)


def _json_decode(it: Machine, args: list[Atom]) -> list[Atom]:
    if not args or type(args[0]) is not String:
        raise Fail(Symbol("json-decode expects string to decode as input"))
    try:
        v = _JsonReader(args[0].value).document()
    except _JsonError as e:
        raise Fail(Symbol(f"Failed to decode string. Reason: {e}")) from None
    return [_to_atom(v)]


def _get_keys(it: Machine, args: list[Atom]) -> list[Atom]:
    """The first of each pair in a space (hyperon's rule unifies the argument with `($key $value)`:
    an expression of two gives its first)."""
    if not isinstance(args[0], SpaceAtom):
        x = args[0]
        return [x.children[0]] if type(x) is Expression and len(x.children) == 2 else []
    return [x.children[0] for x in it.atoms_of(args[0].value)
            if type(x) is Expression and len(x.children) == 2]


def _get_value(it: Machine, args: list[Atom]) -> list[Atom]:
    """hyperon's rule's body, `(match space (key $value) $value)`, evaluated next."""
    value = fresh_variable("value")
    return [Expression((Symbol("match"), args[0], Expression((args[1], value)), value))]


def _dict_space(it: Machine, args: list[Atom]) -> list[Atom]:
    """A new space with each item of the expression, evaluated, added (hyperon's rule, run by `let`s)."""
    space = SpaceAtom(MemorySpace())
    if type(args[0]) is not Expression:
        b = fresh_variable("b")
        call = Expression((Symbol("foldl-atom"), args[0], UNIT, fresh_variable("a"), b,
                           Expression((Symbol("add-atom"), space, b))))
        return [error(call, Symbol("NoReturn"))]
    out: Atom = space
    for item in reversed(args[0].children):
        out = Expression((Symbol("let"), Variable("_"), Expression((Symbol("add-reduct"), space, item)), out))
    return [out]


# ---------------------------------------------------------------- fileio

class FileHandle(Grounded):
    """hyperon's `FileHandle`: an open file (a descriptor, closed when the atom is dropped)."""

    __slots__ = ()
    session_kind = "file handle"
    type_name = "FileHandle"

    def __init__(self, fd: int) -> None:
        object.__setattr__(self, "value", fd)
        object.__setattr__(self, "_hash", id(self))

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = Grounded.__hash__

    def __del__(self) -> None:
        try:
            os.close(self.value)
        except OSError:
            pass

    def text(self) -> str:
        """How the handle prints (hyperon shows its address)."""
        return f"FileHandle-0x{id(self):x}"


def _os_message(e: OSError) -> str:
    """An OS error as Rust prints one: `Bad file descriptor (os error 9)`."""
    n = e.errno or 0
    return f"{os.strerror(n)} (os error {n})"


def _open_flags(options: str) -> int | None:
    """Rust's `OpenOptions` from hyperon's letters (r read, w write, c create, a append, t truncate);
    None for a combination Rust refuses."""
    read, write, create, append, trunc = (ch in options for ch in "rwcat")
    if append:
        flags = (os.O_RDWR if read else os.O_WRONLY) | os.O_APPEND
    elif read and write:
        flags = os.O_RDWR
    elif write:
        flags = os.O_WRONLY
    elif read:
        flags = os.O_RDONLY
    else:
        return None
    if not write and not append and (trunc or create):
        return None
    if append and trunc:
        return None
    return flags | (os.O_CREAT if create else 0) | (os.O_TRUNC if trunc else 0) | os.O_CLOEXEC


def _handle(a: Atom, message: str) -> int:
    if type(a) is not FileHandle:
        raise Fail(Symbol(message))
    return a.value  # type: ignore[no-any-return]


def _file_open(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "file-open! expects filepath and options in form of string atoms as an argument"
    path, options = _at(args, 0, msg), _at(args, 1, msg)
    if type(path) is not String or type(options) is not String:
        raise Fail(Symbol(msg))
    p, o = path.value, options.value
    full = os.path.realpath(p)  # relative to the working directory, as in hyperon (links followed)
    if not in_sandbox(it, full, real=True):
        raise Fail(f"file-open! may only open files under {it.base_dir} (use --allow-import PATH)")
    flags = _open_flags(o)
    try:
        if flags is None:
            raise OSError(errno.EINVAL, "invalid options")
        fd = os.open(p, flags, 0o666)
    except OSError:
        raise Fail(Symbol(f"Failed to open file with provided path={p} and options={o}")) from None
    return [FileHandle(fd)]


def _file_read_to_string(it: Machine, args: list[Atom]) -> list[Atom]:
    fd = _handle(_at(args, 0, "file-read-to-string! expects filehandle as an argument"),
                 "file-read! expects filehandle as an argument")  # (hyperon's words)
    data = bytearray()
    try:
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        raise Fail(Symbol(f"Failed to read file contents: {_os_message(e)}")) from None
    try:
        return [String(data.decode("utf-8"))]
    except UnicodeDecodeError:
        raise Fail(Symbol("Failed to read file contents: stream did not contain valid UTF-8")) from None


def _file_write(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "file-write! expects filehandle and content (string atom) as an arguments"
    fd = _handle(_at(args, 0, msg), msg)
    if len(args) < 2 or type(args[1]) is not String:
        raise Fail(Symbol(msg))
    try:
        os.write(fd, args[1].value.encode("utf-8"))
    except OSError as e:  # (hyperon 0.2.10 aborts the process here)
        raise Fail(Symbol(f"Failed to write content to file: {_os_message(e)}")) from None
    return [UNIT]


def _file_seek(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "file-seek! expects filehandle and start byte (number) as an arguments"
    fd = _handle(_at(args, 0, msg), msg)
    pos = _number_arg(_at(args, 1, msg), msg, int)
    try:
        os.lseek(fd, pos & _M64, os.SEEK_SET)
    except (OSError, OverflowError):  # hyperon ignores a failed seek
        pass
    return [UNIT]


def _utf8_error(data: bytes) -> str | None:
    """Rust's `FromUtf8Error` text for bytes that are not UTF-8; None when they are."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data":
            return f"incomplete utf-8 byte sequence from index {e.start}"
        return f"invalid utf-8 sequence of {e.end - e.start} bytes from index {e.start}"


#: the most `file-read-exact!` reads at once (its buffer is allocated whole, NUL bytes past the end)
_READ_EXACT_MAX = 1 << 30


def _file_read_exact(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "file-read-exact! expects filehandle and number of bytes to read (number) as an arguments"
    fd = _handle(_at(args, 0, msg), msg)
    n = _number_arg(_at(args, 1, msg), msg, int)
    if n < 0:  # (hyperon 0.2.10 aborts the process: "capacity overflow")
        raise Fail(Symbol("capacity overflow"))
    if n > _READ_EXACT_MAX:  # (hyperon allocates a buffer of n bytes whatever the file's size)
        raise Fail(Symbol(f"file-read-exact! reads at most {_READ_EXACT_MAX} bytes at once"))
    try:
        got = os.read(fd, n) if n else b""
    except OSError as e:
        raise Fail(Symbol(f"Read exact failed: {_os_message(e)}")) from None
    data = got + bytes(n - len(got))  # one read into a zeroed buffer of n bytes, all of it returned
    bad = _utf8_error(data)
    if bad is not None:
        raise Fail(Symbol(f"Read exact failed: {bad}"))
    return [String(data.decode("utf-8"))]


def _file_get_size(it: Machine, args: list[Atom]) -> list[Atom]:
    msg = "file-get-size! expects filehandle as an argument"
    fd = _handle(_at(args, 0, msg), msg)
    try:
        return [Integer(os.fstat(fd).st_size)]
    except OSError as e:
        raise Fail(Symbol(f"Failed to get file size: {_os_message(e)}")) from None


# ---------------------------------------------------------------- the modules

_U = "%Undefined%"
#: name -> (operation, argument types, return type), as hyperon 0.2.10 declares them
MODULE_OPS: dict[str, tuple[Operation, tuple[str, ...] | None, str]] = {
    "random-int": (_random_int, ("RandomGenerator", "Number", "Number"), "Number"),
    "random-float": (_random_float, ("RandomGenerator", "Number", "Number"), "Number"),
    "set-random-seed": (_set_random_seed, ("RandomGenerator", "Number"), "(->)"),
    "new-random-generator": (_new_random_generator, ("Number",), "RandomGenerator"),
    "reset-random-generator": (_reset_random_generator, ("RandomGenerator",), "()"),
    "flip": (_flip, (), "Bool"),
    "json-encode": (_json_encode, ("Atom",), "String"),
    "json-decode": (_json_decode, ("String",), "Atom"),
    "dict-space": (_dict_space, ("Expression",), "Grounded"),
    "get-keys": (_get_keys, ("Grounded",), "Atom"),
    "get-value": (_get_value, ("Grounded", "Atom"), _U),
    "file-open!": (_file_open, ("String", "String"), "FileHandle"),
    "file-read-to-string!": (_file_read_to_string, ("FileHandle",), "String"),
    "file-write!": (_file_write, ("FileHandle", "String"), "()"),
    "file-seek!": (_file_seek, ("FileHandle", "Number"), "()"),
    "file-read-exact!": (_file_read_exact, ("FileHandle", "Number"), "String"),
    "file-get-size!": (_file_get_size, ("FileHandle",), "Number"),
}
#: the operations of each module
MODULES: dict[str, tuple[str, ...]] = {
    "random": ("random-int", "random-float", "set-random-seed", "new-random-generator", "reset-random-generator",
               "flip"),
    "json": ("json-encode", "json-decode", "dict-space", "get-keys", "get-value"),
    "fileio": ("file-open!", "file-read-to-string!", "file-write!", "file-seek!", "file-read-exact!",
               "file-get-size!"),
}
#: the functions hyperon's modules define by rules in their MeTTa code (symbols there, not grounded)
RULE_DEFINED = frozenset({"dict-space", "get-keys", "get-value"})
#: operations whose results are not evaluated further
FINAL_MODULE_RESULTS = {"json-decode", "get-keys"}


def module_tokens(name: str) -> dict[str, Atom]:
    """The tokens a module adds besides its operations' names (`random`'s `&rng`, a generator)."""
    return {"&rng": RandomGenerator(_os_rng())} if name == "random" else {}
