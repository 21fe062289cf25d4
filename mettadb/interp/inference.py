"""How hyperon 0.2.10 infers the types of atoms (used by `types`, the type checker).

An atom's types: a variable's is `%Undefined%`; a grounded atom has the type of
its value; a symbol has the types declared for it with `(: sym T)` (else
`%Undefined%`).  An expression has two kinds of types:

* as a tuple: the product of its children's types (a function type in the head
  position does not count), kept when every child's type is defined (0.2.10's
  rule), plus the types declared for the whole expression;
* as an application, when its head has function types `(-> A1 .. An R)`: for
  each, the arguments' types are matched against `A1 .. An` with one set of
  type-variable bindings across all arguments, and each way that succeeds gives
  `R` under those bindings.  The wrong number of arguments or a mismatch gives
  no type at all: partial and ill-typed applications have none (`[]`).

`%Undefined%` matches any type, on either side.  An argument whose meta-type
(`Atom`, `Symbol`, `Variable`, `Grounded`, `Expression`) is the expected type
always matches.  The head may itself be an application: `((compose f g) x)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from ..atoms import Atom, Expression, Grounded, Symbol, Variable, fresh_variable, iter_atoms
from ..bindings import EMPTY_BINDINGS, Bindings
from ..unify import unify
from .core import GROUNDED_NAMES

__all__ = ["ARROW", "UNDEFINED", "TypeEnv", "arg_mismatch", "atom_types", "check_call", "fresh", "is_function_type", "match_types",
           "meta_type"]

ARROW = Symbol("->")
UNDEFINED = Symbol("%Undefined%")
ATOM = Symbol("Atom")
#: at most this many tuple types of one expression are kept (their number is a product)
_MAX_TUPLES = 64


class TypeEnv(Protocol):
    """Where the types come from."""

    def declared_types(self, atom: Atom) -> list[Atom]:
        """Types declared for an atom with `(: atom T)` (builtins' signatures included)."""
        ...

    def grounded_type(self, atom: Atom) -> Atom:
        """The type of a grounded atom's value."""
        ...


_META = {Variable: Symbol("Variable"), Symbol: Symbol("Symbol"), Expression: Symbol("Expression")}
_GROUNDED_META = Symbol("Grounded")


def meta_type(atom: Atom) -> Symbol:
    """`Variable`, `Symbol`, `Expression` or `Grounded` (a grounded operation's name is Grounded)."""
    t = type(atom)
    if t is Symbol and atom.name in GROUNDED_NAMES:  # type: ignore[attr-defined]
        return _GROUNDED_META
    return _META.get(t, _GROUNDED_META)


def is_function_type(t: Atom) -> bool:
    """Whether a type is an arrow `(-> ...)`."""
    return type(t) is Expression and len(t.children) >= 2 and t.children[0] == ARROW


def fresh(t: Atom) -> Atom:
    """A type with its variables renamed apart (each use of a declared type gets its own)."""
    vs = {a: None for a in iter_atoms(t) if type(a) is Variable}  # (a dict: numbered in written order)
    if not vs:
        return t
    return Bindings({v: fresh_variable(v.name) for v in vs}).resolve(t)


def _wild(t: Atom) -> Atom:
    """`%Undefined%` inside a type becomes a fresh variable: it matches anything."""
    if t == UNDEFINED:
        return fresh_variable("u")
    if type(t) is Expression and any(a == UNDEFINED for a in iter_atoms(t)):
        return Expression(tuple(_wild(c) for c in t.children))
    return t


def match_types(have: Atom, want: Atom, b: Bindings) -> Bindings | None:
    """Bindings under which an actual type matches an expected one (None if it cannot)."""
    return unify(_wild(want), _wild(have), b)


def _leaf_types(atom: Atom, env: TypeEnv) -> list[Atom]:
    """The types of an atom that is not an expression with children."""
    if type(atom) is Variable:
        return [UNDEFINED]
    if isinstance(atom, Grounded):
        return [env.grounded_type(atom)]
    return [fresh(t) for t in env.declared_types(atom)] or [UNDEFINED]


def atom_types(atom: Atom, env: TypeEnv, memo: dict[Atom, list[Atom]] | None = None) -> list[Atom]:
    """All types of an atom, as hyperon's `get-type` finds them (before reduction).

    Each child's types are found once and shared by both readings of its expression (finding them
    again for each made a nested head cost 2^depth: `((((a))))`), left to right, depth first, on an
    explicit stack: an expression nested however deep is typed with no Python recursion.  `memo`
    holds the types found for expressions (read, and added to where they hold no type variable:
    those must be fresh for each use), every one met in the walk: typing each level of a deep
    expression in turn is then linear (the caller bounds the memo between walks)."""
    if type(atom) is not Expression or not atom.children:
        return _leaf_types(atom, env)
    if memo is None:
        memo = {}
    # (an expression, its children, the types of the children before `len(seen)`)
    stack: list[tuple[Atom, tuple[Atom, ...], list[list[Atom]]]] = [(atom, atom.children, [])]
    got: list[Atom] = []
    while stack:
        node, kids, seen = stack[-1]
        while len(seen) < len(kids):
            k = kids[len(seen)]
            if type(k) is Expression and k.children:
                known = memo.get(k)
                if known is None:
                    break
                seen.append(known)
                continue
            seen.append(_leaf_types(k, env))
        else:
            stack.pop()
            tuples = _tuple_types(node, kids, env, seen)
            apps = _application_types(kids, env, seen)
            got = [UNDEFINED] if not tuples and apps is None else tuples + (apps or [])
            if all(type(t) is Symbol or (type(t) is Expression and t.ground) for t in got):
                memo[node] = got
            if stack:
                stack[-1][2].append(got)
            continue
        stack.append((k, k.children, []))
    return got


def _tuple_types(atom: Atom, kids: tuple[Atom, ...], env: TypeEnv, seen: list[list[Atom]]) -> list[Atom]:
    rows: list[list[Atom]] = [[]]
    for i in range(len(kids)):
        ts = [t for t in seen[i] if i != 0 or not is_function_type(t)]
        rows = [row + [t] for row in rows for t in ts][:_MAX_TUPLES]
        if not rows:
            break
    out = [Expression(tuple(r)) for r in rows if all(t != UNDEFINED for t in r)]
    return out + [fresh(t) for t in env.declared_types(atom)]


def _application_types(kids: tuple[Atom, ...], env: TypeEnv, seen: list[list[Atom]]) -> list[Atom] | None:
    fn_types = [t for t in seen[0] if is_function_type(t)]
    if not fn_types:
        return None
    args = kids[1:]
    actual = seen[1:]
    out: list[Atom] = []
    for ft in fn_types:
        params = ft.children[1:-1]  # type: ignore[attr-defined]
        if len(params) != len(args):
            continue
        for b in _check_args(args, actual, params, EMPTY_BINDINGS):
            out.append(b.resolve(ft.children[-1]))  # type: ignore[attr-defined]
    return out


def _check_args(args: tuple[Atom, ...], actual: list[list[Atom]], params: Iterable[Atom], b: Bindings) -> list[Bindings]:
    found = [b]
    for arg, have, want in zip(args, actual, params):
        if want == ATOM or want == meta_type(arg):
            continue
        nxt: list[Bindings] = []
        for bb in found:
            for t in have:
                b2 = match_types(t, want, bb)
                if b2 is not None:
                    nxt.append(b2)
        found = nxt
        if not found:
            break
    return found


def check_call(params: tuple[Atom, ...], args: tuple[Atom, ...], types_of: Callable[[Atom], list[Atom]],
               resolve: bool = True) -> tuple[Bindings, list[tuple[int, Atom, Atom]]]:
    """Check a call's arguments, as written, against its parameter types, left to right.

    One set of type-variable bindings serves all arguments, as hyperon checks a
    call before evaluating it: `(== 5 "S")` against `(-> $t $t Bool)` fails at
    argument 2, expected `Number` (bound by argument 1), found `String`.  Returns
    the bindings (to check each argument's value against later) and, when no
    choice of the arguments' types fits, every mismatch hyperon 0.2.10 reports:
    (1-based index, expected type, the argument's type), one per type tried, in
    the order it tries them.  Without `resolve` the expected type is reported as
    declared (`$t`).
    """
    b: Bindings = EMPTY_BINDINGS
    for i, (arg, want) in enumerate(zip(args, params)):
        if want == ATOM or want == meta_type(arg) or type(arg) is Variable:
            continue
        if b.links and b.resolve(want) == ATOM:  # a type variable an `Atom`-typed argument bound
            continue
        have = types_of(arg)
        if not have or have[0] is want:  # ill-typed (its evaluation reports its own error), or plainly right
            continue
        if ATOM in have:  # like hyperon 0.2.10: an `Atom`-typed argument fits any parameter
            b = match_types(ATOM, want, b) or b
            continue
        for t in have:
            b2 = match_types(t, want, b)
            if b2 is not None:
                b = b2
                break
        else:
            # the first fitting type of each argument, left to right, failed: hyperon tries every
            # choice of the arguments' types (a subtype's supertypes, several declarations)
            errors: list[tuple[int, Atom, Atom]] = []
            found = _search(params, args, types_of, resolve, errors)
            if found is not None:
                return found, []
            return b, errors or [(i + 1, b.resolve(want) if resolve else fresh(want), have[0])]
    return b, []


#: at most this many steps of the search over the arguments' types
_MAX_SEARCH = 4096


def _search(params: tuple[Atom, ...], args: tuple[Atom, ...], types_of: Callable[[Atom], list[Atom]], resolve: bool,
            errors: list[tuple[int, Atom, Atom]]) -> Bindings | None:
    """Depth first over each argument's types: the first bindings under which all fit, else None
    with `errors` holding each mismatch met, in hyperon's order (an explicit stack: no recursion)."""
    n = len(params)
    # (argument index, bindings) to go on from, or a mismatch to report when it comes up
    stack: list[tuple[int, Bindings] | tuple[int, Atom, Atom]] = [(0, EMPTY_BINDINGS)]
    steps = 0
    while stack:
        steps += 1
        if steps > _MAX_SEARCH:
            return None
        item = stack.pop()
        if len(item) == 3:
            errors.append(item)
            continue
        i, b = item
        while i < n:  # arguments that need no choice
            arg, want = args[i], params[i]
            if want == ATOM or want == meta_type(arg) or type(arg) is Variable or (b.links and b.resolve(want) == ATOM):
                i += 1
                continue
            have = types_of(arg)
            if not have:
                i += 1
                continue
            if ATOM in have:
                b = match_types(ATOM, want, b) or b
                i += 1
                continue
            break
        if i == n:
            return b
        arg, want = args[i], params[i]
        branches: list[tuple[int, Bindings] | tuple[int, Atom, Atom]] = []
        for t in types_of(arg):
            b2 = match_types(t, want, b)
            if b2 is not None:
                branches.append((i + 1, b2))
            else:
                branches.append((i + 1, b.resolve(want) if resolve else fresh(want), t))
        stack.extend(reversed(branches))
    return None


def arg_mismatch(fn_type: Atom, args: tuple[Atom, ...], types_of: Callable[[Atom], list[Atom]],
                 resolve: bool = True) -> tuple[int, Atom, Atom] | None:
    """The first argument that does not fit a function type `(-> ...)`; see check_call."""
    bad = check_call(fn_type.children[1:-1], args, types_of, resolve)[1]  # type: ignore[attr-defined]
    return bad[0] if bad else None
