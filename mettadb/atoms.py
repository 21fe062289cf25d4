"""Atoms: the values a MeTTa space holds.

Every operation here is iterative: hashing is computed bottom-up at
construction time, and equality, printing and alpha-equality walk explicit
stacks, so atoms nested 100 000 levels deep behave like shallow ones.  A
grounded atom that prints around an atom it holds (a state, `(State 0)`) is
walked into by the same printing loop; as a state can hold itself, one met
again inside its own value prints as `(State …)`.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Union

from .printable import is_escaped
from .tokens import symbol_reads_back, variable_reads_back

__all__ = [
    "Atom",
    "Bool",
    "E",
    "Expression",
    "Float",
    "G",
    "Grounded",
    "Integer",
    "Regex",
    "ReprFloat",
    "ReprText",
    "S",
    "ShownFloat",
    "String",
    "Symbol",
    "V",
    "Variable",
    "alpha_equal",
    "equal_as_values",
    "format_float",
    "fresh_variable",
    "int_text",
    "iter_atoms",
    "number_twins",
    "quote_string",
    "read_int",
    "same_number",
    "show_string",
    "source_text",
    "trusted_expression",
    "unwritable",
]


class Atom:
    """Base of all atoms; immutable and hashable."""

    __slots__ = ("_hash",)
    _hash: int

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return _to_text(self)

    @property
    def is_ground(self) -> bool:
        """True when the atom contains no variable."""
        t = type(self)
        if t is Expression:
            return self.ground  # type: ignore[attr-defined,no-any-return]
        return t is not Variable

    def to_python(self) -> Any:
        """Convert to plain Python: grounded values, str for symbols, nested tuples."""
        return _to_python(self)


class Symbol(Atom):
    """A named constant, compared by name."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"a symbol's name must be a str, not {type(name).__name__}")
        if not name:
            raise ValueError("a symbol needs a non-empty name")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_hash", hash(("S", name)))

    def __eq__(self, other: object) -> bool:
        return type(other) is Symbol and other.name == self.name

    __hash__ = Atom.__hash__

    def __repr__(self) -> str:
        return f"S({self.name!r})"


class Variable(Atom):
    """A `$name` variable; two variables are equal when their names are."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"a variable's name must be a str, not {type(name).__name__}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_hash", hash(("V", name)))

    def __eq__(self, other: object) -> bool:
        return type(other) is Variable and other.name == self.name

    __hash__ = Atom.__hash__

    def __repr__(self) -> str:
        return f"V({self.name!r})"


_fresh_counter = itertools.count(1)


def fresh_variable(name: str = "X") -> Variable:
    """A variable no parsed atom can contain (its name carries a `#N` suffix)."""
    base = name.split("#", 1)[0]
    return Variable(f"{base}#{next(_fresh_counter)}")


class Expression(Atom):
    """A parenthesised sequence of atoms."""

    __slots__ = ("children", "ground")
    children: tuple[Atom, ...]
    #: no variable anywhere inside (computed once, at construction)
    ground: bool

    def __init__(self, children: Iterable[Atom]) -> None:
        try:
            kids = tuple(children)
        except TypeError:
            if hasattr(children, "__iter__"):
                raise
            raise TypeError(f"an expression's children must be an iterable of atoms, not {type(children).__name__}") from None
        ground = True
        for k in kids:
            tk = type(k)
            if tk is Symbol:  # (the most common child: first)
                continue
            if tk is Variable:
                ground = False
            elif tk is Expression:
                if not k.ground:  # type: ignore[attr-defined]
                    ground = False
            elif not isinstance(k, Atom):
                raise TypeError(f"expression children must be atoms, not {type(k).__name__}")
        _set_children(self, kids)
        _set_ground(self, ground)
        _set_hash(self, hash(tuple([k._hash for k in kids])) ^ 0x5E5E5E5E)

    def __len__(self) -> int:
        return len(self.children)

    def __iter__(self) -> Iterator[Atom]:
        return iter(self.children)

    def __getitem__(self, i: int) -> Atom:
        return self.children[i]

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not Expression or other._hash != self._hash:
            return False
        stack: list[tuple[Atom, Atom]] = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if type(a) is Expression:
                if type(b) is not Expression or a._hash != b._hash:
                    return False
                ac, bc = a.children, b.children
                if len(ac) != len(bc):
                    return False
                stack.extend(zip(ac, bc))
            elif a != b:
                return False
        return True

    __hash__ = Atom.__hash__

    def __repr__(self) -> str:
        return f"E({self!s})"


_set_children = Expression.children.__set__  # type: ignore[attr-defined,misc]
_set_ground = Expression.ground.__set__  # type: ignore[attr-defined,misc]
_set_hash = Atom._hash.__set__  # type: ignore[attr-defined,misc]


class Grounded(Atom):
    """A grounded value: a Python value that MeTTa treats as a constant."""

    __slots__ = ("value",)
    value: Any
    type_name = "Grounded"
    #: matched by a query of its own (a space), not by equality: hyperon's index keeps such atoms
    #: with the variables
    matches_by_query = False
    #: kept with the variables in hyperon's index though matched by equality (a Python object: hyperon
    #: gives those a match of their own)
    keyed_with_variables = False

    #: prints around an atom it holds (`shows`): a state
    holds_atom = False
    #: what a grounded object that lives only in a session (not stored) is called in messages
    session_kind = "grounded object"

    def __init__(self, value: Any) -> None:
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "_hash", hash((type(self).__name__, value)))

    def shows(self) -> tuple[str, Atom, str]:
        """For a grounded atom that `holds_atom`: the text before the atom it holds, that atom, the text
        after (`("(State ", value, ")")`).  Printing walks into it without recursion; met again inside
        itself (a state holding itself), it prints as the two texts around `…`."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        v, w = self.value, other.value
        if type(v) is not float:
            return bool(v == w)
        # one atom: the same float, NaN equal to itself and 0.0 apart from -0.0 (they print apart and
        # are stored apart; `==` compares numbers, not atoms)
        if v == w:
            return math.copysign(1.0, v) == math.copysign(1.0, w)
        return math.isnan(v) and math.isnan(w)

    __hash__ = Atom.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class Integer(Grounded):
    """A whole number (hyperon's `Number`)."""

    __slots__ = ()
    type_name = "Number"

    def __init__(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Integer needs an int, not {type(value).__name__}")
        super().__init__(value)


class Float(Grounded):
    """A floating-point number (hyperon's `Number`)."""

    __slots__ = ()
    type_name = "Number"

    def __init__(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"Float needs a float (or an int), not {type(value).__name__}")
        super().__init__(float(value))


class String(Grounded):
    """A string literal (hyperon's `String`)."""

    __slots__ = ()
    type_name = "String"

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"String needs a str, not {type(value).__name__}")
        super().__init__(value)


