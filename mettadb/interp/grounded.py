"""Grounded operations: arithmetic, comparison, logic, math, atoms as lists, strings.

Each takes evaluated arguments (those typed `Atom` unevaluated) and returns
its results; `Fail` becomes `(Error expr message)` and `NoReduce` leaves the
expression as it is.  `BUILTINS` maps a name to the operation, its argument
types and its return type, as hyperon's standard library declares them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import Any

from ..asciitext import read_ascii
from ..atoms import Atom, Bool, Expression, Float, Integer, ReprText, String, Symbol, Variable, alpha_equal, equal_as_values, show_string
from ..errors import ModuleTextError
from ..modtext import read_first
from ..unify import unify
from .core import (
    ARROW,
    ATOM_T,
    BOOL_T,
    FALSE,
    NUMBER_T,
    STRING_T,
    TRUE,
    UNDEFINED,
    UNIT,
    Fail,
    Machine,
    NoReduce,
    error,
    in_sandbox,
)
from .modules import FINAL_MODULE_RESULTS, MODULE_OPS
from .pyobjects import PY_OPERATIONS, exception_caught, library_op, view

__all__ = [
    "BUILTINS",
    "BUILTIN_RETURNS",
    "BUILTIN_TYPES",
    "FINAL_RESULTS",
    "NOEVAL_EXPRESSION_ARGS",
    "QUICK_BUILTINS",
    "Operation",
    "signature_atom",
]

Operation = Callable[[Machine, list[Atom]], list[Atom]]


def _num(a: Atom) -> int | float:
    if type(a) in (Integer, Float):
        return a.value  # type: ignore[attr-defined,no-any-return]
    raise NoReduce


def _num_atom(v: int | float) -> Atom:
    return Integer(v) if isinstance(v, int) and not isinstance(v, bool) else Float(float(v))


_I64 = 1 << 63


def _i64(v: int | float, a: int | float, b: int | float) -> int | float:
    """hyperon's integers are i64: a sum, difference or product of two of them wraps around (operands
    outside i64, which hyperon cannot even read, keep Python's unbounded result)."""
    if -_I64 <= v < _I64 or type(v) is not int or not (-_I64 <= a < _I64 and -_I64 <= b < _I64):
        return v
    return (v + _I64) % (_I64 << 1) - _I64


def _int_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


_DIVIDE_EXPECTS = Symbol("Divide expects two numbers: dividend and divisor")


def _arith(op: str) -> Operation:
    def fn(it: Machine, args: list[Atom]) -> list[Atom]:
        if len(args) != 2:
            raise Fail(Symbol("IncorrectNumberOfArguments"))
        if op == "/" and not (type(args[0]) in (Integer, Float) and type(args[1]) in (Integer, Float)):
            raise Fail(_DIVIDE_EXPECTS)  # (hyperon 0.2.10's `/` says so where `+ - * %` stay as written)
        a, b = _num(args[0]), _num(args[1])
        both_int = isinstance(a, int) and isinstance(b, int)
        if op == "+":
            r = a + b
            return [_num_atom(r if -_I64 <= r < _I64 else _i64(r, a, b))]
        if op == "-":
            r = a - b
            return [_num_atom(r if -_I64 <= r < _I64 else _i64(r, a, b))]
        if op == "*":
            r = a * b
            return [_num_atom(r if -_I64 <= r < _I64 else _i64(r, a, b))]
        if op == "/":
            if both_int:
                if b == 0:
                    raise Fail(Symbol("DivisionByZero"))
                return [Integer(_int_div(a, b))]  # type: ignore[arg-type]
            if b == 0:
                return [Float(math.copysign(math.inf, a) if a else math.nan)]
            return [Float(a / b)]
        if op == "%":
            if both_int:
                if b == 0:
                    raise Fail(Symbol("DivisionByZero"))
                return [Integer(a - b * _int_div(a, b))]  # type: ignore[arg-type,operator]
            return [Float(math.fmod(a, b))]
        raise AssertionError(op)

    return fn


