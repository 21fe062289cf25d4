"""The MeTTa interpreter: hyperon's semantics over a durable space.

Evaluation is a set of cooperating generators run by one driver loop with an
explicit stack, so a MeTTa program recursing 100 000 deep uses heap, not the
Python stack, and stops with `LimitError` at the configured limit.  A
generator asks for a sub-evaluation by yielding `(atom, bindings)` and
receives the list of `(result, bindings)` pairs back.

Rules `(= head body)` and type declarations `(: name type)` are read from the
space through the query engine (indexed by head).  Grounded operations run on
evaluated arguments; arguments typed `Atom` (or a matching meta-type, for
MeTTa-defined functions) are passed unevaluated, as hyperon's declarations
say.  Errors are `(Error ...)` atoms that propagate through calls.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any, TextIO

from .atoms import (
    Atom,
    Bool,
    Expression,
    Float,
    Grounded,
    Integer,
    String,
    Symbol,
    Variable,
    alpha_equal,
    fresh_variable,
    iter_atoms,
    rebuild,
)
from .bindings import EMPTY_BINDINGS, Bindings
from .errors import LimitError, ReadOnlyError
from .parser import parse_script
from .query import conjuncts, run_query
from .spaces import MemorySpace, ModuleSpaceAtom, SpaceAtom, StateAtom, holds_session_object, rename_apart, session_overlay
from .store import Space as _Space
from .typecheck import atom_types, check_call, match_types
from .unify import unify

__all__ = ["UNIT", "Interpreter", "format_results"]

Pair = tuple[Atom, Bindings]
Gen = Generator[Pair, list[Pair], list[Pair]]


class Tail(tuple[Atom, Bindings]):
    """A request to evaluate an atom in tail position (a rule's body, a chosen branch).

    hyperon reports a type error found there as it reports one in the `!`
    expression itself (expected types resolved); an error in an argument's
    evaluation shows the parameter type as declared (`$t`).
    """

    __slots__ = ()

UNIT = Expression(())
ERROR = Symbol("Error")
EQ = Symbol("=")
COLON = Symbol(":")
ARROW = Symbol("->")
UNDEFINED = Symbol("%Undefined%")
CHAR_T = Symbol("Char")
ATOM_T = Symbol("Atom")
EXPRESSION_T = Symbol("Expression")
TRUE, FALSE = Bool(True), Bool(False)
NUMBER_T, STRING_T, BOOL_T = Symbol("Number"), Symbol("String"), Symbol("Bool")
_META = {"Atom", "Expression", "Symbol", "Variable", "Grounded"}
_GROUNDED_TYPES: dict[type, Atom] = {Integer: NUMBER_T, Float: NUMBER_T, String: STRING_T, Bool: BOOL_T}
_UNDEFINED_ONLY = [UNDEFINED]
_ANY_TYPE = ("Atom", "%Undefined%", "Grounded")


def error(atom: Atom, message: Atom | str) -> Expression:
    """`(Error atom message)`; a str message becomes a String (hyperon quotes them)."""
    return Expression((ERROR, atom, String(message) if isinstance(message, str) else message))


def is_error(atom: Atom) -> bool:
    """Whether the atom is an `(Error ...)` expression."""
    return type(atom) is Expression and len(atom.children) >= 2 and atom.children[0] == ERROR


def metatype(atom: Atom) -> str:
    """Symbol, Variable, Expression or Grounded."""
    t = type(atom)
    if t is Symbol:
        return "Symbol"
    if t is Variable:
        return "Variable"
    if t is Expression:
        return "Expression"
    return "Grounded"


class _Fail(Exception):
    """A grounded operation's error: becomes `(Error expr message)`."""

    def __init__(self, message: Atom | str) -> None:
        self.message = message


class _NoReduce(Exception):
    """A grounded operation does not apply: the expression stays as it is."""


def _num(a: Atom) -> int | float:
    if type(a) in (Integer, Float):
        return a.value  # type: ignore[attr-defined,no-any-return]
    raise _NoReduce


def _num_atom(v: int | float) -> Atom:
    return Integer(v) if isinstance(v, int) and not isinstance(v, bool) else Float(float(v))


def _int_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _arith(op: str) -> Callable[[Interpreter, list[Atom]], list[Atom]]:
    def fn(it: Interpreter, args: list[Atom]) -> list[Atom]:
        if len(args) != 2:
            raise _Fail(Symbol("IncorrectNumberOfArguments"))
        a, b = _num(args[0]), _num(args[1])
        both_int = isinstance(a, int) and isinstance(b, int)
        if op == "+":
            return [_num_atom(a + b)]
        if op == "-":
            return [_num_atom(a - b)]
        if op == "*":
            return [_num_atom(a * b)]
        if op == "/":
            if both_int:
                if b == 0:
                    raise _Fail(Symbol("DivisionByZero"))
                return [Integer(_int_div(a, b))]  # type: ignore[arg-type]
            if b == 0:
                return [Float(math.copysign(math.inf, a) if a else math.nan)]
            return [Float(a / b)]
        if op == "%":
            if both_int:
                if b == 0:
                    raise _Fail(Symbol("DivisionByZero"))
                return [Integer(a - b * _int_div(a, b))]  # type: ignore[arg-type,operator]
            return [Float(math.fmod(a, b))]
        raise AssertionError(op)

    return fn


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Interpreter, list[Atom]], list[Atom]]:
    def fn(it: Interpreter, args: list[Atom]) -> list[Atom]:
        if len(args) != 2:
            raise _Fail(Symbol("IncorrectNumberOfArguments"))
        return [Bool(op(_num(args[0]), _num(args[1])))]

    return fn


def _eq(it: Interpreter, args: list[Atom]) -> list[Atom]:
    if len(args) != 2:
        raise _Fail(Symbol("IncorrectNumberOfArguments"))
    a, b = args
    if type(a) in (Integer, Float) and type(b) in (Integer, Float):
        return [Bool(a.value == b.value)]  # type: ignore[attr-defined]
    return [Bool(a == b)]


def _bool(a: Atom) -> bool:
    if type(a) is Bool:
        return a.value  # type: ignore[no-any-return]
    raise _NoReduce


def _logic(op: str) -> Callable[[Interpreter, list[Atom]], list[Atom]]:
    def fn(it: Interpreter, args: list[Atom]) -> list[Atom]:
        if op == "not":
            if len(args) != 1:
                raise _Fail(Symbol("IncorrectNumberOfArguments"))
            return [Bool(not _bool(args[0]))]
        if len(args) != 2:
            raise _Fail(Symbol("IncorrectNumberOfArguments"))
        a, b = _bool(args[0]), _bool(args[1])
        return [Bool(a and b if op == "and" else a or b if op == "or" else a != b)]

    return fn


def _math1(f: Callable[[float], float], keep_int: bool = False) -> Callable[[Interpreter, list[Atom]], list[Atom]]:
    def fn(it: Interpreter, args: list[Atom]) -> list[Atom]:
        if len(args) != 1:
            raise _Fail(Symbol("IncorrectNumberOfArguments"))
        v = _num(args[0])
        if keep_int and isinstance(v, int):
            return [Integer(int(f(v)))]
        try:
            return [Float(f(float(v)))]
        except (ValueError, OverflowError):
            return [Float(math.nan)]

    return fn


def _pow(it: Interpreter, args: list[Atom]) -> list[Atom]:
    a, b = _num(args[0]), _num(args[1])
    try:
        return [Float(math.pow(a, b))]
    except (ValueError, OverflowError):
        return [Float(math.nan)]


def _log(it: Interpreter, args: list[Atom]) -> list[Atom]:
    base, x = _num(args[0]), _num(args[1])
    try:
        return [Float(math.log(x) / math.log(base))]
    except (ValueError, ZeroDivisionError):
        return [Float(math.nan)]


def _expr_arg(a: Atom) -> tuple[Atom, ...]:
    if type(a) is not Expression:
        raise _NoReduce
    return a.children


def _car(it: Interpreter, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0])
    if not kids:
        raise _Fail("car-atom expects a non-empty expression as an argument")
    return [kids[0]]


def _cdr(it: Interpreter, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0])
    if not kids:
        raise _Fail("cdr-atom expects a non-empty expression as an argument")
    return [Expression(kids[1:])]


def _cons(it: Interpreter, args: list[Atom]) -> list[Atom]:
    return [Expression((args[0], *_expr_arg(args[1])))]