class ReprText(str):
    """The text of a string that hyperon 0.2.10 makes on its Python side (`repr`'s result): a
    `String` holding it is equal to one holding the same text, and prints as that Python object
    does, Python's `repr` of the text between double quotes, a `"` escaped (`show_string`)."""

    __slots__ = ()


class ReprFloat(float):
    """A float that hyperon 0.2.10 makes on its Python side (what a Python function returned): a
    `Float` holding it is equal to one holding the same number, and prints as Python's `repr`
    prints it (`1e+20`, `nan`), not as hyperon's own numbers print (`1e20`, `NaN`)."""

    __slots__ = ()


class ShownFloat(ReprFloat):
    """A `ReprFloat` made from an object of a float subclass (`numpy.float64`): hyperon keeps that
    object, a Number, and prints it as the object's `repr` (`np.float64(2.5)`), which `shown` holds."""

    shown: str

    def __repr__(self) -> str:
        return self.shown


class Regex(Grounded):
    """A `regex:"…"` token (hyperon 0.2.10's `RegexMatchableObject`): a pattern that matches an
    atom whose printed text (a string's without its quotes, whitespace runs made one space) holds
    a match of its regular expression, case-insensitively (`unify`).  `[[`, `]]` and `~` in the
    token stand for `(`, `)` and a space; `value` is the token so rewritten, which is how it
    prints (as a string, Python's way: `ReprText`).  Its type is `String`."""

    __slots__ = ()
    type_name = "String"
    session_kind = 'regex:"…" token'
    #: matched by a matching of its own (hyperon's custom match), kept with the variables in its trie
    matches_by_query = True
    #: whether this process made one (until then, queries need not look for one in their patterns)
    made = False

    def __init__(self, token: str) -> None:
        if not isinstance(token, str):
            raise TypeError(f"a regex atom needs a str token, not {type(token).__name__}")
        if not token.startswith("regex:"):
            raise ValueError("a regex atom needs a `regex:` token")
        super().__init__(token.replace("[[", "(").replace("]]", ")").replace("~", " "))
        Regex.made = True

    __hash__ = Grounded.__hash__

    @property
    def pattern(self) -> str:
        """The regular expression: the text after `regex:`, its quotes dropped (as hyperon drops
        them: not those of `regex:""`, which then looks for two quotes)."""
        body: str = self.value[6:]
        return body[1:-1] if len(body) > 2 and body[0] == '"' and body[-1] == '"' else body

    def text(self) -> str:
        """How the regex prints: as hyperon's Python prints the string of its rewritten token."""
        return show_string(ReprText(self.value))

    def token(self) -> str:
        """The token the parser reads back as this regex (for one it read: the token written)."""
        return str(self.value).replace("(", "[[").replace(")", "]]").replace(" ", "~")


