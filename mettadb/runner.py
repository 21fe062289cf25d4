"""Running MeTTa scripts against a space, the way hyperon's `metta` runner does.

Atoms without `!` are added to the space (type-checked first under
`!(pragma! type-check auto)`); each `!expr` is evaluated in order.
An `(Error ...)` result is a value (printed), and, like hyperon's runner, no
later `!` runs after one returned an error.  A host-level failure (exception,
interrupt, limit) propagates, and the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .atoms import Atom
from .eval import Interpreter, is_error
from .parser import parse_script

__all__ = ["RunResult", "run_script"]


class RunResult(list):  # type: ignore[type-arg]
    """The result lists of each `!` in order; `.stopped_on_error` tells whether the run stopped early."""

    stopped_on_error: bool = False


def run_script(interp: Interpreter, text: str, source: str = "<string>",
               on_result: Callable[[Atom, list[Atom]], None] | None = None,
               commit: Callable[[], Any] | None = None) -> RunResult:
    """Run a script with an interpreter; returns the results of each `!`."""
    out = RunResult()
    for bang, atom in _items(text, source):
        if not bang:
            bad = interp.check_added(atom) if interp.type_check else None
            if bad is None:
                interp._add(interp.space, atom)
                continue
            # `pragma! type-check auto`: a badly typed atom is not added; like hyperon's
            # runner, its error is a result and the run stops there
            out.append([bad])
            if on_result is not None:
                on_result(atom, [bad])
            out.stopped_on_error = True
            break
        bad = interp.check_added(atom) if interp.type_check else None
        # `type-check auto` checks an `!` expression as written too; its error is the result
        results = [bad] if bad is not None else interp.evaluate(atom)
        out.append(results)
        if on_result is not None:
            on_result(atom, results)
        if commit is not None:
            commit()
        if any(is_error(r) for r in results):
            out.stopped_on_error = True
            break
    return out


def _items(text: str, source: str) -> Iterator[tuple[bool, Atom]]:
    return parse_script(text, source)

