"""Two-sided unification with occurs check over an explicit stack.

`unify(a, b, bindings)` returns the extended `Bindings` or `None`; it never
raises on a mismatch and never recurses, so atoms thousands of levels deep are
fine.  Variables of a stored atom must be renamed apart by the caller (the
store decodes them fresh), as hyperon does.
"""

from __future__ import annotations

from .atoms import Atom, Expression, Float, Integer, Variable, same_number
from .bindings import EMPTY_BINDINGS, Bindings

__all__ = ["match_atoms", "occurs", "unify"]


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


def unify(a: Atom, b: Atom, bindings: Bindings = EMPTY_BINDINGS) -> Bindings | None:
    """The most general bindings under which `a` and `b` are equal, or None."""
    d = bindings.links
    new: dict[Variable, Atom] | None = None
    stack: list[tuple[Atom, Atom]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        cur = new if new is not None else d
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
            if type(x) is Float and x.value != x.value:
                return None  # NaN: one atom, but no number equals it (hyperon)
            continue
        tx, ty = type(x), type(y)
        if tx is Variable:
            if ty is Variable:
                if x == y:
                    continue
                if "#" in x.name and "#" not in y.name:  # type: ignore[attr-defined]
                    # keep the caller's variable as the representative, as hyperon does
                    x, y = y, x
                if new is None:
                    new = dict(d)
                new[y] = x  # type: ignore[index]
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
                return None
            xc, yc = x.children, y.children  # type: ignore[attr-defined]
            if len(xc) != len(yc):
                return None
            stack.extend(zip(reversed(xc), reversed(yc)))  # left to right, as hyperon binds
        elif x != y:
            # numbers unify by value, as hyperon's grounded equality compares them (`2` and `2.0`)
            if not ((tx is Integer or tx is Float) and (ty is Integer or ty is Float) and same_number(x, y)):
                return None
        elif tx is Float and x.value != x.value:  # type: ignore[attr-defined]
            return None
    if new is None:
        return bindings
    return Bindings.from_links(new)


def match_atoms(pattern: Atom, atom: Atom) -> Bindings | None:
    """Unify two atoms from scratch (no prior bindings)."""
    return unify(pattern, atom, EMPTY_BINDINGS)