class Bool(Grounded):
    """`True` or `False` (hyperon's `Bool`)."""

    __slots__ = ()
    type_name = "Bool"

    def __init__(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"Bool needs True or False, not {value!r}"[:200])
        super().__init__(value)


# ---------------------------------------------------------------- builders

PyValue = Union[Atom, str, int, float, bool, tuple[Any, ...], list[Any]]


def S(name: str) -> Symbol:
    """Build a symbol."""
    return Symbol(name)


def V(name: str) -> Variable:
    """Build a variable (name without `$`)."""
    if not isinstance(name, str):
        raise TypeError(f"a variable's name must be a str, not {type(name).__name__}")
    return Variable(name[1:] if name.startswith("$") else name)


def G(value: Any) -> Atom:
    """Build a grounded atom from a Python bool, int, float or str."""
    if isinstance(value, Atom):
        return value
    if isinstance(value, bool):
        return Bool(value)
    if isinstance(value, int):
        return Integer(value)
    if isinstance(value, float):
        return Float(value)
    if isinstance(value, str):
        return String(value)
    raise TypeError(f"cannot make a grounded atom from {type(value).__name__}")


def E(*children: Any) -> Expression:
    """Build an expression; Python values become grounded atoms, tuples nest."""
    return Expression(_from_python(c) for c in children)


def _from_python(value: Any) -> Atom:
    if isinstance(value, Atom):
        return value
    if isinstance(value, (tuple, list)):
        return E(*value)
    return G(value)


# ---------------------------------------------------------------- printing

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quote_string(s: str) -> str:
    """The MeTTa literal for a string, escapes as the parser reads them back."""
    out = ['"']
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def show_string(s: str) -> str:
    """A string as hyperon 0.2.10 prints it, escaped as Rust's `Debug` of a `str` escapes (`\\t \\n \\r \\0
    \\\\ \\"`, and `\\u{7f}` for a character that is not printable (Unicode's Other and Separator
    categories, the space excepted) or that extends a grapheme: `printable`).  The parser reads it back;
    keys are written with `quote_string`, which this does not change.  A `ReprText` prints as
    hyperon's Python prints it (`"a\\'b"` for `a'b`)."""
    if type(s) is not str:
        return '"' + repr(str(s))[1:-1].replace('"', '\\"') + '"'
    if s.isascii() and s.isprintable():
        if "\\" in s or '"' in s:
            s = s.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + s + '"'
    out = ['"']
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < "\x80":
            out.append(ch if " " <= ch < "\x7f" else "\\u{%x}" % ord(ch))
        elif is_escaped(ord(ch)):
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


#: digits Python converts in one step (its own limit, `sys.get_int_max_str_digits()`, is 4300 by default)
_DIGITS = 4000


def read_int(word: str) -> int:
    """`int(word)` of a decimal word of any length (Python refuses more than 4300 digits at once)."""
    if len(word) <= _DIGITS:
        return int(word)
    sign = -1 if word[0] == "-" else 1
    digits = word[1:] if word[0] in "+-" else word
    value = 0
    for i in range(0, len(digits), _DIGITS):
        chunk = digits[i:i + _DIGITS]
        value = value * 10 ** len(chunk) + int(chunk)
    return sign * value


def int_text(value: int) -> str:
    """`str(value)` of an int of any size (Python refuses more than 4300 digits at once)."""
    if value.bit_length() <= _DIGITS * 3:  # (under 10**3612)
        return str(value)
    if value < 0:
        return "-" + int_text(-value)
    k = value.bit_length() * 3 // 20  # about half its digits
    hi, lo = divmod(value, 10 ** k)
    return int_text(hi) + int_text(lo).zfill(k)


