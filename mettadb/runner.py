"""Running MeTTa scripts against a space, the way hyperon's `metta` runner does.

Atoms without `!` are added to the space (type-checked first under
`!(pragma! type-check auto)`); each `!expr` is evaluated in order.  An atom
the space already held before the run began is not added again, so running a
script twice leaves the space as running it once (within one run, copies
are kept, as hyperon keeps them); `duplicates=True` always adds.
An `(Error ...)` result is a value (printed), and, like hyperon's runner, no
later `!` runs after one returned an error.  A NUL byte ends the script, as it
ends it for hyperon (what follows is not read), and a last `!` with no atom after
it is ignored, as hyperon ignores it.  A host-level failure (exception,
interrupt, limit) propagates, and the caller's transaction rolls back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from .atoms import Atom, Expression, Symbol, rebuild
from .encoding import encode_with_names
from .errors import EvaluationError, ParseError
from .interp import Interpreter, is_error
from .parser import DANGLING_BANG, parse_script_lines
from .spaces import holds_session_object

__all__ = ["RunResult", "run_script", "script_items"]


def script_items(text: str, source: str) -> Iterator[tuple[bool, Atom, int]]:
    """The script's items with their lines; a last `!` with nothing after it is dropped (as
    hyperon's `metta` drops it)."""
    try:
        yield from parse_script_lines(text, source)
    except ParseError as e:
        if e.message != DANGLING_BANG:
            raise


class RunResult(list):  # type: ignore[type-arg]
    """The result lists of each `!` in order; `.stopped_on_error` tells whether the run stopped early."""

    stopped_on_error: bool = False


def run_script(interp: Interpreter, text: str, source: str = "<string>",
               on_result: Callable[[Atom, list[Atom]], None] | None = None,
               step: Callable[[], AbstractContextManager[Any]] | None = None, duplicates: bool = False) -> RunResult:
    """Run a script with an interpreter; returns the results of each `!`.

    With `step` (e.g. `Space.transaction`), each `!` and the atoms before it run
    inside one `step()`: committed together when the `!` is done, undone together
    if it fails.
    """
    cut = text.find("\0")
    if cut >= 0:  # hyperon hands a script to its parser as a C string: what follows a NUL byte is not read
        text = text[:cut]
    out = RunResult()
    count = None if duplicates else getattr(interp.space, "count_path", None)
    # copies this run added (plain atoms and `add-atom`), by path and variable names
    mine: dict[tuple[Any, ...], int] = {}
    saved, interp.adds = interp.adds, mine
    segment: ExitStack | None = None
    objects: dict[str, Atom] | None = None  # the tokens that name objects of this run, once known
    try:
        for bang, atom, line in script_items(text, source):
            if step is not None and segment is None:
                segment = ExitStack()
                segment.enter_context(step())
            if not bang:
                if objects is None:
                    objects = _objects(interp)
                if objects:
                    atom = _with_objects(atom, objects)
                bad = interp.check_added(atom) if interp.type_check else []
                if not bad:
                    encoded = None
                    if count is not None and not (objects and holds_session_object(atom)):
                        try:
                            encoded = encode_with_names(atom)
                        except TypeError:  # (it holds a regex: the session overlay keeps it)
                            encoded = None
                        if encoded is not None and count(encoded[0], encoded[1]) > mine.get((encoded[0], *encoded[1]), 0):
                            continue  # held before this run began
                    interp.add_atom(interp.space, atom, encoded)  # (counted in `mine`)
                    continue
                # `pragma! type-check auto`: a badly typed atom is not added; like hyperon's
                # runner, its error is a result and the run stops there
                out.append(bad)
                if on_result is not None:
                    on_result(atom, bad)
                out.stopped_on_error = True
                break
            bad = interp.check_added(atom) if interp.type_check else []
            try:
                # `type-check auto` checks an `!` expression as written too; its errors are the results
                results = bad if bad else interp.evaluate(atom)
            except EvaluationError as e:
                raise type(e)(f"{source}:{line}: {e} (in !{atom})") from None
            out.append(results)
            objects = None  # (it may have named a new one)
            if segment is not None:
                segment.close()  # commits this `!` and the atoms before it
                segment = None
            if on_result is not None:  # after its commit: what is shown is kept
                on_result(atom, results)
            if any(is_error(r) for r in results):
                out.stopped_on_error = True
                break
        if segment is not None:
            segment.close()
            segment = None
    except BaseException:
        if segment is not None:
            segment.__exit__(*sys.exc_info())  # the open step is undone
        raise
    finally:
        interp.adds = saved
    return out


def _objects(interp: Interpreter) -> dict[str, Atom]:
    """The tokens that name objects of this run (a space or a state that `bind!` named), but
    `&self` (stored as written, it names the space in any run)."""
    return {k: v for k, v in interp.tokens.items() if k != "&self" and holds_session_object(v)}


def _with_objects(atom: Atom, objects: dict[str, Atom]) -> Atom:
    """A plain atom with each token naming an object replaced by it, as hyperon's parser replaces it."""
    def leaf(a: Atom) -> Atom:
        return objects.get(a.name, a) if isinstance(a, Symbol) else a

    out: Atom = rebuild(atom, leaf, lambda e, kids: e if all(x is y for x, y in zip(kids, e.children))
                        else Expression(tuple(kids)))
    return out