def _compare(op: Callable[[Any, Any], bool]) -> Operation:
    def fn(it: Machine, args: list[Atom]) -> list[Atom]:
        if len(args) != 2:
            raise Fail(Symbol("IncorrectNumberOfArguments"))
        a, b = _num(args[0]), _num(args[1])
        if type(a) is not type(b):  # an integer and a float compare as floats, as in hyperon
            try:
                a, b = float(a), float(b)
            except OverflowError:  # (an integer past a float's range: compared exactly)
                pass
        return [TRUE if op(a, b) else FALSE]  # (the two atoms, not new ones: `if` knows them at once)

    return fn


def _eq(it: Machine, args: list[Atom]) -> list[Atom]:
    if len(args) != 2:
        raise Fail(Symbol("IncorrectNumberOfArguments"))
    a, b = args
    return [TRUE if equal_as_values(a, b) else FALSE]  # hyperon's atom equality: numbers by value, `(v 2)` == `(v 2.0)`


def _bool(a: Atom) -> bool:
    if type(a) is Bool:
        return a.value  # type: ignore[no-any-return]
    raise NoReduce


def _logic(op: str) -> Operation:
    def fn(it: Machine, args: list[Atom]) -> list[Atom]:
        if op == "not":
            if len(args) != 1:
                raise Fail(Symbol("IncorrectNumberOfArguments"))
            return [FALSE if _bool(args[0]) else TRUE]
        if len(args) != 2:
            raise Fail(Symbol("IncorrectNumberOfArguments"))
        a, b = _bool(args[0]), _bool(args[1])
        return [TRUE if (a and b if op == "and" else a or b if op == "or" else a != b) else FALSE]

    return fn


def _math1(f: Callable[[float], float], keep_int: bool = False) -> Operation:
    def fn(it: Machine, args: list[Atom]) -> list[Atom]:
        if len(args) != 1:
            raise Fail(Symbol("IncorrectNumberOfArguments"))
        v = _num(args[0])
        if keep_int and isinstance(v, int):
            return [Integer(int(f(v)))]
        try:
            return [Float(f(float(v)))]
        except (ValueError, OverflowError):
            return [Float(math.nan)]

    return fn


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def _ieee_pow(x: float, y: float) -> float:
    """`x ** y` as IEEE 754 (and Rust's `powf`) has it: overflow is an infinity, `0 ** -n` too."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _odd_integer(y) else math.inf
    except ValueError:
        if x == 0 and y < 0:
            return -math.inf if math.copysign(1.0, x) < 0 and _odd_integer(y) else math.inf
        return math.nan


def _ieee_div(a: float, b: float) -> float:
    """`a / b` as IEEE 754 has it (a zero divisor gives an infinity or NaN, not an exception)."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _ln(x: float) -> float:
    """The natural logarithm as IEEE 754 has it: `-inf` at zero, NaN below."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _pow(it: Machine, args: list[Atom]) -> list[Atom]:
    a, b = _num(args[0]), _num(args[1])
    return [Float(_ieee_pow(float(a), float(b)))]


def _log(it: Machine, args: list[Atom]) -> list[Atom]:
    base, x = _num(args[0]), _num(args[1])
    return [Float(_ieee_div(_ln(float(x)), _ln(float(base))))]


def _rounding(f: Callable[[float], float]) -> Callable[[float], float]:
    """A float rounding as Rust's: an infinity or NaN is itself, a zero keeps the argument's sign."""
    def g(v: float) -> float:
        if isinstance(v, int) or not math.isfinite(v):  # (an integer: itself, exactly)
            return v
        r = float(f(v))
        return math.copysign(r, v) if r == 0 else r
    return g


def _round_half_away(v: float) -> float:
    """Rust's `round`: halves away from zero (Python's `round` takes them to even)."""
    a = abs(v)
    r = math.floor(a)
    if a - r >= 0.5:
        r += 1
    return math.copysign(float(r), v)


_NOT_EXPRESSION = Symbol("Atom is not an ExpressionAtom")


def _expr_arg(a: Atom, message: Atom | str = _NOT_EXPRESSION) -> tuple[Atom, ...]:
    """The children of an expression argument; another atom is hyperon 0.2.10's error `message`."""
    if type(a) is not Expression:
        raise Fail(message)
    return a.children


def _car(it: Machine, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0], "car-atom expects a non-empty expression as an argument")
    if not kids:
        raise Fail("car-atom expects a non-empty expression as an argument")
    return [kids[0]]