def format_float(f: float) -> str:
    """Print a float the way hyperon (Rust's `{:?}`) does: `3.0`, `1e20`, `1.5e-7`."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    r = repr(f)
    if "e" in r:
        mant, exp = r.split("e")
        return f"{mant}e{int(exp)}"
    return r


def _leaf_text(a: Atom) -> str:
    t = type(a)
    if t is Symbol:
        return str(a.name)  # type: ignore[attr-defined]
    if t is Variable:
        return "$" + str(a.name)  # type: ignore[attr-defined]
    if t is Integer:
        return int_text(a.value)  # type: ignore[attr-defined]
    if t is Float:
        v = a.value  # type: ignore[attr-defined]
        return format_float(v) if type(v) is float else repr(v)  # (a `ReprFloat`: as Python prints it)
    if t is String:
        return show_string(a.value)  # type: ignore[attr-defined]
    if t is Bool:
        return "True" if a.value else "False"  # type: ignore[attr-defined]
    text = getattr(a, "text", None)
    if text is not None:
        return str(text())
    return str(getattr(a, "value", a))


_PLAIN_LEAVES = frozenset({Symbol, Variable, Integer, Float, String, Bool})
#: the atoms (by id) that hold atoms and are being printed by this thread, outermost first; shared by
#: nested printings (a state inside bindings inside the state), so that a cycle through them ends too
_PRINTING = threading.local()


def _to_text(atom: Atom) -> str:
    t = type(atom)
    if t is not Expression and (t in _PLAIN_LEAVES or not getattr(atom, "holds_atom", False)):
        return _leaf_text(atom)
    out: list[str] = []
    # stack of pending items: an Atom, a literal string to emit, or (text, id) closing a holder
    stack: list[Any] = [atom]
    inside: set[int] | None = None
    mine: list[int] = []
    try:
        while stack:
            item = stack.pop()
            ti = type(item)
            if ti is str:
                out.append(item)
            elif ti is Expression:
                kids = item.children
                stack.append(")")
                for i in range(len(kids) - 1, -1, -1):
                    stack.append(kids[i])
                    if i:
                        stack.append(" ")
                out.append("(")
            elif ti in _PLAIN_LEAVES or not getattr(item, "holds_atom", False):
                if ti is tuple:
                    out.append(item[0])
                    inside.discard(item[1])  # type: ignore[union-attr]
                else:
                    out.append(_leaf_text(item))
            else:
                if inside is None:
                    inside = getattr(_PRINTING, "inside", None)
                    if inside is None:
                        inside = _PRINTING.inside = set()
                before, held, after = item.shows()
                key = id(item)
                if key in inside:
                    out.append(before + "\u2026" + after)  # met again inside its own value
                    continue
                inside.add(key)
                mine.append(key)
                out.append(before)
                stack.append((after, key))
                stack.append(held)
    finally:
        if mine:
            inside.difference_update(mine)  # type: ignore[union-attr]
    return "".join(out)


def _to_python(atom: Atom) -> Any:
    return rebuild(atom, lambda a: a.value if isinstance(a, Grounded) else a.name if type(a) is Symbol else a,
                   lambda _e, kids: tuple(kids))


def source_text(atom: Atom) -> str:
    """MeTTa text that reads back as the atom: its printed text, but a regex written as its token
    (it prints as a string)."""
    if not any(type(a) is Regex for a in iter_atoms(atom)):
        return str(atom)
    return str(rebuild(atom, lambda a: a.token() if type(a) is Regex else str(a),
                       lambda _e, kids: "(" + " ".join(kids) + ")"))


def rebuild(atom: Atom, leaf: Any, node: Any) -> Any:
    """Post-order fold without recursion: `leaf(a)` for every non-expression,
    `node(expr, [folded children])` for every expression."""
    out: list[Any] = []
    stack: list[tuple[Atom, bool]] = [(atom, False)]
    while stack:
        a, done = stack.pop()
        if type(a) is not Expression:
            out.append(leaf(a))
            continue
        kids = a.children
        if not done:
            stack.append((a, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        n = len(kids)
        new = out[len(out) - n:] if n else []
        if n:
            del out[len(out) - n:]
        out.append(node(a, new))
    return out[0]


def iter_atoms(atom: Atom) -> Iterator[Atom]:
    """Every sub-atom in prefix order, the atom itself first."""
    stack = [atom]
    while stack:
        a = stack.pop()
        yield a
        if type(a) is Expression:
            stack.extend(reversed(a.children))


_symbol_reads_back = functools.lru_cache(maxsize=1 << 16)(symbol_reads_back)


def unwritable(atom: Atom) -> str | None:
    """What in `atom` has no text that reads back as itself (`the symbol 'a b'`); None if nothing.

    hyperon names symbols and variables freely (`S("a b")`, `S("1")`, `V("a b")`) and prints them
    as they are; a non-finite float prints as a symbol (`NaN`); a top-level `!` would mark the next
    atom for evaluation."""
    if type(atom) is Symbol and atom.name == "!":
        return "a top-level `!`, which marks the next atom for evaluation"
    stack = [atom]
    while stack:
        a = stack.pop()
        t = type(a)
        if t is Expression:
            stack.extend(a.children)  # type: ignore[attr-defined]
        elif t is Symbol:
            if not _symbol_reads_back(a.name):  # type: ignore[attr-defined]
                return f"the symbol {a.name!r}"  # type: ignore[attr-defined]
        elif t is Variable:
            if not variable_reads_back(a.name):  # type: ignore[attr-defined]
                return f"the variable {a.name!r}"  # type: ignore[attr-defined]
        elif t is Float and not math.isfinite(a.value):  # type: ignore[attr-defined]
            return f"the float {a}, which reads as a symbol"
    return None


def alpha_equal(a: Atom, b: Atom, values: bool = False) -> bool:
    """Equal up to a consistent one-to-one renaming of variables (with `values`, numbers compared by
    `same_number`, as hyperon's `=alpha` compares them)."""
    fwd: dict[Atom, Atom] = {}
    back: dict[Atom, Atom] = {}
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        tx = type(x)
        if tx is Variable:
            if type(y) is not Variable:
                return False
            if fwd.setdefault(x, y) != y or back.setdefault(y, x) != x:
                return False
        elif tx is Expression:
            if type(y) is not Expression or len(x.children) != len(y.children):  # type: ignore[attr-defined]
                return False
            stack.extend(zip(x.children, y.children))  # type: ignore[attr-defined]
        elif x != y:
            if values and (tx is Integer or tx is Float) and (type(y) is Integer or type(y) is Float) \
                    and same_number(x, y):
                continue
            return False
    return True


def same_number(x: Atom, y: Atom) -> bool:
    """Whether two numbers (Integer or Float) are equal as hyperon compares them: as integers when
    both are, else both converted to float (`2` equals `2.0`, `0.0` equals `-0.0`, NaN equals
    nothing, `9007199254740993` equals `9007199254740992.0`)."""
    v, w = x.value, y.value  # type: ignore[attr-defined]
    if type(v) is int and type(w) is int:
        return bool(v == w)
    try:
        return float(v) == float(w)
    except OverflowError:  # an integer past a float's range (mettadb's unbounded integers)
        return False


def equal_as_values(a: Atom, b: Atom) -> bool:
    """hyperon's equality of atoms (`==`, matching grounded values): the same structure, numbers
    compared by `same_number`, other leaves as atoms."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        tx, ty = type(x), type(y)
        if tx is Expression:
            if ty is not Expression or len(x.children) != len(y.children):  # type: ignore[attr-defined]
                return False
            stack.extend(zip(x.children, y.children))  # type: ignore[attr-defined]
        elif (tx is Integer or tx is Float) and (ty is Integer or ty is Float):
            if not same_number(x, y):
                return False
        elif x != y and not _same_text(x, y):
            return False
    return True


def _same_text(x: Atom, y: Atom) -> bool:
    """A regex equals a string or a regex of the same text under `==`, as in hyperon (its Python
    objects compare by content)."""
    tx, ty = type(x), type(y)
    return (tx is Regex or ty is Regex) and (tx is String or tx is Regex) and (ty is String or ty is Regex) \
        and str(x.value) == str(y.value)  # type: ignore[attr-defined]


def number_twins(atom: Atom) -> list[Atom]:
    """The other spellings of a number's value that `same_number` equates with it: `2` -> `2.0`,
    `2.0` -> `2`, `0` -> `0.0 -0.0`, `-0.0` -> `0 0.0`.  A float of 2**53 or more is equal to
    several integers; only the one it equals exactly is given.  Empty for anything else."""
    t = type(atom)
    if t is Integer:
        n = atom.value  # type: ignore[attr-defined]
        if n == 0:
            return [Float(0.0), Float(-0.0)]
        try:
            return [Float(float(n))]
        except OverflowError:
            return []
    if t is Float:
        f = atom.value  # type: ignore[attr-defined]
        if f == 0.0:
            return [Integer(0), Float(-f)]
        return [Integer(int(f))] if math.isfinite(f) and f.is_integer() else []
    return []


def trusted_expression(kids: tuple[Atom, ...], ground: bool) -> Expression:
    """An expression of children the caller knows to be atoms, with the groundness it knows (compiled
    rule bodies build their instances without `Expression`'s checks)."""
    e = object.__new__(Expression)
    _set_children(e, kids)
    _set_ground(e, ground)
    _set_hash(e, hash(tuple([k._hash for k in kids])) ^ 0x5E5E5E5E)  # (the hash `Expression.__init__` gives)
    return e
