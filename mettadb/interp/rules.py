"""Rule bodies as templates: instantiating `(= head body)` rebuilds only the paths holding head variables."""

from __future__ import annotations

from typing import Any

from ..atoms import Atom, Expression, Variable

__all__ = ["FALLBACK", "TEMPLATE_DEPTH", "body_template", "instantiate"]

#: a body too deep to rebuild recursively: resolve it with its bindings instead
FALLBACK = object()
TEMPLATE_DEPTH = 200


def body_template(body: Atom, head_vars: set[Variable]) -> Any:
    """Where a rule body mentions head variables: None (nowhere), the variable itself, or
    `(children, child templates)`; `FALLBACK` for bodies too deep to rebuild recursively."""
    if not head_vars:
        return None
    depth = 0
    stack = [(body, 0)]
    while stack:  # measure the depth first, without recursion
        a, d = stack.pop()
        if d > depth:
            depth = d
            if depth > TEMPLATE_DEPTH:
                return FALLBACK
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


def instantiate(a: Atom, template: Any, d: dict[Variable, Atom]) -> Atom:
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
    return Expression([c if k is None else instantiate(c, k, d) for c, k in zip(children, kids)])