def _cdr(it: Machine, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0], "cdr-atom expects a non-empty expression as an argument")
    if not kids:
        raise Fail("cdr-atom expects a non-empty expression as an argument")
    return [Expression(kids[1:])]


def _cons(it: Machine, args: list[Atom]) -> list[Atom]:
    found = Expression((Symbol("cons-atom"), *args))
    return [Expression((args[0], *_expr_arg(args[1], Symbol(f"expected: (cons-atom <head> (: <tail> Expression)), found: {found}"))))]


def _decons(it: Machine, args: list[Atom]) -> list[Atom]:
    message = Symbol(f"expected: (decons-atom (: <expr> Expression)), found: (decons-atom {args[0]})")
    kids = _expr_arg(args[0], message)
    if not kids:
        raise Fail(message)
    return [Expression((kids[0], Expression(kids[1:])))]


def _size(it: Machine, args: list[Atom]) -> list[Atom]:
    return [Integer(len(_expr_arg(args[0])))]


def _index(it: Machine, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0])
    if type(args[1]) not in (Integer, Float):
        raise Fail(Symbol("index-atom expects two arguments: expression and atom"))
    v = args[1].value  # type: ignore[attr-defined]
    i = int(v) if not (isinstance(v, float) and (math.isnan(v) or math.isinf(v))) else -1  # like hyperon: 1.9 is 1
    if not 0 <= i < len(kids):
        raise Fail(Symbol("Index is out of bounds"))
    return [kids[i]]


def _minmax(pick: Callable[..., Any]) -> Operation:
    def fn(it: Machine, args: list[Atom]) -> list[Atom]:
        kids = _expr_arg(args[0])
        if not kids:
            raise Fail(Symbol("Empty expression"))
        try:
            return [Float(float(pick(_num(k) for k in kids)))]
        except NoReduce:
            raise Fail(Symbol(f"Only numbers are allowed in expression: {args[0]}")) from None

    return fn


def _sort_strings(it: Machine, args: list[Atom]) -> list[Atom]:
    message = Symbol("sort-strings expects expression with strings as a first argument")
    kids = _expr_arg(args[0], message)
    if not all(type(k) is String for k in kids):
        raise Fail(message)
    return [Expression(sorted(kids, key=lambda k: k.value))]  # type: ignore[attr-defined]


def unique_values(atoms: Iterable[Atom]) -> list[Atom]:
    """The first of each group of atoms equal as values (hyperon's `unique-atom`: `1` and `1.0`,
    `0.0` and `-0.0` are one value, also inside expressions), in their order."""
    out: list[Atom] = []
    for k in atoms:
        if not any(equal_as_values(k, o) for o in out):
            out.append(k)
    return out


def _unique_atom(it: Machine, args: list[Atom]) -> list[Atom]:
    return [Expression(unique_values(_expr_arg(args[0])))]


def _multiset(kind: str) -> Operation:
    """hyperon's `union-atom`, `intersection-atom`, `subtraction-atom`: the two expressions' children
    as multisets (the first one's order kept; a union is the second's children after the first's)."""

    def fn(it: Machine, args: list[Atom]) -> list[Atom]:
        xs, ys = _expr_arg(args[0]), _expr_arg(args[1])
        if kind == "union":
            return [Expression(xs + ys)]
        rest = list(ys)
        out: list[Atom] = []
        for x in xs:
            held = x in rest
            if held:
                rest.remove(x)
            if held == (kind == "intersection"):
                out.append(x)
        return [Expression(out)]

    return fn


def _format_args(it: Machine, args: list[Atom]) -> list[Atom]:
    if type(args[0]) is not String:
        raise Fail(Symbol("format-args expects format string as a first argument and expression as a second argument"))
    fmt = args[0].value
    # (a regex, hyperon's String too, writes its text)
    vals = iter([k.value if getattr(k, "type_name", None) == "String" else str(k) for k in _expr_arg(args[1])])  # type: ignore[attr-defined]
    # hyperon 0.2.10's reading of the format: `{{` and `}}` are braces, `{}` the next value (a missing
    # one is empty), and any other brace is dropped (`a{0}b` is `a0b`)
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        nxt = fmt[i + 1] if i + 1 < n else ""
        if (c == "{" and nxt == "{") or (c == "}" and nxt == "}"):
            out.append(c)
            i += 2
        elif c == "{" and nxt == "}":
            out.append(next(vals, ""))
            i += 2
        else:
            if c not in "{}":
                out.append(c)
            i += 1
    return [String("".join(out))]


