"""Rule bodies as templates: instantiating `(= head body)` rebuilds only the paths holding head variables.

A rule whose head is `(f $a $b ...)` (distinct variables) gets a builder: a generated function of a
ground call's children that builds the instance directly (no dictionary, recursion or checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..atoms import Atom, Expression, Variable, trusted_expression
from ..bindings import Bindings

__all__ = ["BUILD_DEPTH", "FALLBACK", "TEMPLATE_DEPTH", "body_builder", "body_template", "instantiate"]

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


#: nesting past which a builder instantiates through `instantiate` (a generated expression this deep
#: would strain Python's compiler)
BUILD_DEPTH = 40

Builder = Callable[[tuple[Atom, ...]], Atom]


class _TooDeep(Exception):
    pass


def body_builder(body: Atom, params: tuple[Variable, ...]) -> Builder:
    """The instance of a rule's body for a ground call, as a function of the call's children (the head's
    distinct variables `params` are children 1..n)."""
    template = body_template(body, set(params))
    if template is not FALLBACK:
        consts: list[Atom] = []
        where = {v: i + 1 for i, v in enumerate(params)}

        def emit(a: Atom, t: Any, depth: int) -> tuple[str, bool]:
            """Python source building the node, and whether the node is ground once built."""
            if depth > BUILD_DEPTH:
                raise _TooDeep
            if t is None:  # unchanged: the body's own atom
                consts.append(a)
                return f"c[{len(consts) - 1}]", not (type(a) is Variable or (type(a) is Expression and not a.ground))
            if type(t) is Variable:  # a head variable: the call's (ground) argument
                return f"a[{where[t]}]", True
            parts = [emit(c, k, depth + 1) for c, k in zip(*t)]
            ground = all(g for _, g in parts)
            return "mk((" + "".join(code + ", " for code, _ in parts) + f"), {ground})", ground

        try:
            code, _ = emit(body, template, 0)
        except _TooDeep:
            pass
        else:  # (the source names only `a`, `c` and `mk`: no text of the program is in it)
            built: Builder = eval("lambda a: " + code, {"c": consts, "mk": trusted_expression})
            return built

    def slow(args: tuple[Atom, ...]) -> Atom:
        d: dict[Variable, Atom] = dict(zip(params, args[1:]))
        return Bindings(d).resolve(body) if template is FALLBACK else instantiate(body, template, d)
    return slow