def _decons(it: Interpreter, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0])
    if not kids:
        raise _Fail("expected: (decons-atom (: <expr> Expression)), found: (decons-atom ())")
    return [Expression((kids[0], Expression(kids[1:])))]


def _size(it: Interpreter, args: list[Atom]) -> list[Atom]:
    return [Integer(len(_expr_arg(args[0])))]


def _index(it: Interpreter, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0])
    i = _num(args[1])
    if not isinstance(i, int) or not 0 <= i < len(kids):
        raise _Fail(Symbol("Index is out of bounds"))
    return [kids[i]]


def _minmax(pick: Callable[..., Any]) -> Callable[[Interpreter, list[Atom]], list[Atom]]:
    def fn(it: Interpreter, args: list[Atom]) -> list[Atom]:
        kids = _expr_arg(args[0])
        if not kids:
            raise _Fail(Symbol("Empty expression"))
        try:
            return [Float(float(pick(_num(k) for k in kids)))]
        except _NoReduce:
            raise _Fail(Symbol("Only numbers are allowed in expression")) from None

    return fn


def _sort_strings(it: Interpreter, args: list[Atom]) -> list[Atom]:
    kids = _expr_arg(args[0])
    if not all(type(k) is String for k in kids):
        raise _Fail(Symbol("Only strings are allowed in expression"))
    return [Expression(sorted(kids, key=lambda k: k.value))]  # type: ignore[attr-defined]


def _unique_atom(it: Interpreter, args: list[Atom]) -> list[Atom]:
    out: list[Atom] = []
    for k in _expr_arg(args[0]):
        if k not in out:
            out.append(k)
    return [Expression(out)]


def _format_args(it: Interpreter, args: list[Atom]) -> list[Atom]:
    if type(args[0]) is not String:
        raise _NoReduce
    fmt = args[0].value
    vals = [k.value if type(k) is String else str(k) for k in _expr_arg(args[1])]
    parts = fmt.split("{}")
    out = [parts[0]]
    for i, p in enumerate(parts[1:]):
        out.append(vals[i] if i < len(vals) else "{}")
        out.append(p)
    return [String("".join(out))]


def _repr(it: Interpreter, args: list[Atom]) -> list[Atom]:
    return [String(str(args[0]))]


def _parse(it: Interpreter, args: list[Atom]) -> list[Atom]:
    if type(args[0]) is not String:
        raise _NoReduce
    atoms = [a for _, a in parse_script(args[0].value)]
    if len(atoms) != 1:
        raise _Fail("parse expects exactly one atom")
    return atoms


def _is_char(a: Atom) -> bool:
    """A Char atom (`'a'`): a symbol of one character between single quotes."""
    return type(a) is Symbol and len(a.name) >= 3 and a.name[0] == "'" and a.name[-1] == "'"


def _string_to_chars(it: Interpreter, args: list[Atom]) -> list[Atom]:
    if type(args[0]) is not String:
        raise _NoReduce
    return [Expression(tuple(Symbol(f"'{c}'") for c in args[0].value))]


def _chars_to_string(it: Interpreter, args: list[Atom]) -> list[Atom]:
    # like hyperon 0.2.10: the argument is taken unevaluated and each item's text loses
    # its first and last character (the quotes of a Char or a String)
    if type(args[0]) is not Expression:
        raise _NoReduce
    return [String("".join(str(c.value if type(c) is String else c)[0 if type(c) is String else 1:]
                            [: None if type(c) is String else -1] for c in args[0].children))]


#: grounded operations: name -> (function, argument types, return type); `Atom` arguments are
#: passed unevaluated; the others are evaluated first and checked against their type.
_U = "%Undefined%"
BUILTINS: dict[str, tuple[Callable[[Interpreter, list[Atom]], list[Atom]], tuple[str, ...] | None, str]] = {
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
    "abs-math": (_math1(abs, keep_int=True), ("Number",), "Number"),
    "log-math": (_log, ("Number", "Number"), "Number"),
    "trunc-math": (_math1(lambda v: float(math.trunc(v))), ("Number",), "Number"),
    "ceil-math": (_math1(lambda v: float(math.ceil(v))), ("Number",), "Number"),
    "floor-math": (_math1(lambda v: float(math.floor(v))), ("Number",), "Number"),
    "round-math": (_math1(lambda v: float(math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5))), ("Number",), "Number"),
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
    "min-atom": (_minmax(min), ("Expression",), "Number"),
    "max-atom": (_minmax(max), ("Expression",), "Number"),
    "sort-strings": (_sort_strings, ("Expression",), "Expression"),
    "unique-atom": (_unique_atom, ("Expression",), "Expression"),
    "format-args": (_format_args, ("String", "Expression"), "String"),
    "repr": (_repr, (_U,), "String"),
    "parse": (_parse, ("String",), "Atom"),
    "stringToChars": (_string_to_chars, ("String",), "Atom"),
    "charsToString": (_chars_to_string, ("Atom",), "String"),
}
_BUILTIN_TYPES = {k: tuple(Symbol(t) if not t.startswith("$") else Variable("t") for t in v[1]) if v[1] is not None else None
                  for k, v in BUILTINS.items()}
#: MeTTa-defined functions whose Expression-typed arguments stay unevaluated
_NOEVAL_EXPRESSION_ARGS = {"car-atom", "cdr-atom"}
#: results that are final (not evaluated again)
_FINAL_RESULTS = {"cons-atom", "decons-atom", "index-atom", "parse", "unique-atom", "sort-strings", "stringToChars"}


def _type_atom(name: str) -> Atom:
    return Variable("t") if name.startswith("$") else Symbol(name)


def _signature_atom(args: tuple[str, ...] | None, ret: str) -> Atom:
    return Expression((ARROW, *[_type_atom(a) for a in (args or ())], _type_atom(ret)))


_MISSING = object()
_FALLBACK = object()
_EQ_TYPE = Expression((Symbol("->"), Variable("t"), Variable("t"), Symbol("%Undefined%")))
_TEMPLATE_DEPTH = 200


def _body_template(body: Atom, head_vars: set[Variable]) -> Any:
    """Where a rule body mentions head variables: None (nowhere), the variable itself, or
    `(children, child templates)`; `_FALLBACK` for bodies too deep to rebuild recursively."""
    if not head_vars:
        return None
    depth = 0
    stack = [(body, 0)]
    while stack:  # measure the depth first, without recursion
        a, d = stack.pop()
        if d > depth:
            depth = d
            if depth > _TEMPLATE_DEPTH:
                return _FALLBACK
        if type(a) is Expression and not a.ground:
            stack.extend((k, d + 1) for k in a.children)
    return _template(body, head_vars)


def _template(a: Atom, head_vars: set[Variable]) -> Any:
    t = type(a)
    if t is Variable:
        return a if a in head_vars else None
    if t is not Expression or a.ground:  # type: ignore[attr-defined]
        return None
    kids = [_template(k, head_vars) for k in a.children]  # type: ignore[attr-defined]
    if all(k is None for k in kids):
        return None
    return (a.children, kids)  # type: ignore[attr-defined]


def _instantiate(a: Atom, template: Any, d: dict[Variable, Atom]) -> Atom:
    """The body with head variables replaced, rebuilding only the paths that mention them."""
    if template is None:
        return a
    if type(template) is Variable:
        v = d.get(template)
        while type(v) is Variable:  # a head variable bound to another one
            nxt = d.get(v)
            if nxt is None:
                break
            v = nxt
        return v if v is not None else template
    children, kids = template
    return Expression([c if k is None else _instantiate(c, k, d) for c, k in zip(children, kids)])


