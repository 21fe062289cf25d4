"""An independent reference for matching: a plain recursive unifier and a brute-force query.

Deliberately simple and separate from the engine (it uses only the atom classes, never
mettadb.unify, mettadb.bindings or mettadb.query), so tests can compare the two. Substitutions
are plain dicts from a variable to a term, possibly another variable (followed by `walk`).
Meant for small atoms: it recurses.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from mettadb.atoms import Atom, Expression, Symbol, Variable

Subst = dict[Variable, Atom]

_counter = itertools.count()


def walk(t: Atom, s: Subst) -> Atom:
    """Follow variable links to an unbound variable or a non-variable."""
    while isinstance(t, Variable) and t in s:
        t = s[t]
    return t


def occurs(v: Variable, t: Atom, s: Subst) -> bool:
    """Whether `v` occurs in `t` under `s`."""
    t = walk(t, s)
    if isinstance(t, Variable):
        return t == v
    if isinstance(t, Expression):
        return any(occurs(v, c, s) for c in t.children)
    return False


def unify(a: Atom, b: Atom, s: Subst | None = None) -> Subst | None:
    """A most general unifier extending `s` (a new dict), or None; with occurs check."""
    s = dict(s or {})
    todo = [(a, b)]
    while todo:
        x, y = todo.pop()
        x, y = walk(x, s), walk(y, s)
        if isinstance(x, Variable) and isinstance(y, Variable) and x == y:
            continue
        if isinstance(x, Variable):
            if occurs(x, y, s):
                return None
            s[x] = y
        elif isinstance(y, Variable):
            if occurs(y, x, s):
                return None
            s[y] = x
        elif isinstance(x, Expression) and isinstance(y, Expression):
            if len(x.children) != len(y.children):
                return None
            todo.extend(zip(x.children, y.children))
        elif isinstance(x, Expression) or isinstance(y, Expression):
            return None
        elif type(x) is not type(y) or not _same_leaf(x, y):
            return None
    return s


def _same_leaf(x: Atom, y: Atom) -> bool:
    if isinstance(x, Symbol):
        return x.name == y.name  # type: ignore[attr-defined]
    return bool(x.value == y.value)  # type: ignore[attr-defined]


def resolve(t: Atom, s: Subst) -> Atom:
    """`t` with every bound variable replaced, all the way down."""
    t = walk(t, s)
    if isinstance(t, Expression):
        return Expression([resolve(c, s) for c in t.children])
    return t


def rename_apart(t: Atom) -> Atom:
    """`t` with its variables replaced by ones no query can contain."""
    n = next(_counter)
    if isinstance(t, Variable):
        return Variable(f"{t.name}#oracle{n}")
    if isinstance(t, Expression):
        names: dict[Variable, Variable] = {}

        def go(x: Atom) -> Atom:
            if isinstance(x, Variable):
                return names.setdefault(x, Variable(f"{x.name}#oracle{n}"))
            if isinstance(x, Expression):
                return Expression([go(c) for c in x.children])
            return x

        return go(t)
    return t


def canon(text: str) -> str:
    """Compare results up to variable renaming: number variables by first occurrence."""
    names: dict[str, str] = {}
    return re.sub(r"\$[^\s()]*", lambda m: names.setdefault(m.group(), f"$_{len(names)}"), text)


def conjuncts(pattern: Atom) -> list[Atom]:
    """The parts of `(, p1 ... pn)`, else the pattern alone."""
    if isinstance(pattern, Expression) and pattern.children[:1] == (Symbol(","),):
        return list(pattern.children[1:])
    return [pattern]


def brute(stored: list[Atom], pattern: Atom, template: Atom) -> Counter[str]:
    """Reference query semantics: for each conjunct left to right, unify with every stored atom
    renamed apart; instantiate the template per solution; results as a multiset of canonical texts."""
    results: list[Subst] = [{}]
    for p in conjuncts(pattern):
        results = [s2 for s in results for a in stored if (s2 := unify(p, rename_apart(a), s)) is not None]
    return Counter(canon(str(resolve(template, s))) for s in results)