def _repr(it: Machine, args: list[Atom]) -> list[Atom]:
    # hyperon 0.2.10's `repr` is Python: its result is a Python string, printed as Python shows it
    return [String(ReprText(str(args[0])))]


def _parse(it: Machine, args: list[Atom]) -> list[Atom]:
    if getattr(args[0], "type_name", None) != "String":  # (a string, or a regex: hyperon's String too)
        raise NoReduce
    # hyperon 0.2.10's `parse` is Python: it reads the first atom of the string's Python `repr`
    # (quotes cut off), so a string literal's escapes stay as written and a newline outside one is
    # the two characters `\n` of a word; text it cannot read leaves the call as it is
    try:
        atom = read_first(repr(str(args[0].value))[1:-1])  # type: ignore[attr-defined]
    except ModuleTextError:
        raise NoReduce from None
    if atom is None:
        raise Fail(Symbol("Grounded operation which is defined using unwrap=False should return atom instead of "
                          "Python type"))
    return [atom]


def _string_to_chars(it: Machine, args: list[Atom]) -> list[Atom]:
    # like hyperon 0.2.10: the characters of the argument as it prints less its first and last (a
    # string's quotes; escapes included: `"a\nb"` gives 'a' '\' 'n' 'b'), whatever the atom that
    # passed the type check (`(a b)` gives 'a' ' ' 'b', `$xy` gives 'x')
    a = args[0]
    text = show_string(a.value) if type(a) is String else str(a)
    return [Expression(tuple(Symbol(f"'{c}'") for c in text[1:-1]))]


def _chars_to_string(it: Machine, args: list[Atom]) -> list[Atom]:
    # like hyperon 0.2.10: the argument is taken unevaluated and each item's text loses
    # its first and last character (the quotes of a Char); not an expression, its Python fails
    a = args[0]
    if type(a) is not Expression:
        try:  # (its Python fails on the class hyperon gives the atom: a Char's is GroundedAtom)
            view(a).get_children()  # type: ignore[attr-defined]
        except AttributeError as e:
            raise Fail(exception_caught(e)) from None
    return [String("".join(str(c)[1:-1] for c in a.children))]  # type: ignore[attr-defined]


# ---- standard-library functions hyperon 0.2.10 defines by rules (their behaviour from `metta` runs)

def _is_function(it: Machine, args: list[Atom]) -> list[Atom]:
    t = args[0]
    return [Bool(type(t) is Expression and bool(t.children) and t.children[0] == ARROW)]


def _types_meet(a: Atom, b: Atom) -> bool:
    """hyperon's `match-types`: `%Undefined%` and `Atom` meet any type, others when they unify."""
    return a in (UNDEFINED, ATOM_T) or b in (UNDEFINED, ATOM_T) or unify(a, b) is not None


def _type_cast(it: Machine, args: list[Atom]) -> list[Atom]:
    if len(args) != 3:  # (hyperon 0.2.10: no rule applies, the call stays)
        raise NoReduce
    atom, want = args[0], args[1]
    if not getattr(args[2], "matches_by_query", False):  # the third argument is not a space
        return [error(atom, Symbol("BadType"))]
    if any(_types_meet(t, want) for t in it.types_of(atom)):
        return [atom]
    return [error(atom, Symbol("BadType"))]


def _match_types(it: Machine, args: list[Atom]) -> list[Atom]:
    if len(args) != 4:  # (hyperon 0.2.10: no rule applies, the call stays)
        raise NoReduce
    return [args[2] if _types_meet(args[0], args[1]) else args[3]]


def _match_type_or(it: Machine, args: list[Atom]) -> list[Atom]:
    """hyperon's `(or folded (match-types next type True False))`, evaluated further (its `or`)."""
    if len(args) != 3:  # (hyperon 0.2.10: no rule applies, the call stays)
        raise NoReduce
    folded, nxt, typ = args
    if type(folded) is not Bool:  # (hyperon 0.2.10: its `or` does not reduce, the call stays)
        raise NoReduce
    return [Expression((Symbol("or"), folded, Bool(_types_meet(nxt, typ))))]


