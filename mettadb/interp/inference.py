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

Like hyperon 0.2.10, the walk also keeps each way an application does not fit
(`Failed`: the error its call check reports, in the order of its head's types
and, within one, of the arguments' types, depth first).  An enclosing
application matches such an argument, or uses such a head, as the function type
it failed ((s 1) with `(: s (-> String Bool))` is an `(-> String Bool)` to
`(id (s 1))`); a call check reports its error.

`%Undefined%` matches any type, on either side.  An argument whose meta-type
(`Atom`, `Symbol`, `Variable`, `Grounded`, `Expression`) is the expected type
always matches.  The head may itself be an application: `((compose f g) x)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Union

from ..atoms import Atom, Expression, Grounded, Integer, Symbol, Variable, fresh_variable, iter_atoms
from ..bindings import EMPTY_BINDINGS, Bindings
from ..unify import unify
from .core import GROUNDED_NAMES, error, is_char

__all__ = ["ARROW", "UNDEFINED", "Entry", "Failed", "Mismatch", "TypeEnv", "atom_entries", "atom_types", "check_call",
           "fresh", "is_function_type", "match_types", "meta_type"]

ARROW = Symbol("->")
UNDEFINED = Symbol("%Undefined%")
#: the type of an atom that has none (`UNDEFINED` too, but this object): unlike a declared
#: `%Undefined%` (`let`'s return type), it leaves the tuple types of an expression holding it out
NO_TYPE = Symbol("%Undefined%")
ATOM = Symbol("Atom")
BAD_ARG_TYPE = Symbol("BadArgType")
WRONG_ARITY = Symbol("IncorrectNumberOfArguments")
#: at most this many tuple types of one expression are kept (their number is a product)
_MAX_TUPLES = 64
#: at most this many types and failures of one application are kept (a failure of an argument
#: fails the call once per type of its head: their number grows as a product with the nesting)
_MAX_ENTRIES = 1024


class Failed:
    """One way an application does not fit a function type of its head (see the module's text):
    the error a call check reports, and the function type it counts as further out."""

    __slots__ = ("error", "fn", "ground")

    def __init__(self, fn: Atom, err: Atom) -> None:
        self.fn = fn
        self.error = err
        self.ground: bool = fn.ground and err.ground  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"Failed({self.fn!r}, {self.error!r})"


#: an atom's type, or a way it fails one (`atom_entries`)
Entry = Union[Atom, Failed]
#: what a call check reports of one way its arguments do not fit: (1-based index, expected type,
#: the argument's type), or the error of an argument that is itself an ill-typed application
Mismatch = Union[tuple[int, Atom, Atom], Atom]


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
    """`Variable`, `Symbol`, `Expression` or `Grounded` (a grounded operation's name is Grounded, and
    a Char)."""
    t = type(atom)
    if t is Symbol and (atom.name in GROUNDED_NAMES or is_char(atom)):  # type: ignore[attr-defined]
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
        return [NO_TYPE]
    if isinstance(atom, Grounded):
        return [env.grounded_type(atom)]
    return [fresh(t) for t in env.declared_types(atom)] or [NO_TYPE]


def atom_types(atom: Atom, env: TypeEnv, memo: dict[Atom, list[Atom]] | None = None,
               failed: dict[Atom, list[Entry]] | None = None) -> list[Atom]:
    """All types of an atom, as hyperon's `get-type` finds them (before reduction).

    Each child's types are found once and shared by both readings of its expression (finding them
    again for each made a nested head cost 2^depth: `((((a))))`), left to right, depth first, on an
    explicit stack: an expression nested however deep is typed with no Python recursion.  `memo`
    holds the types found for expressions (read, and added to where they hold no type variable:
    those must be fresh for each use), every one met in the walk: typing each level of a deep
    expression in turn is then linear (the caller bounds the memo between walks).  `failed` holds,
    for those of them that are ill-typed applications, their entries with the failures
    (`atom_entries`)."""
    got, some_failed = atom_entries(atom, env, memo, failed)
    return [t for t in got if not isinstance(t, Failed)] if some_failed else got  # type: ignore[return-value]


def atom_entries(atom: Atom, env: TypeEnv, memo: dict[Atom, list[Atom]] | None = None,
                 failed: dict[Atom, list[Entry]] | None = None) -> tuple[list[Entry], bool]:
    """`atom_types` with the ways the atom, an application, does not fit its head's types among them
    (`Failed`), in hyperon's order; and whether there is such a way."""
    if type(atom) is not Expression or not atom.children:
        return _leaf_types(atom, env), False  # type: ignore[return-value]
    if memo is None:
        memo = {}
    if failed is None:
        failed = {}
    # (an expression, its children, the entries of the children before `len(seen)`)
    stack: list[tuple[Atom, tuple[Atom, ...], list[list[Entry]]]] = [(atom, atom.children, [])]
    got: list[Entry] = []
    some_failed = False
    while stack:
        node, kids, seen = stack[-1]
        while len(seen) < len(kids):
            k = kids[len(seen)]
            if type(k) is Expression and k.children:
                known: list[Entry] | None = memo.get(k)  # type: ignore[assignment]
                if known is None:
                    break
                if failed:
                    known = failed.get(k, known)
                seen.append(known)
                continue
            seen.append(_leaf_types(k, env))  # type: ignore[arg-type]
        else:
            stack.pop()
            tuples = _tuple_types(node, kids, env, seen)
            apps = _application_types(node, kids, seen)
            got = tuples if tuples or apps is not None else [NO_TYPE]  # type: ignore[assignment]
            some_failed = False
            if apps is not None:
                got.extend(apps[0])
                some_failed = apps[1]
            if all(type(t) is Symbol or (type(t) is Expression and t.ground) or (type(t) is Failed and t.ground)
                   for t in got):
                if some_failed:
                    memo[node] = [t for t in got if not isinstance(t, Failed)]
                    failed[node] = got
                else:
                    memo[node] = got  # type: ignore[assignment]  # (no failure: atoms only)
            if stack:
                stack[-1][2].append(got)
            continue
        stack.append((k, k.children, []))
    return got, some_failed


def _tuple_types(atom: Atom, kids: tuple[Atom, ...], env: TypeEnv, seen: list[list[Entry]]) -> list[Atom]:
    rows: list[list[Atom]] = [[]]
    for i in range(len(kids)):
        # (a failure is there the function type it failed: `(1 (s 1))` is `(Number (-> String Bool))`)
        ts = [t.fn if isinstance(t, Failed) else t for t in seen[i]] if i else \
            [t for t in seen[0] if not isinstance(t, Failed) and not is_function_type(t)]
        rows = [row + [t] for row in rows for t in ts][:_MAX_TUPLES]
        if not rows:
            break
    # (an element with no type leaves the tuple out; a declared `%Undefined%` does not)
    out = [Expression(tuple(r)) for r in rows if all(t is not NO_TYPE for t in r)]
    return out + [fresh(t) for t in env.declared_types(atom)]


def _application_types(call: Atom, kids: tuple[Atom, ...], seen: list[list[Entry]]) -> tuple[list[Entry], bool] | None:
    """The entries of an application (None: its head has no function type), and whether a failure
    is among them: for each function type of the head (a failed head counts as the type it failed),
    its return type for each way the arguments' entries fit, else a failure."""
    fn_types = [t.fn if isinstance(t, Failed) else t for t in seen[0] if isinstance(t, Failed) or is_function_type(t)]
    if not fn_types:
        return None
    args = kids[1:]
    actual = seen[1:]
    out: list[Entry] = []
    some_failed = False
    for ft in fn_types:
        params = ft.children[1:-1]  # type: ignore[attr-defined]
        if len(params) != len(args):
            out.append(Failed(ft, error(call, WRONG_ARITY)))
            some_failed = True
        elif _fit(call, ft, args, actual, params, out):
            some_failed = True
    return out, some_failed


def _fit(call: Atom, ft: Atom, args: tuple[Atom, ...], actual: list[list[Entry]], params: tuple[Atom, ...],
         out: list[Entry]) -> bool:
    """Each way the arguments' entries meet the parameters of one function type, depth first over the
    arguments (hyperon's order), added to `out`: the return type under its bindings; where no entry
    of an argument matches, a failure for each (that way goes no further; the expected type as
    declared).  Whether a failure was added."""
    ret = ft.children[-1]  # type: ignore[attr-defined]
    n = len(params)
    some_failed = False
    stack: list[tuple[int, Bindings] | Failed] = [(0, EMPTY_BINDINGS)]
    while stack and len(out) < _MAX_ENTRIES:
        item = stack.pop()
        if type(item) is Failed:
            out.append(item)
            continue
        i, b = item  # type: ignore[misc]
        # (a parameter `%Undefined%` takes the argument as it is, as `Atom` does: its entries make no
        # ways of their own here, unlike in a call check)
        while i < n and (params[i] == ATOM or params[i] == UNDEFINED or params[i] == meta_type(args[i])):
            i += 1
        if i == n:
            out.append(b.resolve(ret))
            continue
        want = params[i]
        branches: list[tuple[int, Bindings] | Failed] = []
        for t in actual[i]:
            if type(want) is Variable and t is not NO_TYPE and (
                    t == UNDEFINED or (b.links and b.resolve(want) == UNDEFINED)):
                # hyperon: a type variable that meets a declared `%Undefined%` (`let`'s return type)
                # takes it, whatever it had, and gives it up for the next type it meets
                # (`(e 1 (let $w a $w))` with `(-> $t $t $t)` is %Undefined%, `(e (let $w a $w) 1)` Number)
                links = dict(b.links)
                links[want] = t.fn if type(t) is Failed else t
                branches.append((i + 1, Bindings.from_links(links)))
                continue
            b2 = match_types(t.fn if type(t) is Failed else t, want, b)  # type: ignore[arg-type]
            if b2 is not None:
                branches.append((i + 1, b2))
        if not branches:  # (an entry that does not match is a failure only when none matches)
            some_failed = True
            for t in actual[i]:
                have = t.fn if type(t) is Failed else t
                branches.append(Failed(ft, error(call, Expression((BAD_ARG_TYPE, Integer(i + 1), want, have)))))  # type: ignore[arg-type]
        stack.extend(reversed(branches))
    return some_failed


def check_call(params: tuple[Atom, ...], args: tuple[Atom, ...], types_of: Callable[[Atom], list[Atom]],
               resolve: bool = True, entries_of: Callable[[Atom], list[Entry]] | None = None,
               ret: Atom | None = None, expect: Atom | None = None) -> tuple[Bindings, list[Mismatch]]:
    """Check a call's arguments, as written, against its parameter types, left to right.

    One set of type-variable bindings serves all arguments, as hyperon checks a
    call before evaluating it: `(== 5 "S")` against `(-> $t $t Bool)` fails at
    argument 2, expected `Number` (bound by argument 1), found `String`.  Returns
    the bindings (to check each argument's value against later) and, when no
    choice of the arguments' types fits, every mismatch hyperon 0.2.10 reports,
    one per way it tries, in the order it tries them: (1-based index, expected
    type, the argument's type), or, with `entries_of` (the types with the
    failures, `atom_entries`), the error of an argument that is an ill-typed
    application, for each way it fails (without, such an argument is passed:
    its evaluation reports its error).  Without `resolve` the expected type is
    reported as declared (`$t`).  With `expect`, the type the context expects, each way through
    the arguments ends with the return type `ret` against it: a mismatch there is `(0, expect,
    the return type)` (hyperon's BadType).
    """
    b: Bindings = EMPTY_BINDINGS
    for i, (arg, want) in enumerate(zip(args, params)):
        if want == ATOM or want == meta_type(arg) or type(arg) is Variable:
            continue
        if b.links and b.resolve(want) == ATOM:  # a type variable an `Atom`-typed argument bound
            continue
        have = types_of(arg)
        if not have:  # ill-typed
            if entries_of is None:
                continue
        elif have[0] is want:  # plainly right
            continue
        elif ATOM in have:  # like hyperon 0.2.10: an `Atom`-typed argument fits any parameter
            b = match_types(ATOM, want, b) or b
            continue
        else:
            b2 = None
            for t in have:
                b2 = match_types(t, want, b)
                if b2 is not None:
                    break
            if b2 is not None:
                b = b2
                continue
        # the first fitting type of each argument, left to right, failed: hyperon tries every
        # choice of the arguments' types (a subtype's supertypes, several declarations)
        errors: list[Mismatch] = []
        found = _search(params, args, entries_of or types_of, resolve, errors, ret, expect)  # type: ignore[arg-type]
        if found is not None:
            return found, []
        if errors:
            return b, errors
        if not have:  # (the search went past its bound)
            return b, [e.error for e in entries_of(arg)[:1] if type(e) is Failed]  # type: ignore[misc]
        return b, [(i + 1, b.resolve(want) if resolve else fresh(want), have[0])]
    if expect is not None and ret is not None:
        rb = _returns(ret, expect, b)
        if rb is not None:
            return rb, []
        errors = []
        found = _search(params, args, entries_of or types_of, resolve, errors, ret, expect)  # type: ignore[arg-type]
        if found is not None:
            return found, []
        return b, errors or [(0, expect, b.resolve(ret))]
    return b, []


def _returns(ret: Atom, expect: Atom, b: Bindings) -> Bindings | None:
    """Bindings under which a call's return type fits the type its context expects (`Atom` and
    `%Undefined%` fit any), or None."""
    if ret == ATOM or expect == ATOM:
        return b
    return match_types(ret, expect, b)


#: at most this many steps of the search over the arguments' types
_MAX_SEARCH = 4096


def _search(params: tuple[Atom, ...], args: tuple[Atom, ...], entries_of: Callable[[Atom], list[Entry]], resolve: bool,
            errors: list[Mismatch], ret: Atom | None = None, expect: Atom | None = None) -> Bindings | None:
    """Depth first over each argument's types: the first bindings under which all fit (and the
    return type `ret` the type `expect`, when given), else None with `errors` holding each mismatch
    met, in hyperon's order (an explicit stack: no recursion)."""
    n = len(params)
    # (argument index, bindings) to go on from, or a mismatch to report when it comes up
    stack: list[tuple[int, Bindings] | Mismatch] = [(0, EMPTY_BINDINGS)]
    steps = 0
    while stack:
        steps += 1
        if steps > _MAX_SEARCH:
            return None
        item = stack.pop()
        if type(item) is not tuple or len(item) == 3:
            errors.append(item)  # type: ignore[arg-type]
            continue
        i, b = item
        while i < n:  # arguments that need no choice
            arg, want = args[i], params[i]
            if want == ATOM or want == meta_type(arg) or type(arg) is Variable or (b.links and b.resolve(want) == ATOM):
                i += 1
                continue
            have = entries_of(arg)
            if not have:
                i += 1
                continue
            if ATOM in have:
                b = match_types(ATOM, want, b) or b
                i += 1
                continue
            break
        if i == n:
            if expect is None or ret is None:
                return b
            b2 = _returns(ret, expect, b)
            if b2 is not None:
                return b2
            errors.append((0, expect, b.resolve(ret)))
            continue
        arg, want = args[i], params[i]
        branches: list[tuple[int, Bindings] | Mismatch] = []
        for t in entries_of(arg):
            if type(t) is Failed:
                branches.append(t.error)
                continue
            b2 = match_types(t, want, b)  # type: ignore[arg-type]
            if b2 is not None:
                branches.append((i + 1, b2))
            else:
                branches.append((i + 1, b.resolve(want) if resolve else fresh(want), t))  # type: ignore[arg-type]
        stack.extend(reversed(branches))
    return None