class Interpreter:
    """Evaluates MeTTa against a space; one per session (it holds tokens and state)."""

    def __init__(self, space: Any, *, max_steps: int | None = None, max_depth: int = 1_000_000,
                 timeout: float | None = None, out: TextIO | None = None, base_dir: str | None = None,
                 allow_import: Iterable[str] = (), readonly: bool = False) -> None:
        self.space = space
        self.self_atom: SpaceAtom = ModuleSpaceAtom(space)
        self.tokens: dict[str, Atom] = {"&self": self.self_atom}
        self.max_steps = max_steps
        self.max_depth = max_depth
        self.timeout = timeout
        self.out = out
        self.base_dir = os.path.abspath(base_dir or os.getcwd())
        self.allow_import = [os.path.abspath(p) for p in allow_import]
        self.readonly = readonly
        self.type_check = False
        self.steps = 0
        self._deadline: float | None = None
        self._rules: dict[tuple[str, int], list[tuple[Atom, Any, Any]] | None] = {}
        self._types: dict[Atom, list[Atom]] = {}
        self._inferred: dict[Atom, list[Atom]] = {}  # types of expressions, as get-type finds them
        self._generation = -1
        self._options: dict[str, Any] = {}
        #: modules loaded in this run (shared with the interpreters of imported modules):
        #: file path -> its module space, and the (space, path) pairs already imported
        self.modules: dict[str, ModuleSpaceAtom] = {}
        self.imported: set[tuple[int, str]] = set()

    # ------------------------------------------------------------------ entry points
    def evaluate(self, atom: Atom) -> list[Atom]:
        """All results of evaluating `atom` (its bindings applied)."""
        self._refresh_caches()
        self._deadline = time.monotonic() + self.timeout if self.timeout else None
        self.steps = 0
        atom = self._tokens_in(atom)
        results = self._drive(self._eval(atom, EMPTY_BINDINGS))
        return [b.resolve(a) for a, b in results]

    def _refresh_caches(self) -> None:
        gen = getattr(self.space, "generation", None)
        if gen is None or gen != self._generation:
            self._rules.clear()
            self._types.clear()
            self._inferred.clear()
            self._generation = gen if gen is not None else -1

    def _invalidate(self) -> None:
        self._rules.clear()
        self._types.clear()
        self._inferred.clear()

    def _tokens_in(self, atom: Atom) -> Atom:
        if len(self.tokens) == 1 and "&self" in self.tokens:
            names = {"&self"}
        else:
            names = set(self.tokens)
        subst: dict[Atom, Atom] = {a: self.tokens[a.name] for a in iter_atoms(atom)
                                   if type(a) is Symbol and a.name in names}
        if not subst:
            return atom
        return _replace(atom, subst)

    # ------------------------------------------------------------------ driver
    def _drive(self, gen: Gen) -> list[Pair]:
        stack: list[Gen] = [gen]
        send: Any = None
        max_depth = self.max_depth
        max_steps = self.max_steps
        deadline = self._deadline
        ev = self._eval
        tokens = self.tokens
        while True:
            try:
                req = stack[-1].send(send)
            except StopIteration as stop:
                stack.pop()
                if not stack:
                    return stop.value  # type: ignore[no-any-return]
                send = stop.value
                continue
            self.steps += 1
            if len(stack) >= max_depth:
                raise LimitError(f"evaluation exceeded the stack depth limit of {max_depth}")
            if max_steps is not None and self.steps > max_steps:
                raise LimitError(f"evaluation exceeded the step limit of {max_steps}")
            if deadline is not None and not self.steps & 0x3FF and time.monotonic() > deadline:
                raise LimitError(f"evaluation exceeded the time limit of {self.timeout} s")
            a = req[0]
            ta = type(a)
            if ta is not Expression or not a.children:  # type: ignore[attr-defined]
                # evaluates to itself (or to its token): answered here, no generator
                if ta is Symbol:
                    tok = tokens.get(a.name)  # type: ignore[attr-defined]
                    if tok is not None:
                        a = tok
                send = [(a, req[1])]
                continue
            stack.append(ev(a, req[1], type(req) is Tail))
            send = None

    # ------------------------------------------------------------------ core
    def _eval(self, atom: Atom, b: Bindings, tail: bool = True) -> Gen:
        t = type(atom)
        if t is Symbol:
            tok = self.tokens.get(atom.name)  # type: ignore[attr-defined]
            return [(tok if tok is not None else atom, b)]
        if t is not Expression or not atom.children:  # type: ignore[attr-defined]
            return [(atom, b)]
        kids = atom.children  # type: ignore[attr-defined]
        head = kids[0]
        if type(head) is Symbol:
            special = _SPECIAL.get(head.name)
            if special is not None:
                return (yield from special(self, atom, b))
            builtin = BUILTINS.get(head.name)
            if builtin is not None and head.name not in self.tokens:
                return (yield from self._call_builtin(atom, builtin, b, tail))
        ftype = self._function_type(head)
        results: list[Pair] = []
        if ftype is not None:
            argtypes = ftype.children[1:-1]  # type: ignore[attr-defined]
            if len(argtypes) != len(kids) - 1:
                return [(error(atom, Symbol("IncorrectNumberOfArguments")), b)]
            combos = yield from self._eval_args(atom, kids[1:], argtypes, b, metatype_noeval=True,
                                                resolve=tail)
            for args, bb in combos:
                if isinstance(args, Atom):  # an error from an argument
                    results.append((args, bb))
                    continue
                expr = Expression((head, *args))
                results.extend((yield from self._apply_rules(expr, bb, ftype.children[-1] != ATOM_T)))  # type: ignore[attr-defined]
            return results
        # no function type: a tuple; its expression elements are evaluated
        if atom.ground:  # type: ignore[attr-defined]
            tokens = self.tokens
            for k in kids:
                tk = type(k)
                if tk is Expression or (tk is Symbol and k.name in tokens):
                    break
            else:  # nothing inside evaluates to anything else: apply the rules directly
                return (yield from self._apply_rules(atom, b))
        combos = yield from self._eval_args(atom, kids, None, b, metatype_noeval=False)
        for args, bb in combos:
            if isinstance(args, Atom):
                results.append((args, bb))
                continue
            call: Atom = Expression(args) if any(x is not y for x, y in zip(args, kids)) else atom
            results.extend((yield from self._apply_rules(call, bb)))
        return results

    def _eval_args(self, whole: Atom, args: tuple[Atom, ...], types: tuple[Atom, ...] | None, b: Bindings,
                   metatype_noeval: bool, resolve: bool = True
                   ) -> Generator[Pair, list[Pair], list[tuple[Any, Bindings]]]:
        """Cartesian product of argument results: [(list of args | error atom, bindings)]."""
        combos: list[tuple[Any, Bindings]] = [([], b)]
        tb = EMPTY_BINDINGS
        if types is not None and len(types) == len(args):
            # like hyperon, the call is checked as written first: the arguments' inferred types
            # against the parameters, one set of type-variable bindings across them
            written = tuple(b.resolve(a) for a in args) if b._d else args
            bad = None
            if not self._plainly_fits(written, types):
                tb, bad = check_call(types, written, self._types_of, resolve=resolve)
            if bad is not None:
                return [(error(Expression((whole.children[0], *written)), Expression(  # type: ignore[attr-defined]
                    (Symbol("BadArgType"), Integer(bad[0]), bad[1], bad[2]))), b)]
        for i, arg in enumerate(args):
            expected = types[i] if types is not None else None
            if expected is not None and tb._d:
                expected = tb.resolve(expected)
            new: list[tuple[Any, Bindings]] = []
            for done, bb in combos:
                if isinstance(done, Atom):
                    new.append((done, bb))
                    continue
                a = bb.resolve(arg) if bb._d else arg
                if expected is not None and type(expected) is Symbol:
                    en = expected.name
                    if en == "Atom" or (metatype_noeval and en in _META and metatype(a) == en):
                        new.append((done + [a], bb))
                        continue
                if type(a) is not Expression and not (type(a) is Symbol and a.name in self.tokens):
                    rs = [(a, bb)]
                else:
                    rs = yield (a, bb)
                for r, rb in rs:
                    if is_error(r) and not (type(expected) is Symbol and expected.name in ("Atom", "ErrorType")):
                        new.append((r, rb))
                    elif expected is not None and not self._type_ok(r, expected):
                        # the value an argument reduced to does not have the parameter's type
                        have = self._types_of(r)
                        new.append((error(r, Expression((Symbol("BadType"), expected, have[0] if have else UNDEFINED))), rb))
                    else:
                        new.append((done + [r], rb))
            combos = new
        return combos

    def _apply_rules(self, expr: Atom, b: Bindings, evaluate: bool = True) -> Gen:
        if expr.ground:  # type: ignore[attr-defined]
            # A ground call cannot see or bind the caller's variables: its body runs in a scope
            # of its own (empty bindings), so the rule's variables need no renaming per call
            # and bindings do not pile up along a recursion.  Results go back with the
            # caller's bindings; a variable left in one is made fresh.
            bodies = self._ground_bodies(expr)
            if not bodies:
                return [(expr, b)]
            results: list[Pair] = []
            for body in bodies:
                rs = (yield Tail((body, EMPTY_BINDINGS))) if evaluate else [(body, EMPTY_BINDINGS)]
                for r, rb in rs:
                    tr = type(r)
                    if tr is Variable or (tr is Expression and not r.ground):  # type: ignore[attr-defined]
                        r = rename_apart(rb.resolve(r))
                    results.append((r, b))
            return results
        rules = self._matching_rules(expr, b)
        if not rules:
            return [(expr, b)]
        if not evaluate:  # the function returns `Atom`: its result is not evaluated further
            return [(bb.resolve(body), bb) for body, bb in rules]
        results = []
        for body, bb in rules:
            results.extend((yield Tail((bb.resolve(body), bb))))
        return results

    def _call_builtin(self, atom: Atom, builtin: tuple[Any, ...], b: Bindings, tail: bool = True) -> Gen:
        fn = builtin[0]
        kids = atom.children  # type: ignore[attr-defined]
        name = kids[0].name
        types = _BUILTIN_TYPES[name]
        if types is not None and len(types) != len(kids) - 1:
            return [(error(atom, Symbol("IncorrectNumberOfArguments")), b)]
        combos = yield from self._eval_args(atom, kids[1:], types, b, metatype_noeval=name in _NOEVAL_EXPRESSION_ARGS,
                                            resolve=tail)
        results: list[Pair] = []
        for args, bb in combos:
            if isinstance(args, Atom):
                results.append((args, bb))
                continue
            try:
                out = fn(self, args)
            except _NoReduce:
                results.append((Expression((kids[0], *args)), bb))
                continue
            except _Fail as f:
                results.append((error(Expression((kids[0], *args)), f.message), bb))
                continue
            for r in out:
                if type(r) is Expression and name not in _FINAL_RESULTS and r != Expression((kids[0], *args)):
                    results.extend((yield Tail((r, bb))))
                else:
                    results.append((r, bb))
        return results

    def _plainly_fits(self, args: tuple[Atom, ...], params: tuple[Atom, ...]) -> bool:
        """A quick yes for the common call: variables, untyped expressions, literals of the right type."""
        for a, want in zip(args, params):
            ta = type(a)
            if ta is Variable:
                continue
            if ta is Expression:
                if self._types_of(a) == _UNDEFINED_ONLY:
                    continue
                return False
            if ta is Symbol:
                if not self._declared_types(a) and not _is_char(a):  # untyped: fits anything
                    continue
                return False
            q = _GROUNDED_TYPES.get(ta)
            if q is None or type(want) is not Symbol or not (want == q or want.name in _ANY_TYPE):
                return False
        return True

    # ------------------------------------------------------------------ space access
    def _space_of(self, atom: Atom) -> Any:
        if type(atom) is Symbol:
            tok = self.tokens.get(atom.name)
            if tok is not None:
                atom = tok
        if isinstance(atom, SpaceAtom):
            return atom.value
        return None

    def _query(self, space: Any, pattern: Atom, b: Bindings) -> list[Bindings]:
        if type(space) is _Space:
            overlay = session_overlay(space)
            if overlay is None or not len(overlay):
                return list(run_query(space, pattern, b))
            return _query_with_overlay(space, overlay, pattern, b)
        return list(space.query(pattern, b))

    def _atoms_of(self, space: Any) -> list[Atom]:
        atoms = list(space.atoms())
        overlay = session_overlay(space) if type(space) is _Space else None
        return atoms + list(overlay.atoms()) if overlay is not None else atoms

    def _rules_for(self, expr: Atom) -> list[tuple[Atom, Any, Any]] | None:
        head = expr.children[0] if type(expr) is Expression and expr.children else None
        key = (head.name, len(expr.children)) if type(head) is Symbol else None  # type: ignore[attr-defined]
        if key is None:
            return None
        cached = self._rules.get(key, _MISSING)
        if cached is _MISSING:
            cached = self._rules[key] = self._load_rules(key)
        return cached  # type: ignore[return-value]

    def _ground_bodies(self, expr: Atom) -> list[Atom]:
        """The instantiated body of each rule whose head matches a ground call."""
        cached = self._rules_for(expr)
        if cached is None:
            return [body for body, _ in self._matching_rules(expr, EMPTY_BINDINGS)]
        out = []
        args = expr.children  # type: ignore[attr-defined]
        for rule, template, simple in cached:
            body = rule.children[2]  # type: ignore[attr-defined]
            if simple is not None:  # head `(f $a $b ...)`, distinct variables: nothing to unify
                out.append(_instantiate(body, template, dict(zip(simple, args[1:]))))
                continue
            bb = unify(expr, rule.children[1], EMPTY_BINDINGS)  # type: ignore[attr-defined]
            if bb is None:
                continue
            out.append(_instantiate(body, template, bb._d) if template is not _FALLBACK else bb.resolve(body))
        return out

    def _matching_rules(self, expr: Atom, b: Bindings) -> list[Pair]:
        """(body, bindings) for each rule `(= head body)` whose head unifies with expr."""
        cached = self._rules_for(expr)
        if cached is None:
            body = fresh_variable("body")
            out = []
            for bb in self._query(self.space, Expression((EQ, expr, body)), b):
                out.append((bb.resolve(body), bb))
            return out
        out = []
        ground = expr.ground  # type: ignore[attr-defined]
        for rule, _template, _simple in cached:
            if not ground:
                # the caller's variables must not meet the rule's: rename the whole rule apart
                rule = rename_apart(rule)
            rhead, rbody = rule.children[1], rule.children[2]  # type: ignore[attr-defined]
            bb2 = unify(expr, rhead, b)
            if bb2 is None:
                continue
            out.append((rbody, bb2))
        return out

    def _load_rules(self, key: tuple[str, int]) -> list[tuple[Atom, Any, Any]] | None:
        """The candidate rules for a head and arity, when there are few enough to keep in memory."""
        if not hasattr(self.space, "_dbs"):
            return None
        overlay = session_overlay(self.space)
        if overlay is not None and len(overlay):  # rules holding session objects: query both each time
            return None
        name, arity = key
        probe = Expression((EQ, Expression((Symbol(name), *[Variable(f"a{i}") for i in range(arity - 1)])), Variable("b")))
        rules: list[tuple[Atom, Any, Any]] = []
        for bb in self.space.query(probe):
            rule = rename_apart(bb.resolve(probe))
            head_vars = {a for a in iter_atoms(rule.children[1]) if type(a) is Variable}  # type: ignore[attr-defined]
            template = _body_template(rule.children[2], head_vars)  # type: ignore[attr-defined]
            hargs = rule.children[1].children[1:]  # type: ignore[attr-defined]
            simple = hargs if template is not _FALLBACK and all(type(a) is Variable for a in hargs) \
                and len(set(hargs)) == len(hargs) else None
            rules.append((rule, template, simple))
            if len(rules) > 256:
                return None
        # generic rules `(= $x ...)` also apply
        generic = Expression((EQ, Variable("x"), Variable("b")))
        for bb in self.space.query(generic):
            if type(bb.resolve(Variable("x"))) is Variable:
                return None
        return rules

    # ------------------------------------------------------------------ types
    def _declared_types(self, atom: Atom) -> list[Atom]:
        got = self._types.get(atom)
        if got is None:
            t = fresh_variable("t")
            got = [bb.resolve(t) for bb in self._query(self.space, Expression((COLON, atom, t)), EMPTY_BINDINGS)]
            if type(atom) is Symbol and atom.name in BUILTINS:
                _, args, ret = BUILTINS[atom.name]
                got.append(_signature_atom(args, ret))
            elif type(atom) is Symbol and atom.name in _SPECIAL_TYPES:
                got.append(_SPECIAL_TYPES[atom.name])
            self._types[atom] = got
        return got

    def _function_type(self, head: Atom) -> Atom | None:
        if type(head) is not Symbol:
            return None
        for t in self._declared_types(head):
            if type(t) is Expression and t.children and t.children[0] == ARROW:
                return rename_apart(t)
        return None

    def _types_of(self, atom: Atom) -> list[Atom]:
        t = type(atom)
        if t is Variable:
            return [UNDEFINED]
        if t is not Expression:
            quick = _GROUNDED_TYPES.get(t)
            return [quick] if quick is not None else atom_types(atom, self)
        got = self._inferred.get(atom)
        if got is None:
            if len(self._inferred) > 50_000:
                self._inferred.clear()
            got = self._inferred[atom] = atom_types(atom, self)
        return got

    def declared_types(self, atom: Atom) -> list[Atom]:
        """Types declared for an atom (`(: atom T)`, builtins' signatures); see mettadb.typecheck."""
        got = self._declared_types(atom)
        return got if got or not _is_char(atom) else [CHAR_T]

    def grounded_type(self, atom: Atom) -> Atom:
        """The type of a grounded atom; a state's is `(StateMonad T)` with T its first value's type."""
        t = type(atom)
        if t is Integer or t is Float:
            return NUMBER_T
        if t is String:
            return STRING_T
        if t is Bool:
            return BOOL_T
        if isinstance(atom, SpaceAtom):
            return Symbol("SpaceType")
        if isinstance(atom, StateAtom):
            return Expression((Symbol("StateMonad"), atom.value_type))
        return Symbol(getattr(atom, "type_name", "Grounded"))

    def check_added(self, atom: Atom) -> Atom | None:
        """The error hyperon's `type-check auto` reports for an atom about to be added, or None.

        Like hyperon 0.2.10, only an application of a typed function is checked:
        its arity, then each argument against the parameter type.
        """
        atom = self._tokens_in(atom)
        if type(atom) is not Expression or not atom.children:
            return None
        kids = atom.children
        ft = self._function_type(kids[0])
        if ft is None and kids[0] == EQ:
            ft = rename_apart(_EQ_TYPE)  # hyperon's type of `=`
        if ft is None:
            return None
        params = ft.children[1:-1]  # type: ignore[attr-defined]
        if len(params) != len(kids) - 1:
            return error(atom, Symbol("IncorrectNumberOfArguments"))
        bt: Bindings | None = EMPTY_BINDINGS
        for i, (arg, want) in enumerate(zip(kids[1:], params), 1):
            if type(want) is Symbol and (want.name in ("Atom", "%Undefined%") or want.name == metatype(arg)):
                continue
            have = self._types_of(arg)
            if not have and type(arg) is Expression and arg.children:
                # a badly typed application counts as its function's type, as in hyperon
                have = [self._function_type(arg.children[0]) or UNDEFINED]
            nb = None
            for h in have:
                nb = bt if h == UNDEFINED else unify(want, h, bt)  # type: ignore[arg-type]
                if nb is not None:
                    break
            if nb is None and bt is not None and bt.resolve(want) == UNDEFINED:
                nb = bt  # a parameter bound to an undefined type takes anything here (not so when the call runs)
            if nb is None:  # the parameter is shown as declared
                return error(atom, Expression((Symbol("BadArgType"), Integer(i), want, have[0] if have else UNDEFINED)))
            bt = nb
        return None

    def _unify_type(self, atom: Atom, want: Atom, b: Bindings) -> Bindings | None:
        if type(want) is Symbol and (want.name in ("Atom", "%Undefined%") or want.name == metatype(atom)):
            return b
        for have in self._types_of(atom):
            if have == UNDEFINED:
                return b
            bb = unify(want, have, b)
            if bb is not None:
                return bb
        return None

    def _type_ok(self, atom: Atom, want: Atom) -> bool:
        if type(want) is Variable:
            return True
        quick = _GROUNDED_TYPES.get(type(atom))
        if quick is not None and type(want) is Symbol:
            return want is quick or want == quick or want.name in ("Atom", "%Undefined%", "Grounded")
        return self._unify_type(atom, want, EMPTY_BINDINGS) is not None

    # ------------------------------------------------------------------ writes
    def _add(self, space: Any, atom: Atom) -> None:
        if self.readonly and space is self.space:
            raise ReadOnlyError("this evaluation cannot write to the space (read-only batch worker)")
        if type(space) is _Space and holds_session_object(atom):
            session_overlay(space, create=True).add(atom)  # type: ignore[union-attr]
        else:
            space.add(atom)
        self._invalidate()

    def _remove(self, space: Any, atom: Atom) -> bool:
        if self.readonly and space is self.space:
            raise ReadOnlyError("this evaluation cannot write to the space (read-only batch worker)")
        if type(space) is _Space and holds_session_object(atom):
            overlay = session_overlay(space)
            ok = overlay is not None and overlay.remove(atom)
        else:
            ok = bool(space.remove(atom))
        self._invalidate()
        return ok

    def _print(self, text: str) -> None:
        out = self.out if self.out is not None else sys.stdout
        out.write(text + "\n")
        out.flush()