def _first_from_pair(it: Machine, args: list[Atom]) -> list[Atom]:
    if len(args) != 1:  # (hyperon 0.2.10: no rule applies, the call stays)
        raise NoReduce
    pair = args[0]
    if type(pair) is not Expression or len(pair.children) != 2:
        raise Fail(String("incorrect pair format"))
    return [pair.children[0]]


def _atom_subst(it: Machine, args: list[Atom]) -> list[Atom]:
    value, var, template = args
    if type(var) is not Variable:  # (hyperon's rule binds nothing to it: its `function` returns nothing)
        raise Fail(Symbol("NoReturn"))
    b = unify(var, value)
    return [b.resolve(template) if b is not None else template]


def _for_each_in_atom(it: Machine, args: list[Atom]) -> list[Atom]:
    """`(func item)` evaluated for each item in order, then `()`: as nested `let`s over fresh variables."""
    if type(args[0]) is not Expression:  # (hyperon's rule takes its `car-atom`)
        return [error(Expression((Symbol("car-atom"), args[0])), "car-atom expects a non-empty expression as an argument")]
    out: Atom = Expression(())
    for item in reversed(args[0].children):
        out = Expression((Symbol("let"), Variable(f"_each#{id(item)}"), Expression((args[1], item)), out))
    return [out]


