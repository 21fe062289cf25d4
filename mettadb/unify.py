"""Two-sided unification with occurs check over an explicit stack.

`unify(a, b, bindings)` returns the extended `Bindings` or `None`; it never
raises on a mismatch and never recurses, so atoms thousands of levels deep are
fine.  Variables of a stored atom must be renamed apart by the caller (the
store decodes them fresh), as hyperon does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from .atoms import Atom, Expression, Float, Integer, Regex, Symbol, Variable, iter_atoms, same_number
from .bindings import EMPTY_BINDINGS, Bindings
from .errors import EvaluationError, LimitError
from .trieorder import is_char_name

__all__ = ["MATCHED_PATTERN", "REGEX_BINDS", "SPACE_QUERY", "match_atoms", "occurs", "regex_matches", "unify", "unify_all"]

#: how a space inside an atom is queried with the atom it meets (hyperon matches a space so: by a query
#: of its own): `SPACE_QUERY[0](space_atom, pattern)` gives the query's bindings, or None when the
#: atom is no space this process can query (then it is matched by equality); set by `spaces`
SPACE_QUERY: list[Callable[[Atom, Atom], list[Bindings] | None]] = [lambda _s, _p: None]


class _SpaceMet(Exception):
    """`unify(..., many=True)` met a space with something other than a variable."""


_SPACE_MET = _SpaceMet()


def occurs(var: Variable, atom: Atom, d: dict[Variable, Atom]) -> bool:
    """Whether `var` occurs in `atom` under the links in `d`."""
    stack = [atom]
    seen: set[int] = set()
    while stack:
        a = stack.pop()
        while type(a) is Variable:
            if a == var:
                return True
            nxt = d.get(a)
            if nxt is None:
                break
            a = nxt
        if type(a) is Expression:
            if id(a) in seen:
                continue
            seen.add(id(a))
            stack.extend(a.children)
    return False


class _Scope:
    """A stack entry closing a nested matching of two values (hyperon's `match_values`): the
    groups of the enclosing scope, restored (with the nested ones added) when it is popped."""

    __slots__ = ("outer",)

    def __init__(self, outer: set[Variable] | None) -> None:
        self.outer = outer


_SCOPE_END = _Scope(None)


def _via_new(v: Atom, d: dict[Variable, Atom], cur: dict[Variable, Atom]) -> bool:
    """Whether following `v`'s links passes a link made by this unification (one not in `d`)."""
    while type(v) is Variable:
        n = cur.get(v)
        if n is None:
            return False
        if v not in d:
            return True
        v = n
    return False


def unify(a: Atom, b: Atom, bindings: Bindings = EMPTY_BINDINGS, many: bool = False) -> Bindings | None:
    """The most general bindings under which `a` and `b` are equal, or None.

    A space meeting anything but a variable matches as hyperon matches it, by a query of its own
    (`unify_all`, which gives every result; here the first); with `many`, that raises `_SpaceMet`.

    Variables meeting variables are named as hyperon 0.2.10 names them where its choice does not
    depend on hash order: hyperon matches the two atoms (as the incoming bindings instantiate
    them) from scratch and then merges the incoming bindings in, so a variable new to this
    matching joins a group the matching made (which keeps its name), two new ones are named
    after the left one (`a`'s), and an incoming group takes the name the matching gave it.
    A variable's value met again is matched from scratch in its own scope, the earlier value on
    the left.
    """
    d = bindings.links
    new: dict[Variable, Atom] | None = None
    #: variables in groups of equal variables this matching made, in the current scope
    made: set[Variable] | None = None
    stack: list[tuple[Atom, Atom]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        cur = new if new is not None else d
        x0, y0 = x, y
        while type(x) is Variable:
            n = cur.get(x)
            if n is None:
                break
            x = n
        while type(y) is Variable:
            n = cur.get(y)
            if n is None:
                break
            y = n
        if x is y:
            tx = type(x)
            if tx is Float:
                if x.value != x.value:  # type: ignore[attr-defined]
                    return None  # NaN: one atom, but no number equals it (hyperon)
            elif tx is Variable:
                if new is None and made is None:
                    made = {x}  # type: ignore[arg-type]  # (hyperon: a variable met by itself first makes a group of one)
            elif tx is Expression:
                # (one expression met by itself: equal, unless a space inside matches itself by a
                # query, which `unify_all` looks for)
                if many and _holds_queryable(x):
                    raise _SPACE_MET
            elif tx is not Symbol and getattr(x, "matches_by_query", False):
                return _met(a, b, bindings, many)  # (a space matches itself by a query of its own)
            continue
        tx, ty = type(x), type(y)
        if tx is Variable:
            if ty is Variable:
                if x == y:
                    if new is None and made is None:
                        made = {x}  # type: ignore[arg-type]
                    continue
                if "#" in x.name:  # type: ignore[attr-defined]
                    if "#" not in y.name:  # type: ignore[attr-defined]
                        # keep the caller's variable as the representative, as hyperon does
                        x, y = y, x
                elif made is not None and y in made and x not in made and "#" not in y.name:  # type: ignore[attr-defined]
                    x, y = y, x  # x joins y's group, which keeps its name
                if new is None:
                    new = dict(d)
                new[y] = x  # type: ignore[index]
                if made is None:
                    made = {x, y}  # type: ignore[arg-type]
                else:
                    made.add(x)  # type: ignore[arg-type]
                    made.add(y)  # type: ignore[arg-type]
                continue
            if ty is Expression and occurs(x, y, cur):  # type: ignore[arg-type]
                return None
            if new is None:
                new = dict(d)
            new[x] = y  # type: ignore[index]
        elif ty is Variable:
            if tx is Expression and occurs(y, x, cur):  # type: ignore[arg-type]
                return None
            if new is None:
                new = dict(d)
            new[y] = x  # type: ignore[index]
        elif tx is Expression:
            if ty is not Expression:
                return _met(a, b, bindings, many) if getattr(y, "matches_by_query", False) else None
            xc, yc = x.children, y.children  # type: ignore[attr-defined]
            if len(xc) != len(yc):
                return None
            if new is not None and (x is not x0 or y is not y0):
                via_x = x is not x0 and _via_new(x0, d, new)
                via_y = y is not y0 and _via_new(y0, d, new)
                if via_x or via_y:
                    # a value this matching gave meets another value: hyperon matches the two
                    # from scratch (the earlier value on the left) and merges the rest in
                    if via_y and not via_x:
                        xc, yc = yc, xc
                    stack.append((_Scope(made), _SCOPE_END))  # type: ignore[arg-type]
                    made = None
            stack.extend(zip(reversed(xc), reversed(yc)))  # left to right, as hyperon binds
        elif x != y:
            if tx is _Scope:  # type: ignore[comparison-overlap]
                inner, made = made, x.outer  # type: ignore[attr-defined]
                if inner:
                    made = inner if made is None else made | inner
                continue
            # numbers unify by value, as hyperon's grounded equality compares them (`2` and `2.0`)
            if not ((tx is Integer or tx is Float) and (ty is Integer or ty is Float) and same_number(x, y)):
                if getattr(x, "matches_by_query", False) or getattr(y, "matches_by_query", False):
                    return _met(a, b, bindings, many)
                return None
        elif tx is Float and x.value != x.value:  # type: ignore[attr-defined]
            return None
        elif tx is Regex:
            return _met(a, b, bindings, many)  # (two equal regexes: one searches the other's text)
    if new is None:
        return bindings
    return Bindings.from_links(new)


def _met(a: Atom, b: Atom, bindings: Bindings, many: bool) -> Bindings | None:
    """`unify`'s answer where a space met something other than a variable."""
    if many:
        raise _SPACE_MET
    got = _space_matches(a, b, bindings, False)
    return got[0] if got else None


def unify_all(a: Atom, b: Atom, bindings: Bindings = EMPTY_BINDINGS, stored: bool = False) -> list[Bindings]:
    """Every way `a` and `b` unify: one at most, unless a space inside one meets something other
    than a variable, which hyperon matches by querying the space with it (each of the query's
    results is a match).  Where two spaces meet, `a`'s is queried with `b`'s; with `stored` (`b`
    is an atom of a space that `a` queries, which hyperon's index puts first), `b`'s with `a`'s."""
    try:
        r = unify(a, b, bindings, True)
    except _SpaceMet:
        return _space_matches(a, b, bindings, stored)
    return [] if r is None else [r]


def _space_matches(a: Atom, b: Atom, bindings: Bindings, stored: bool) -> list[Bindings]:
    """`unify_all` where a space is met: hyperon's matching of the two atoms (as the bindings
    instantiate them) from scratch, each result merged into the bindings."""
    x, y = bindings.resolve(a), bindings.resolve(b)
    depth = getattr(_NESTED, "depth", 0)
    if depth >= _MAX_NESTED:  # (a space holding an atom that holds it, queried with itself)
        raise LimitError(f"a space inside an atom was queried {_MAX_NESTED} levels deep, each query meeting "
                         "a space again (hyperon overflows its stack there)")
    _NESTED.depth = depth + 1
    try:
        out: list[Bindings] = []
        for r in _match_set(x, y, stored):
            if MATCHED_PATTERN in r.links:  # (hyperon's queries and operations drop it after the matching)
                r = Bindings.from_links({v: t for v, t in r.links.items() if v != MATCHED_PATTERN})
            out.extend(_merge(bindings, r))
        return out
    finally:
        _NESTED.depth = depth


#: how many `_space_matches` of this thread are under way, one inside another's space query
_NESTED = threading.local()
_MAX_NESTED = 100


def _queryable(a: Atom) -> bool:
    return bool(getattr(a, "matches_by_query", False))


def _own_match(a: Atom) -> bool:
    """Whether hyperon gives the atom a match of its own, by equality: a Char (`'c'`) or a Python
    object (grounded Python objects there, not spaces)."""
    if type(a) is Symbol:
        return is_char_name(a.name)
    return bool(getattr(a, "keyed_with_variables", False)) and not _queryable(a)


def _holds_queryable(a: Atom) -> bool:
    t = type(a)
    if t is Expression:
        return any(type(k) is not Expression and _queryable(k) for k in iter_atoms(a))
    return t is not Symbol and t is not Variable and _queryable(a)


def _match_set(x: Atom, y: Atom, stored: bool) -> list[Bindings]:
    """hyperon's `match_atoms` of two atoms, from scratch: a variable binds to anything; an
    expression's children match in turn, their results merged (a later child's results vary
    slowest); a space meeting anything else is queried with it (where two meet, x's, or y's if
    `stored`); anything else is equal or not."""
    tx, ty = type(x), type(y)
    if tx is Variable or ty is Variable or not (_holds_queryable(x) or _holds_queryable(y)):
        r = unify(x, y)
        return [] if r is None else [r]
    if tx is Expression and ty is Expression:
        if len(x.children) != len(y.children):  # type: ignore[attr-defined]
            return []
        acc = [EMPTY_BINDINGS]
        for cx, cy in zip(x.children, y.children):  # type: ignore[attr-defined]
            sub = _match_set(cx, cy, stored)
            acc = [m for o in sub for c in acc for m in _merge(c, o)]
            if not acc:
                break
        return acc
    space, other = (y, x) if _queryable(y) and (stored or not _queryable(x)) else (x, y)
    if type(space) is Regex:
        if other is (y if stored else x) and _own_match(other):
            # hyperon asks the left atom of a matching first: a Char or a Python object there
            # matches by its own equality, never by the regex's search
            return []
        # hyperon's binding of `matched_pattern` (a name no query variable has): two regexes of
        # other patterns in one matching disagree on it, and the matching fails
        seen = None if stored else getattr(REGEX_BINDS, "var", None)
        name = MATCHED_PATTERN if seen is None else seen
        return [Bindings({name: Symbol(space.pattern)})] if regex_matches(space, other) else []
    got = SPACE_QUERY[0](space, other)
    if got is None:  # (a space this process cannot query: equal or not)
        return [EMPTY_BINDINGS] if x == y else []
    keep = {v for v in iter_atoms(other) if type(v) is Variable}
    return [r.restrict(keep) if keep else EMPTY_BINDINGS for r in got]


#: the variable a regex's match binds to its pattern (a name the parser never reads)
MATCHED_PATTERN = Variable("matched_pattern (a regex's)")
#: the variable a regex's match binds outside a query (`unify`, `case`, `let`), where hyperon renames no
#: variable: its `$matched_pattern`, which its interpreter keeps while the `!` expression evaluated
#: names it (then a `$matched_pattern` written there sees the pattern); None: `MATCHED_PATTERN`,
#: dropped after the matching.  Set per thread by the interpreter (`REGEX_BINDS.var`).
REGEX_BINDS = threading.local()


def regex_matches(rx: Regex, atom: Atom) -> bool:
    """hyperon's match of a regex with an atom: a case-insensitive search in the atom's printed text
    (a string's without its quotes), each whitespace run made one space; an invalid regular
    expression is an `EvaluationError` (hyperon's Python exception aborts its process)."""
    text = str(atom)
    if len(text) > 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    try:
        return re.search(rx.pattern, " ".join(text.split()), re.IGNORECASE) is not None
    except re.error as e:
        raise EvaluationError(f"{rx.value}: invalid regular expression ({e})") from None


def _merge(into: Bindings, extra: Bindings) -> list[Bindings]:
    """Every way the links of `extra` hold together with `into`."""
    out = [into]
    for v, value in extra.links.items():
        out = [m for cur in out for m in unify_all(v, value, cur)]
        if not out:
            break
    return out


def match_atoms(pattern: Atom, atom: Atom) -> Bindings | None:
    """Unify two atoms from scratch (no prior bindings)."""
    return unify(pattern, atom, EMPTY_BINDINGS)