def _query_with_overlay(space: Any, overlay: MemorySpace, pattern: Atom, b: Bindings) -> list[Bindings]:
    """A query over a durable space and its session overlay: each conjunct matches in either."""
    parts = conjuncts(pattern) or [pattern]
    found = [b]
    for part in parts:
        nxt: list[Bindings] = []
        for bb in found:
            p = bb.resolve(part)
            nxt.extend(run_query(space, p, bb))
            nxt.extend(overlay.query(p, bb))
        found = nxt
    return found


def _replace(atom: Atom, subst: dict[Atom, Atom]) -> Atom:
    """Replace leaves by the map, sharing unchanged subtrees."""
    return rebuild(atom, lambda a: subst.get(a, a),  # type: ignore[no-any-return]
                   lambda e, new: e if all(x is y for x, y in zip(new, e.children)) else Expression(new))


# ---------------------------------------------------------------------- special forms
Special = Callable[[Interpreter, Any, Bindings], Gen]
_SPECIAL: dict[str, Special] = {}
_SPECIAL_TYPES: dict[str, Atom] = {}


def special(name: str, type_text: str | None = None) -> Callable[[Special], Special]:
    def deco(fn: Special) -> Special:
        _SPECIAL[name] = fn
        if type_text is not None:
            from .parser import parse_atom

            _SPECIAL_TYPES[name] = parse_atom(type_text)
        return fn

    return deco