def _load_ascii(it: Machine, args: list[Atom]) -> list[Atom]:
    """hyperon's `(load-ascii space file)`: each atom of the file, read as its `load-ascii` reads
    one (`mettadb.asciitext`), added to the space in order; `()`.  The file is named by a symbol
    (or a variable's name), relative to the working directory, and must lie in the sandbox; a
    directory adds nothing; a FIFO, socket or device is refused (hyperon would read it).  The file
    is read whole before anything is added, so a failure adds nothing."""
    if len(args) != 2:
        raise Fail(Symbol("IncorrectNumberOfArguments"))
    space = it.space_of(args[0])
    if space is None:
        raise Fail(Symbol("load-ascii expects a space as the first argument"))
    if type(args[1]) not in (Symbol, Variable):
        raise Fail(Symbol("load-ascii expects a file name (a symbol) as the second argument"))
    name = args[1].name.split("\0", 1)[0]  # type: ignore[attr-defined]  # (hyperon's is a C string)
    if not in_sandbox(it, os.path.realpath(name), real=True):
        raise Fail(f"load-ascii may only read files under {it.base_dir} (use --allow-import PATH)")
    try:
        if os.path.isdir(name):  # (hyperon opens a directory and reads nothing from it)
            return [UNIT]
        if os.path.exists(name) and not os.path.isfile(name):  # (a FIFO would block the run for good)
            raise Fail(f"load-ascii cannot read {name}: not a regular file")
        with open(name, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Fail(f"load-ascii cannot read {name}: {e.strerror or e}") from None
    try:
        atoms = read_ascii(data)
    except UnicodeError as e:  # (hyperon aborts the process on such bytes)
        raise Fail(f"load-ascii cannot read {name}: {e}") from None
    for a in atoms:
        it.add_atom(space, a)
    return [UNIT]


#: grounded operations: name -> (function, argument types, return type); `Atom` arguments are
#: passed unevaluated; the others are evaluated first and checked against their type.
_U = "%Undefined%"
BUILTINS: dict[str, tuple[Operation, tuple[str, ...] | None, str]] = {
    "+": (_arith("+"), ("Number", "Number"), "Number"),
    "-": (_arith("-"), ("Number", "Number"), "Number"),
    "*": (_arith("*"), ("Number", "Number"), "Number"),
    "/": (_arith("/"), ("Number", "Number"), "Number"),
    "%": (_arith("%"), ("Number", "Number"), "Number"),
    "<": (_compare(lambda a, b: a < b), ("Number", "Number"), "Bool"),
    ">": (_compare(lambda a, b: a > b), ("Number", "Number"), "Bool"),
    "<=": (_compare(lambda a, b: a <= b), ("Number", "Number"), "Bool"),
    ">=": (_compare(lambda a, b: a >= b), ("Number", "Number"), "Bool"),
    "==": (_eq, ("$t", "$t"), "Bool"),
    "and": (_logic("and"), ("Bool", "Bool"), "Bool"),
    "or": (_logic("or"), ("Bool", "Bool"), "Bool"),
    "xor": (_logic("xor"), ("Bool", "Bool"), "Bool"),
    "not": (_logic("not"), ("Bool",), "Bool"),
    "pow-math": (_pow, ("Number", "Number"), "Number"),
    "sqrt-math": (_math1(math.sqrt), ("Number",), "Number"),
    "abs-math": (_math1(lambda v: _i64(abs(v), v, 0), keep_int=True), ("Number",), "Number"),
    "log-math": (_log, ("Number", "Number"), "Number"),
    # (an integer is its own trunc, ceil, floor and round, as in hyperon)
    "trunc-math": (_math1(_rounding(math.trunc), keep_int=True), ("Number",), "Number"),
    "ceil-math": (_math1(_rounding(math.ceil), keep_int=True), ("Number",), "Number"),
    "floor-math": (_math1(_rounding(math.floor), keep_int=True), ("Number",), "Number"),
    "round-math": (_math1(_rounding(_round_half_away), keep_int=True), ("Number",), "Number"),
    "sin-math": (_math1(math.sin), ("Number",), "Number"),
    "asin-math": (_math1(math.asin), ("Number",), "Number"),
    "cos-math": (_math1(math.cos), ("Number",), "Number"),
    "acos-math": (_math1(math.acos), ("Number",), "Number"),
    "tan-math": (_math1(math.tan), ("Number",), "Number"),
    "atan-math": (_math1(math.atan), ("Number",), "Number"),
    "isnan-math": (lambda it, a: [Bool(math.isnan(_num(a[0])))], ("Number",), "Bool"),
    "isinf-math": (lambda it, a: [Bool(math.isinf(_num(a[0])))], ("Number",), "Bool"),
    "car-atom": (_car, ("Expression",), _U),
    "cdr-atom": (_cdr, ("Expression",), "Expression"),
    "cons-atom": (_cons, ("Atom", "Expression"), "Atom"),
    "decons-atom": (_decons, ("Expression",), "Atom"),
    "size-atom": (_size, ("Expression",), "Number"),
    "index-atom": (_index, ("Expression", "Number"), "Atom"),
    "min-atom": (_minmax(min), (_U,), "Number"),
    "max-atom": (_minmax(max), (_U,), "Number"),
    "sort-strings": (_sort_strings, ("Expression",), "Expression"),
    "unique-atom": (_unique_atom, ("Expression",), "Atom"),
    "union-atom": (_multiset("union"), ("Expression", "Expression"), "Atom"),
    "intersection-atom": (_multiset("intersection"), ("Expression", "Expression"), "Atom"),
    "subtraction-atom": (_multiset("subtraction"), ("Expression", "Expression"), "Atom"),
    "format-args": (_format_args, ("String", "Expression"), "String"),
    "repr": (_repr, ("Atom",), "String"),
    "parse": (_parse, ("String",), "Atom"),
    "stringToChars": (_string_to_chars, ("String",), "Atom"),
    "charsToString": (_chars_to_string, ("Atom",), "String"),
    "is-function": (_is_function, ("Type",), "Bool"),
    "type-cast": (_type_cast, None, _U),
    "match-types": (_match_types, None, _U),
    "first-from-pair": (_first_from_pair, None, _U),
    "match-type-or": (_match_type_or, None, _U),
    "=alpha": (lambda it, a: [Bool(alpha_equal(a[0], a[1], values=True))], ("Atom", "Atom"), "Bool"),
    "atom-subst": (_atom_subst, ("Atom", "Variable", "Atom"), "Atom"),
    "noreduce-eq": (lambda it, a: [Bool(equal_as_values(a[0], a[1]))], ("Atom", "Atom"), "Bool"),
    "for-each-in-atom": (_for_each_in_atom, ("Expression", "Atom"), "(->)"),
    "load-ascii": (_load_ascii, None, _U),
}
# the optional modules' operations (`random`, `json`, `fileio`): hidden until a run imports the module
BUILTINS.update(MODULE_OPS)
# hyperon's Python objects (`py-atom`...): typed by nothing there (`%Undefined%`), their arguments evaluated
BUILTINS.update({name: (library_op(name), None, _U) for name in PY_OPERATIONS})
_CANONICAL = {"Number": NUMBER_T, "String": STRING_T, "Bool": BOOL_T}  # the very atoms GROUNDED_TYPES holds
BUILTIN_TYPES = {k: tuple(_CANONICAL.get(t) or Symbol(t) if not t.startswith("$") else Variable("t") for t in v[1])
                 if v[1] is not None else None for k, v in BUILTINS.items()}
#: pure operations on grounded values (every parameter `Number`, `String`, `Bool` or `$t`), which the
#: driver answers without generators when the arguments are literals that plainly fit: name -> (function,
#: parameter types)
QUICK_BUILTINS = {k: (v[0], BUILTIN_TYPES[k], _CANONICAL.get(v[2])) for k, v in BUILTINS.items()
                  if v[1] is not None and all(t in _CANONICAL or t.startswith("$") for t in v[1])}

def _says(message: str, fn: Operation) -> Operation:
    """A math operation given a non-number its parameter type let pass (an untyped symbol): hyperon
    0.2.10's error `message` instead of leaving the call as it is."""

    def op(it: Machine, args: list[Atom]) -> list[Atom]:
        try:
            return fn(it, args)
        except NoReduce:
            raise Fail(Symbol(message)) from None

    return op


for _name in ("abs-math", "sqrt-math"):
    BUILTINS[_name] = (_says(f"{_name} expects one argument: number", BUILTINS[_name][0]), *BUILTINS[_name][1:])
for _name in ("cos-math", "sin-math", "tan-math", "acos-math", "asin-math", "atan-math", "ceil-math",
              "floor-math", "round-math", "trunc-math", "isnan-math", "isinf-math"):
    BUILTINS[_name] = (_says(f"{_name} expects one argument: input number", BUILTINS[_name][0]), *BUILTINS[_name][1:])
BUILTINS["log-math"] = (_says("log-math expects two arguments: base (number) and input value (number)",
                              BUILTINS["log-math"][0]), *BUILTINS["log-math"][1:])
BUILTINS["pow-math"] = (_says("pow-math expects two arguments: number (base) and number (power)",
                              BUILTINS["pow-math"][0]), *BUILTINS["pow-math"][1:])
QUICK_BUILTINS.update({k: (BUILTINS[k][0], *QUICK_BUILTINS[k][1:]) for k in QUICK_BUILTINS if k.endswith("-math")})

#: each grounded operation's declared return type
BUILTIN_RETURNS: dict[str, Atom] = {k: _CANONICAL.get(v[2]) or Symbol(v[2]) for k, v in BUILTINS.items()}
#: operations whose Expression-typed arguments stay unevaluated (hyperon 0.2.10 checks an expression
#: argument's meta-type and passes it as written: `(size-atom (+ 1 2))` is 3); min-atom and max-atom
#: evaluate theirs
NOEVAL_EXPRESSION_ARGS = {"car-atom", "cdr-atom", "cons-atom", "decons-atom", "size-atom", "index-atom", "sort-strings",
                          "unique-atom", "format-args", "union-atom", "intersection-atom", "subtraction-atom"}
#: results that are final (not evaluated again)
FINAL_RESULTS = {"cons-atom", "decons-atom", "index-atom", "parse", "unique-atom", "sort-strings", "stringToChars",
                 "union-atom", "intersection-atom", "subtraction-atom", "type-cast", "match-types", "atom-subst",
                 "first-from-pair", *FINAL_MODULE_RESULTS, *PY_OPERATIONS}


def type_atom(name: str) -> Atom:
    return Variable("t") if name.startswith("$") else Symbol(name)


def signature_atom(args: tuple[str, ...] | None, ret: str) -> Atom:
    if args is None:  # declared by no type (a function hyperon's stdlib defines by rules only)
        return UNDEFINED
    return Expression((ARROW, *[type_atom(a) for a in args], type_atom(ret)))


