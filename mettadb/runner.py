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
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

from .atoms import Atom, Expression, Symbol, rebuild
from .encoding import encode_with_names
from .errors import EvaluationError, ParseError
from .interp import Interpreter, is_error
from .parser import DANGLING_BANG, parse_script_lines
from .spaces import holds_session_object

__all__ = ["RunResult", "ScriptItems", "run_script", "script_items"]


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
    items = ScriptItems(interp, duplicates)
    segment: ExitStack | None = None
    try:
        with items.counting():
            for bang, atom, line in script_items(text, source):
                if step is not None and segment is None:
                    segment = ExitStack()
                    segment.enter_context(step())
                if not bang:
                    bad = items.add(atom)
                    if not bad:
                        continue
                    # `pragma! type-check auto`: a badly typed atom is not added; like hyperon's
                    # runner, its error is a result and the run stops there
                    out.append(bad)
                    if on_result is not None:
                        on_result(atom, bad)
                    out.stopped_on_error = True
                    break
                try:
                    results = items.evaluate(atom)
                except EvaluationError as e:
                    raise type(e)(f"{source}:{line}: {e} (in !{atom})") from None
                out.append(results)
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
    return out


class ScriptItems:
    """What a script's items do to the space, for a run and for a REPL session alike (one session,
    one `ScriptItems`).

    A plain atom (`add`) is read as hyperon's parser reads it: a token (`PI`, what `bind!` named;
    not `&self`) stands for what it names, and an atom so holding an object of this session (a
    state, a space, a Python object), like one holding a regex, goes to the session overlay and
    never to disk. It is
    type-checked under `pragma! type-check auto` (not added when ill-typed: its errors are returned),
    and not added again when the space held it before the session began (copies made within the
    session are kept, as hyperon keeps them; `duplicates=True` always adds).  An `!` expression
    (`evaluate`) is type-checked as written under `type-check auto` (its errors are its results),
    then evaluated."""

    def __init__(self, interp: Interpreter, duplicates: bool = False) -> None:
        self.interp = interp
        self.count = None if duplicates else getattr(interp.space, "count_path", None)
        #: copies this session added (plain atoms and `add-atom`), by path and variable names: those
        #: of the blocks of `counting` that ended, and those of the open one
        self.mine: dict[tuple[Any, ...], int] = {}
        self.open: dict[tuple[Any, ...], int] = {}
        self.objects: dict[str, Atom] | None = None  # the tokens and what they name (`_objects`), once known

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Items go in this block (with the interpreter's own additions, `add-atom`, counted as the
        session's); what it added is forgotten if it fails (its transaction is rolled back)."""
        saved, self.open = self.interp.adds, {}
        self.interp.adds = self.open
        try:
            yield
            mine = self.mine
            for k, n in self.open.items():
                mine[k] = mine.get(k, 0) + n
        finally:
            self.interp.adds = saved
            self.open = {}

    def add(self, atom: Atom) -> list[Atom]:
        """Add a plain atom; the type errors that kept it out (empty when it was added or already held)."""
        interp = self.interp
        if self.objects is None:
            self.objects = _objects(interp)
        objects = self.objects
        held = False  # (only a token's object can put a session object into text)
        if objects:
            atom, held = _with_objects(atom, objects)
        bad = interp.check_added(atom) if interp.type_check else []
        if bad:
            return bad
        encoded = None
        count = self.count
        if count is not None and not held:
            try:
                encoded = encode_with_names(atom)
            except TypeError:  # (it holds a regex: the session overlay keeps it)
                encoded = None
            if encoded is not None:
                key = (encoded[0], *encoded[1])
                if count(encoded[0], encoded[1]) > self.mine.get(key, 0) + self.open.get(key, 0):
                    return []  # held before this session began
        interp.add_atom(interp.space, atom, encoded)  # (counted in `open` while `counting`)
        return []

    def evaluate(self, atom: Atom) -> list[Atom]:
        """The results of an `!` expression (under `type-check auto`, its type errors if it has any)."""
        interp = self.interp
        bad = interp.check_added(atom) if interp.type_check else []
        self.objects = None  # (it may name a new object)
        return bad if bad else interp.evaluate(atom)


def _objects(interp: Interpreter) -> dict[str, Atom]:
    """The tokens that name something other than themselves in this run (`PI`, a space, a state or a
    value that `bind!` named), but `&self` (stored as written, it names the space in any run)."""
    return {k: v for k, v in interp.tokens.items()
            if k != "&self" and not (type(v) is Symbol and v.name == k)}


def _with_objects(atom: Atom, objects: dict[str, Atom]) -> tuple[Atom, bool]:
    """A plain atom with each token replaced by what it names, as hyperon's parser replaces it, and
    whether one of those holds a session object (a state, a space...)."""
    t = type(atom)
    if t is Symbol:
        v = objects.get(atom.name)  # type: ignore[attr-defined]
        return (atom, False) if v is None else (v, holds_session_object(v))
    if t is not Expression:
        return atom, False
    stack = [atom]
    while stack:  # (no generator: this runs for every plain atom of a script)
        for k in stack.pop().children:  # type: ignore[attr-defined]
            tk = type(k)
            if tk is Expression:
                stack.append(k)
            elif tk is Symbol and k.name in objects:
                stack.clear()
                break
        else:
            continue
        break
    else:
        return atom, False
    held = False

    def leaf(a: Atom) -> Atom:
        nonlocal held
        if type(a) is Symbol:
            v = objects.get(a.name)
            if v is not None:
                held = held or holds_session_object(v)
                return v
        return a

    out: Atom = rebuild(atom, leaf, lambda e, kids: e if all(x is y for x, y in zip(kids, e.children))
                        else Expression(tuple(kids)))
    return out, held