def _args(atom: Expression, n: int) -> tuple[Atom, ...] | None:
    kids = atom.children
    return kids[1:] if len(kids) == n + 1 else None


def _wrong_arity(atom: Atom, b: Bindings) -> list[Pair]:
    return [(error(atom, Symbol("IncorrectNumberOfArguments")), b)]


@special("if", "(-> Bool Atom Atom $t)")
def _if(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None:
        return _wrong_arity(atom, b)
    cond, then, else_ = a
    out: list[Pair] = []
    for c, bb in (yield (cond, b)):
        if c == TRUE:
            out.extend((yield Tail((bb.resolve(then), bb))))
        elif c == FALSE:
            out.extend((yield Tail((bb.resolve(else_), bb))))
        elif is_error(c):
            out.append((c, bb))
        else:
            out.append((Expression((atom.children[0], c, then, else_)), bb))
    return out


@special("let", "(-> Atom %Undefined% Atom %Undefined%)")
def _let(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None:
        return _wrong_arity(atom, b)
    pattern, value, body = a
    out: list[Pair] = []
    for v, bb in (yield (value, b)):
        if is_error(v) and v != value:  # like hyperon: an error the argument reduced to is the result
            out.append((v, bb))
            continue
        b2 = unify(bb.resolve(pattern), v, bb)
        if b2 is not None:
            out.extend((yield Tail((b2.resolve(body), b2))))
    return out


@special("let*", "(-> Expression Atom %Undefined%)")
def _let_star(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None or type(a[0]) is not Expression:
        return _wrong_arity(atom, b)
    pairs, body = a
    if not pairs.children:  # type: ignore[attr-defined]
        return (yield Tail((body, b)))
    first, *rest = pairs.children  # type: ignore[attr-defined]
    if type(first) is not Expression or len(first.children) != 2:
        return [(error(atom, "let* expects pairs of (pattern value)"), b)]
    inner = Expression((atom.children[0], Expression(rest), body)) if rest else body
    return (yield Tail((Expression((Symbol("let"), *first.children, inner)), b)))


def _case_like(it: Interpreter, atom: Expression, b: Bindings, evaluate: bool, branch: bool = True) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    value, cases = a
    if type(cases) is not Expression:
        return [(error(atom, "case expects a tuple of (pattern result) pairs"), b)]
    values = (yield (value, b)) if evaluate else [(value, b)]
    if not values:
        values = [(Symbol("Empty"), b)]
    out: list[Pair] = []
    for v, bb in values:
        for case in cases.children:
            if type(case) is not Expression or len(case.children) != 2:
                continue
            pat, res = case.children
            b2 = unify(bb.resolve(pat), v, bb)
            if b2 is not None:
                out.extend((yield Tail((b2.resolve(res), b2))) if branch else [(b2.resolve(res), b2)])
                break
    return out


@special("case", "(-> Atom Expression %Undefined%)")
def _case(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return (yield from _case_like(it, atom, b, True))


@special("switch", "(-> %Undefined% Expression %Undefined%)")
def _switch(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return (yield from _case_like(it, atom, b, True))


@special("switch-minimal", "(-> Atom Expression Atom)")
def _switch_minimal(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return (yield from _case_like(it, atom, b, False, False))


@special("match", "(-> SpaceType Atom Atom %Undefined%)")
def _match(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None:
        return _wrong_arity(atom, b)
    space_arg, pattern, template = a
    out: list[Pair] = []
    tokens = it.tokens
    if type(space_arg) is Symbol and space_arg.name in tokens:  # `&self`: no evaluation round trip
        spaces: list[Pair] = [(tokens[space_arg.name], b)]
    else:
        spaces = yield (space_arg, b)
    for sp, bb in spaces:
        space = it._space_of(sp)
        if space is None:
            out.append((error(atom, "match expects a space as its first argument"), bb))
            continue
        for b2 in it._query(space, bb.resolve(pattern), bb):
            r = b2.resolve(template)
            tr = type(r)
            if tr is Expression and r.children:  # type: ignore[attr-defined]
                out.extend((yield Tail((r, b2))))
            else:  # evaluates to itself (or its token)
                if tr is Symbol:
                    r = tokens.get(r.name, r)  # type: ignore[attr-defined]
                out.append((r, b2))
    return out


@special("superpose", "(-> Expression %Undefined%)")
def _superpose(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    arg = a[0]
    if type(arg) is not Expression:
        return [(error(atom, "superpose expects an expression"), b)]
    out: list[Pair] = []
    for k in arg.children:
        out.extend((yield (k, b)))
    return out


@special("collapse", "(-> Atom Atom)")
def _collapse(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    rs = yield (a[0], b)
    return [(Expression([bb.resolve(r) for r, bb in rs]), b)]


class BindingsAtom(Grounded):
    """Variable bindings as a value (what `collapse-bind` pairs results with); prints as hyperon's."""

    __slots__ = ()
    type_name = "Bindings"

    def text(self) -> str:
        """`{ $x <- a, $y <- b }`; `{  }` when empty."""
        return "{ " + ", ".join(f"{v} <- {x}" for v, x in self.value) + " }"


@special("collapse-bind", "(-> Atom Expression)")
def _collapse_bind(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    variables = list(dict.fromkeys(x for x in iter_atoms(a[0]) if type(x) is Variable))
    out: list[Pair] = []
    for r, bb in (yield (a[0], b)):  # like hyperon 0.2.10 at the top level: one pair per result
        bound = tuple((v, bb.resolve(v)) for v in variables if bb.resolve(v) != v)
        out.append((Expression((Expression((bb.resolve(r), BindingsAtom(bound))),)), b))
    return out


@special("capture", "(-> Atom Atom)")
def _capture(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    return (yield Tail((a[0], b)))


@special("unify", "(-> Atom Atom Atom Atom %Undefined%)")
def _unify(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 4)
    if a is None:
        return _wrong_arity(atom, b)
    x, y, then, else_ = a
    b2 = unify(x, y, b)
    if b2 is not None:
        return (yield Tail((b2.resolve(then), b2)))
    return (yield Tail((else_, b)))


@special("quote", "(-> Atom Atom)")
def _quote(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return [(atom, b)]
    yield  # pragma: no cover


@special("noeval", "(-> Atom Atom)")
def _noeval(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    return [(a[0], b)] if a is not None else _wrong_arity(atom, b)
    yield  # pragma: no cover


def _evaluate_first(n: int) -> Special:
    """`id`, `eval` and `evalc`: with n arguments, the results of evaluating the first."""

    def fn(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, n)
        if a is None:
            return _wrong_arity(atom, b)
        return (yield (a[0], b))

    return fn


special("id", "(-> $t $t)")(_evaluate_first(1))
special("eval", "(-> Atom Atom)")(_evaluate_first(1))
special("evalc", "(-> Atom SpaceType Atom)")(_evaluate_first(2))


@special("chain", "(-> Atom Variable Atom %Undefined%)")
def _chain(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None or type(a[1]) is not Variable:
        return _wrong_arity(atom, b)
    x, var, body = a
    out: list[Pair] = []
    for r, bb in (yield (x, b)):
        b2 = unify(var, r, bb)
        if b2 is not None:
            out.extend((yield (b2.resolve(body), b2)))
    return out


@special("function", "(-> Atom Atom)")
def _function(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    out: list[Pair] = []
    for r, bb in (yield (a[0], b)):
        if type(r) is Expression and len(r.children) == 2 and r.children[0] == Symbol("return"):
            out.append((r.children[1], bb))
        elif is_error(r):
            out.append((r, bb))
        else:
            out.append((error(atom, Symbol("NoReturn")), bb))
    return out


@special("sealed", "(-> Expression Atom Atom)")
def _sealed(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    keep = set(a[0].children) if type(a[0]) is Expression else set()
    vs = {v for v in iter_atoms(a[1]) if type(v) is Variable and v not in keep}
    return [(Bindings({v: fresh_variable(v.name) for v in vs}).resolve(a[1]), b)]
    yield  # pragma: no cover


@special("if-error", "(-> Atom Atom Atom %Undefined%)")
def _if_error(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None:
        return _wrong_arity(atom, b)
    return (yield Tail((a[1] if is_error(a[0]) else a[2], b)))


@special("return-on-error", "(-> Atom Atom %Undefined%)")
def _return_on_error(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    if is_error(a[0]) or a[0] == Symbol("Empty"):
        return [(a[0], b)]
    return (yield (a[1], b))


@special("if-decons-expr", "(-> Expression Variable Variable Atom Atom %Undefined%)")
def _if_decons(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 5)
    if a is None:
        return _wrong_arity(atom, b)
    expr, h, t, then, else_ = a
    if type(expr) is Expression and expr.children:
        b2 = unify(Expression((h, t)), Expression((expr.children[0], Expression(expr.children[1:]))), b)
        if b2 is not None:
            return (yield Tail((b2.resolve(then), b2)))
    return (yield Tail((else_, b)))


@special("if-equal", "(-> Atom Atom Atom Atom %Undefined%)")
def _if_equal(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 4)
    if a is None:
        return _wrong_arity(atom, b)
    return (yield Tail((a[2] if a[0] == a[1] else a[3], b)))


def _substitute(var: Atom, value: Atom, body: Atom) -> Atom:
    if type(var) is not Variable:
        return body
    return Bindings({var: value}).resolve(body)


@special("map-atom", "(-> Expression Variable Atom Expression)")
def _map_atom(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None or type(a[0]) is not Expression:
        return _wrong_arity(atom, b)
    lst, var, body = a
    combos: list[tuple[list[Atom], Bindings]] = [([], b)]
    for item in lst.children:  # type: ignore[attr-defined]
        new = []
        for done, bb in combos:
            for r, rb in (yield (_substitute(var, item, body), bb)):
                new.append((done + [r], rb))
        combos = new
    return [(Expression(done), bb) for done, bb in combos]


@special("filter-atom", "(-> Expression Variable Atom Expression)")
def _filter_atom(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 3)
    if a is None or type(a[0]) is not Expression:
        return _wrong_arity(atom, b)
    lst, var, body = a
    kept: list[Atom] = []
    for item in lst.children:  # type: ignore[attr-defined]
        expr = _substitute(var, item, body)
        # hyperon's filter-atom takes one minimal step: only an explicit (eval ...) is evaluated
        is_eval = type(expr) is Expression and expr.children[:1] == (Symbol("eval"),)
        rs = (yield (expr, b)) if is_eval else [(expr, b)]
        if not rs or not all(r in (TRUE, FALSE) for r, _ in rs):
            return [(error(atom, Symbol("NoReturn")), b)]
        if any(r == TRUE for r, _ in rs):
            kept.append(item)
    return [(Expression(kept), b)]


@special("foldl-atom", "(-> Expression Atom Variable Variable Atom %Undefined%)")
def _foldl_atom(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 5)
    if a is None or type(a[0]) is not Expression:
        return _wrong_arity(atom, b)
    lst, init, va, vb, body = a
    accs: list[Pair] = yield (init, b)
    for item in lst.children:  # type: ignore[attr-defined]
        new: list[Pair] = []
        for acc, bb in accs:
            new.extend((yield (_substitute(vb, item, _substitute(va, acc, body)), bb)))
        accs = new
    return accs


def _collect(rs: list[Pair]) -> list[Atom]:
    return [bb.resolve(r) for r, bb in rs]


def _set_op(kind: str) -> Special:
    def fn(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, 1 if kind == "unique" else 2)
        if a is None:
            return _wrong_arity(atom, b)
        xs = _collect((yield (a[0], b)))
        ys = _collect((yield (a[1], b))) if kind != "unique" else []
        if kind == "unique":
            res: list[Atom] = []
            for x in xs:
                if x not in res:
                    res.append(x)
        elif kind == "union":
            res = xs + ys
        elif kind == "intersection":
            pool = list(ys)
            res = []
            for x in xs:
                if x in pool:
                    pool.remove(x)
                    res.append(x)
        else:
            pool = list(ys)
            res = []
            for x in xs:
                if x in pool:
                    pool.remove(x)
                else:
                    res.append(x)
        return [(r, b) for r in reversed(res)]

    return fn


for _name in ("unique", "union", "intersection", "subtraction"):
    special(_name, "(-> Atom %Undefined%)" if _name == "unique" else "(-> Atom Atom %Undefined%)")(_set_op(_name))


@special("empty", "(-> %Undefined%)")
def _empty(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return []
    yield  # pragma: no cover


@special("nop")
def _nop(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    if len(atom.children) == 2:
        yield (atom.children[1], b)
    return [(UNIT, b)]


@special("Error", "(-> Atom Atom ErrorType)")
def _error_form(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return [(atom, b)]
    yield  # pragma: no cover


def _assert(kind: str, with_msg: bool) -> Special:
    n = 3 if with_msg else 2

    def fn(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, n)
        if a is None:
            return _wrong_arity(atom, b)
        got = _collect((yield Tail((a[0], b))))
        if kind.endswith("ToResult") or kind == "assertIncludes":
            if type(a[1]) is not Expression:
                return [(error(atom, Expression((Symbol("BadArgType"), Integer(2), EXPRESSION_T,
                                                 it._types_of(a[1])[0]))), b)]
            expected = list(a[1].children)
        else:
            expected = _collect((yield Tail((a[1], b))))
        alpha = "Alpha" in kind
        if kind == "assertIncludes":
            missing = [e for e in expected if not any(alpha_equal(e, g) if alpha else e == g for g in got)]
            ok = not missing
        else:
            pool = list(got)
            missed = []
            for e in expected:
                for i, g in enumerate(pool):
                    if (alpha_equal(e, g) if alpha else e == g):
                        del pool[i]
                        break
                else:
                    missed.append(e)
            ok = not missed and not pool
        if ok:
            return [(UNIT, b)]
        shown = Expression(atom.children[: n]) if with_msg else atom
        if with_msg:
            return [(Expression((ERROR, shown, a[2])), b)]
        if kind == "assertIncludes":  # hyperon's message is an expression of the missing and the got atoms
            words = [Symbol(w) for w in ("assertIncludes", "error:", "not", "included", "in", "result:")]
            return [(error(atom, Expression((*words[:2], Expression(tuple(missing)), *words[2:],
                                              Expression(tuple(got))))), b)]
        else:
            msg = (f"\nExpected: {_fmt(expected)}\nGot: {_fmt(got)}"
                   f"\nMissed results: {', '.join(map(str, missed))}\nExcessive results: {', '.join(map(str, pool))}")
        return [(error(atom, msg), b)]

    return fn


def _fmt(atoms: list[Atom]) -> str:
    return "[" + ", ".join(map(str, atoms)) + "]"


for _k in ("assertEqual", "assertAlphaEqual", "assertEqualToResult", "assertAlphaEqualToResult"):
    special(_k, "(-> Atom Atom (->))")(_assert(_k, False))
    special(_k + "Msg", "(-> Atom Atom Atom (->))")(_assert(_k, True))
special("assertIncludes", "(-> Atom Expression (->))")(_assert("assertIncludes", False))


@special("get-type", "(-> Atom Atom)")
def _get_type(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1) or _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    x = a[0]
    if type(x) is Symbol and x.name in it.tokens:
        x = it.tokens[x.name]
    out: list[Pair] = []
    for t in it._types_of(x):  # like hyperon, a type is evaluated: `(Vec Number (+ 1 1))` -> `(Vec Number 2)`
        out.extend((yield (t, b)) if type(t) is Expression else [(t, b)])
    return out


@special("get-metatype", "(-> Atom Atom)")
def _get_metatype(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    return [(Symbol(metatype(a[0])), b)] if a is not None else _wrong_arity(atom, b)
    yield  # pragma: no cover


def _space_then(fn: Callable[[Interpreter, Any, tuple[Atom, ...], Expression, Bindings], list[Pair]], n: int) -> Special:
    def handler(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, n)
        if a is None:
            return _wrong_arity(atom, b)
        out: list[Pair] = []
        for sp, bb in (yield (a[0], b)):
            space = it._space_of(sp)
            if space is None:
                out.append((error(atom, "expected a space as the first argument"), bb))
                continue
            out.extend(fn(it, space, tuple(bb.resolve(x) for x in a[1:]), atom, bb))
        return out

    return handler


def _add_atom(it: Interpreter, sp: Any, a: tuple[Atom, ...], atom: Expression, b: Bindings) -> list[Pair]:
    it._add(sp, a[0])
    return [(UNIT, b)]


def _remove_atom(it: Interpreter, sp: Any, a: tuple[Atom, ...], atom: Expression, b: Bindings) -> list[Pair]:
    it._remove(sp, a[0])
    return [(UNIT, b)]


special("add-atom", "(-> SpaceType Atom (->))")(_space_then(_add_atom, 2))
special("remove-atom", "(-> SpaceType Atom (->))")(_space_then(_remove_atom, 2))
special("get-atoms", "(-> SpaceType Atom)")(
    _space_then(lambda it, sp, a, atom, b: [(x, b) for x in it._atoms_of(sp)], 1))


@special("new-space", "(-> SpaceType)")
def _new_space(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    return [(SpaceAtom(MemorySpace()), b)]
    yield  # pragma: no cover


@special("new-state", "(-> $t (StateMonad $t))")
def _new_state(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    out: list[Pair] = []
    for v, bb in (yield (a[0], b)):
        v = bb.resolve(v)
        if is_error(v) and v != a[0]:  # like hyperon: an error the argument reduced to is the result
            out.append((v, bb))
            continue
        out.append((StateAtom(v, it._types_of(v)[0] if it._types_of(v) else UNDEFINED), bb))
    return out


@special("get-state", "(-> (StateMonad $t) $t)")
def _get_state(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    out = []
    for s, bb in (yield (a[0], b)):
        out.append((s.current, bb) if isinstance(s, StateAtom) else (error(atom, "get-state expects a state"), bb))
    return out


@special("change-state!", "(-> (StateMonad $tcso) $tcso (StateMonad $tcso))")
def _change_state(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    out: list[Pair] = []
    for s, bb in (yield (a[0], b)):
        if not isinstance(s, StateAtom):
            out.append((error(atom, "change-state! expects a state"), bb))
            continue
        want = s.value_type
        written = bb.resolve(a[1])
        have = it._types_of(written)
        if have and not _fits_state(have, want):  # checked as written first, like hyperon
            out.append((error(Expression((atom.children[0], s, written)), Expression(
                (Symbol("BadArgType"), Integer(2), want, have[0]))), bb))
            continue
        for v, b2 in (yield (a[1], bb)):
            v = b2.resolve(v)
            if is_error(v) and v != a[1]:  # like hyperon: an error the argument reduced to is the result
                out.append((v, b2))
                continue
            have = it._types_of(v)
            if have and not _fits_state(have, want):  # the value it reduced to
                out.append((error(v, Expression((Symbol("BadType"), want, have[0]))), b2))
                continue
            s.set(v)
            out.append((s, b2))
    return out


def _fits_state(have: list[Atom], want: Atom) -> bool:
    """Whether a value of these types may go into a state of type `want`.

    As in hyperon 0.2.10: a state of undefined type takes only values of
    undefined type; a state of a defined type takes values of that type or of
    undefined type.
    """
    return any(t == UNDEFINED or (want != UNDEFINED and match_types(t, want, EMPTY_BINDINGS) is not None) for t in have)


@special("bind!", "(-> Symbol %Undefined% (->))")
def _bind(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    if type(a[0]) is not Symbol:  # e.g. a token bound before: it was replaced by its value
        return [(error(atom, Expression((Symbol("BadArgType"), Integer(1), Symbol("Symbol"),
                                         it._types_of(a[0])[0] if it._types_of(a[0]) else UNDEFINED))), b)]
    rs = yield (a[1], b)
    if rs:
        value = rs[0][1].resolve(rs[0][0])
        if is_error(value) and value != a[1]:  # like hyperon: an error the argument reduced to is the result
            return [(value, b)]
        it.tokens[a[0].name] = value
    return [(UNIT, b)]


@special("pragma!", "(-> Symbol Symbol (->))")
def _pragma(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    key, value = (str(x) for x in a)
    if key == "type-check":
        it.type_check = value == "auto"
    elif key == "max-stack-depth":
        try:
            n = int(value)
        except ValueError:
            return [(error(atom, "max-stack-depth expects a number"), b)]
        it.max_depth = n if n > 0 else 1_000_000
    return [(UNIT, b)]
    yield  # pragma: no cover


@special("println!", "(-> %Undefined% (->))")
def _println(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    out: list[Pair] = []
    for v, bb in (yield (a[0], b)):
        v = bb.resolve(v)
        it._print(v.value if type(v) is String else str(v))
        out.append((UNIT, bb))
    return out


@special("trace!", "(-> %Undefined% $a $a)")
def _trace(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    for v, bb in (yield (a[0], b)):
        sys.stderr.write(str(bb.resolve(v)) + "\n")
    return (yield (a[1], b))


def _doc_formal(it: Interpreter, space: Any, target: Atom) -> Atom | None:
    """hyperon 0.2.10's `@doc-formal` for a documented atom of a space, None when it has no `@doc`.

    An atom whose type is a function type needs the function form `(@doc f (@desc d)
    (@params ((@param d1) ...)) (@return r))` (parameter and return types come from
    the type); other atoms take the function form with undefined types or the
    atom form `(@doc a (@desc d))`.
    """
    doc_s, desc_s, params_s, ret_s = Symbol("@doc"), Symbol("@desc"), Symbol("@params"), Symbol("@return")
    types = it._types_of(target) if type(target) is not Variable else [UNDEFINED]
    t = types[0] if types else UNDEFINED
    d, ps, r = fresh_variable("d"), fresh_variable("p"), fresh_variable("r")
    fn_pat = Expression((doc_s, target, Expression((desc_s, d)), Expression((params_s, ps)), Expression((ret_s, r))))
    found = it._query(space, fn_pat, EMPTY_BINDINGS)
    is_fn = type(t) is Expression and bool(t.children) and t.children[0] == ARROW
    type_t = Symbol("@type")
    if found:
        bb = found[0]
        params = bb.resolve(ps)
        pdocs = list(params.children) if type(params) is Expression else []
        if is_fn:
            ptypes: list[Atom] = list(t.children[1:-1])  # type: ignore[attr-defined]
            rtype = t.children[-1]  # type: ignore[attr-defined]
        else:
            ptypes, rtype = [], UNDEFINED
        items = []
        for i, p in enumerate(pdocs):
            pd = p.children[1] if type(p) is Expression and len(p.children) == 2 else p
            items.append(Expression((Symbol("@param"), Expression((type_t, ptypes[i] if i < len(ptypes) else UNDEFINED)),
                                     Expression((desc_s, pd)))))
        return Expression((Symbol("@doc-formal"), Expression((Symbol("@item"), target)),
                           Expression((Symbol("@kind"), Symbol("function"))), Expression((type_t, t)),
                           Expression((desc_s, bb.resolve(d))), Expression((params_s, Expression(items))),
                           Expression((ret_s, Expression((type_t, rtype)), Expression((desc_s, bb.resolve(r)))))))
    if is_fn:
        return None
    found = it._query(space, Expression((doc_s, target, Expression((desc_s, d)))), EMPTY_BINDINGS)
    if not found:
        return None
    return Expression((Symbol("@doc-formal"), Expression((Symbol("@item"), target)),
                       Expression((Symbol("@kind"), Symbol("atom"))), Expression((type_t, t)),
                       Expression((desc_s, found[0].resolve(d)))))


def _plain(a: Atom) -> str:
    return a.value if type(a) is String else str(a)


@special("help!", "(-> Atom (->))")
def _help(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return _wrong_arity(atom, b)
    doc = _doc_formal(it, it.space, a[0])
    if doc is None:
        it._print(f"No documentation found for {a[0]}")
        return [(UNIT, b)]
    parts = {k.children[0].name: k.children[1:] for k in doc.children[1:]}  # type: ignore[attr-defined]
    kind, t, desc = parts["@kind"][0], parts["@type"][0], _plain(parts["@desc"][0])
    if str(kind) == "function":
        lines = [f"Function {a[0]}: {t} {desc}", "Parameters:"]
        for p in parts["@params"][0].children:
            lines.append(f"  (type {p.children[1].children[1]}) {_plain(p.children[2].children[1])}")
        ret = parts["@return"]
        lines.append(f"Return: (type {ret[0].children[1]}) {_plain(ret[1].children[1])}")
        it._print("\n".join(lines))
    else:
        it._print(f"Atom {a[0]}: {t} {desc}")
    return [(UNIT, b)]
    yield  # pragma: no cover


@special("get-doc", "(-> SpaceType Atom %Undefined%)")
def _get_doc(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    out: list[Pair] = []
    for sp, bb in (yield (a[0], b)):
        space = it._space_of(sp)
        if space is None:  # as hyperon's typed `get-doc` reports it
            have = it._types_of(sp)
            out.append((error(atom, Expression((Symbol("BadArgType"), Integer(1), Symbol("SpaceType"),
                                                have[0] if have else UNDEFINED))), bb))
            continue
        doc = _doc_formal(it, space, bb.resolve(a[1]))
        if doc is not None:
            out.append((doc, bb))
    return out


@special("import!", "(-> Atom Atom (->))")
def _import(it: Interpreter, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 2)
    if a is None:
        return _wrong_arity(atom, b)
    target, name = a
    rel = name.value if type(name) is String else str(name).replace(":", os.sep)
    if not rel.endswith(".metta"):
        rel += ".metta"
    path = os.path.abspath(os.path.join(it.base_dir, rel))
    allowed = [it.base_dir, *it.allow_import]
    if not any(os.path.commonpath([path, root]) == root for root in allowed):
        return [(error(atom, f"import! may only read files under {it.base_dir} (use --allow-import PATH)"), b)]
    if not os.path.isfile(path):
        return [(error(atom, f"module not found: {rel}"), b)]
    label = name.value if type(name) is String else str(name)
    module = it.modules.get(path)
    if module is None:  # load the module once per run, into a space of its own
        with open(path, encoding="utf-8") as f:
            text = f.read()
        module = it.modules[path] = ModuleSpaceAtom(MemorySpace(), label)
        sub = Interpreter(module.value, max_steps=it.max_steps, max_depth=it.max_depth, out=it.out,
                          base_dir=os.path.dirname(path), allow_import=it.allow_import, readonly=it.readonly)
        sub.modules, sub.imported = it.modules, it.imported
        sub.self_atom = sub.tokens["&self"] = module
        for bang, x in parse_script(text, path):
            if bang:
                sub.evaluate(x)
            else:
                sub._add(module.value, x)
    if type(target) is Symbol and target.name not in it.tokens:  # a fresh token names the module's space
        it.tokens[target.name] = module
        return [(UNIT, b)]
    space: Any = it._space_of(target)
    if space is None or space is not it.space:
        found = it.tokens.get(target.name, target) if type(target) is Symbol else target
        msg = ("import! destination argument must be a symbol atom naming a new space, or &self.  "
               f"Found: {{{found}}}")
        return [(error(Expression((atom.children[0], found, name)), Symbol(msg)), b)]
    key = (id(space), path)
    if key not in it.imported:  # a second import of the same module adds nothing
        it.imported.add(key)
        for x in module.value.atoms():
            it._add(space, x)
        it._invalidate()
    return [(UNIT, b)]
    yield  # pragma: no cover


def format_results(results: list[Atom]) -> str:
    """One `!` line's results as hyperon's `metta` prints them: `[r1, r2]`."""
    return "[" + ", ".join(str(r) for r in results) + "]"

