"""The interpreter: hyperon's semantics over a durable space, driven by one loop.

Evaluation is a set of cooperating generators run by one driver loop with an
explicit stack, so a MeTTa program recursing 100 000 deep uses heap, not the
Python stack, and stops with `LimitError` at the configured limit.  A
generator asks for a sub-evaluation by yielding `(atom, bindings)` and
receives the list of `(result, bindings)` pairs back.  Deep in a recursion
(past `TAIL_DEPTH` entries), a call in tail position is a tail call: the
generator returns the generator or the request (`Become`) that takes its
place, so a level keeps at most a small object that does what it would have
done with the results.

Rules `(= head body)` are read from the space through the query engine
(indexed by head) and cached per generation; grounded operations
(`grounded`) run on evaluated arguments; special forms (`forms`) get their
arguments unevaluated.  Errors are `(Error ...)` atoms that propagate.

Order of results, as hyperon 0.2.10's plan stack gives it (docs/NOTES.md,
"Evaluation order"): each generator's result list is the order in which
hyperon's evaluation of that atom delivers them.  hyperon finishes the
alternatives of every step last first, and each evaluation collects its own
and hands them back last first again; so an evaluated argument's results are
taken reversed, and the results of anything one step below a call (a rule's
body, a grounded operation's result, a branch chosen by a rule-defined form)
come back reversed.  Like hyperon's `metta`, a finished evaluation drops its
errors when it has other results, and `Empty` is no result.

Side effects follow hyperon's plan stack too: a step's alternatives (rules,
a grounded operation's results, `superpose`'s items, a query's rows) are
evaluated last first, an evaluated argument's values in the order they come,
each through the rest of the call before the next (depth first); a generator
gathers its results in the order they finish and hands them back reversed.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable
from types import GeneratorType
from typing import Any, TextIO, TypeGuard

from ..atoms import Atom, Expression, Float, Integer, Regex, Symbol, Variable, fresh_variable, iter_atoms, rebuild
from ..bindings import EMPTY_BINDINGS, Bindings
from ..encoding import encode_with_names
from ..errors import LimitError, ReadOnlyError
from ..query import conjuncts, met_by_value, ordered_atoms, ordered_matches, ordered_query, run_query, stored_by_value
from ..spaces import (
    MemorySpace,
    ModuleSpaceAtom,
    Overlay,
    SpaceAtom,
    holds_session_object,
    merged_atoms,
    merged_query,
    next_stored_seq,
    rename_apart,
    session_overlay,
    stored_removable,
)
from ..store import Store
from ..trieorder import atom_tokens, head_tokens, reorder_for
from ..unify import REGEX_BINDS, SPACE_QUERY, unify_all
from . import forms as _forms  # noqa: F401  (registers the special forms)
from .core import (
    ARROW,
    ATOM_T,
    BARE_MINIMAL,
    EQ,
    ERRORS_MADE,
    EXPRESSION_T,
    GROUNDED_TYPES,
    META_TYPES,
    REVERSED,
    RULE_FUNCTION,
    SPECIAL,
    SPECIAL_ARITY,
    SPECIAL_CHECKED,
    SPECIAL_SIGNATURES,
    SPECIAL_TYPES,
    STACK_OVERFLOW,
    TAIL_DEPTH,
    UNDEFINED,
    Become,
    Fail,
    Gen,
    NoReduce,
    Pair,
    Tail,
    Typed,
    error,
    is_error,
    mark_function,
    metatype,
    wrong_arity,
)
from .grounded import BUILTIN_RETURNS, BUILTIN_TYPES, BUILTINS, FINAL_RESULTS, NOEVAL_EXPRESSION_ARGS, QUICK_BUILTINS
from .inference import Failed, Mismatch, check_call, fresh, match_types
from .modules import MODULES
from .pyobjects import IN_PYTHON, PyObject, call_object
from .rules import FALLBACK, body_builder, body_template, instantiate
from .stdlib_space import stdlib_space
from .types import TypeChecker

__all__ = ["DEFAULT_MAX_MEMORY", "Interpreter", "resident_bytes"]

_MISSING = object()
#: the interpreter evaluating on this thread (`_RUNNING.it`), whose view of a space (its imports, the
#: library) a space met inside an atom is queried with
_RUNNING = threading.local()
#: the variable a `!` expression names to see what a regex matched (`unify.REGEX_BINDS`)
_SEES_MATCHED = Variable("matched_pattern")


def _space_query(atom: Atom, pattern: Atom, _next: Any = SPACE_QUERY[0]) -> list[Bindings] | None:
    """`unify.SPACE_QUERY` during an evaluation: a space inside an atom is queried as `match` queries
    it (hyperon's module space reaches its imports and the library)."""
    it = getattr(_RUNNING, "it", None)
    if it is None or not isinstance(atom, SpaceAtom):
        return _next(atom, pattern)  # type: ignore[no-any-return]
    return it.query(atom.value, pattern, EMPTY_BINDINGS, True)  # type: ignore[no-any-return]


SPACE_QUERY[0] = _space_query
#: a call's continuation (`_eval_args`): a method and its first arguments
Then = tuple[Callable[..., Gen], tuple[Any, ...]]
EMPTY = Symbol("Empty")
#: how much one evaluation may grow the process's resident memory by default: a runaway
#: recursion stops at this, in seconds, instead of exhausting the machine
DEFAULT_MAX_MEMORY = 256 << 20
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """The process's resident memory now (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


#: why a read-only evaluation refuses a write or an import
_READ_ONLY_WHY = "(it is read-only here: a batch worker, or a space opened read-only)"

#: CPU seconds between two looks at the memory and time limits while an evaluation runs (see `_Watch`)
WATCH_TICK = 0.05


class _Watch:
    """The memory and time limits looked at on a CPU-time timer while the outermost evaluation of the
    main thread runs: a single step that runs long (a walk of a huge atom, a loop of minimal MeTTa
    inside one step) stops there too.  The limit's `LimitError` is raised where mettadb's code runs
    then, as Ctrl-C raises `KeyboardInterrupt`.  With a time limit, a real-time timer also fires
    at the deadline (then every tick) and raises it inside Python code a script runs, which may
    sleep or block and so use no CPU time.  The timers' handlers, once set, stay
    (doing nothing between evaluations), so a tick that comes late cannot end the process."""

    #: the interpreter whose evaluation is watched now
    current: Interpreter | None = None

    @classmethod
    def arm(cls, it: Interpreter) -> bool:
        """Watch `it`'s limits; False where that cannot be done (another thread, a nested evaluation,
        a timer signal someone else handles): the driver's loop looks every 4,096 steps then."""
        if cls.current is not None or not hasattr(signal, "setitimer") \
                or threading.current_thread() is not threading.main_thread():
            return False
        handler = signal.getsignal(signal.SIGVTALRM)
        if handler is not _tick:
            if handler is not signal.SIG_DFL:
                return False
            signal.signal(signal.SIGVTALRM, _tick)
            signal.siginterrupt(signal.SIGVTALRM, False)  # a system call a tick lands in goes on
        cls.current = it
        try:
            signal.setitimer(signal.ITIMER_VIRTUAL, WATCH_TICK, WATCH_TICK)
            cls.real = False
            deadline = it.deadline
            if deadline is not None and deadline - time.monotonic() < _LONGEST_TIMER \
                    and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, _wall_tick) \
                    and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0):
                # (not where someone else times the process with SIGALRM)
                signal.signal(signal.SIGALRM, _wall_tick)  # (a sleep or blocking call it lands in stops)
                cls.real = True
                signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.001), WATCH_TICK)
        except BaseException:  # (no watch half set: its ticks would raise in a later evaluation)
            cls.disarm()
            raise
        return True

    #: whether `arm` set the real-time timer
    real = False

    @classmethod
    def disarm(cls) -> None:
        try:
            cls.current = None
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            if cls.real:
                cls.real = False
                signal.setitimer(signal.ITIMER_REAL, 0)


#: the longest wait the real-time timer is set for (a year; a later deadline, past what the platform's
#: timer takes for a `--timeout` of 1e23, is left to the CPU ticks)
_LONGEST_TIMER = 365 * 86400.0

#: where mettadb's own code is (`_tick` raises only there)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _tick(signum: int, frame: Any) -> None:
    it = _Watch.current
    # raised only where mettadb's own code runs: not in a callback of the garbage collector or a
    # finalizer, where Python would print the error with a traceback and drop it (the next tick
    # looks again)
    if it is not None and frame is not None and frame.f_code.co_name != "__del__" \
            and (frame.f_code.co_filename.startswith(_PACKAGE) or IN_PYTHON[0]):  # (or Python code a script runs)
        it.check_limits()


def _wall_tick(signum: int, frame: Any) -> None:
    it = _Watch.current
    # only inside Python code a script runs (mettadb's own code uses CPU time, which `_tick` watches)
    if it is not None and IN_PYTHON[0] and frame is not None and frame.f_code.co_name != "__del__":
        it.check_limits()


_SPACE_T = Symbol("SpaceType")
#: per checked special form, each parameter's kind for the quick test: "atom", "space" or None
_PARAM_KINDS: dict[str, tuple[str | None, ...]] = {}


def _param_kinds(name: str) -> tuple[str | None, ...] | None:
    kinds = _PARAM_KINDS.get(name)
    if kinds is None:
        params = SPECIAL_CHECKED.get(name)
        if params is None:
            return None
        kinds = _PARAM_KINDS[name] = tuple("atom" if p == ATOM_T else "space" if p == _SPACE_T
                                           else "expr" if p == EXPRESSION_T else None for p in params)
    return kinds


def _value_params(ftype: Atom) -> tuple[int, ...]:
    params = ftype.children[1:-1] if type(ftype) is Expression else ()
    return tuple(i + 1 for i, p in enumerate(params) if p == UNDEFINED or type(p) is Variable)


#: per special form not checked as written, the positions of its value parameters (`%Undefined%` or
#: a type variable), where hyperon 0.2.10 still rejects an argument headed by an ill-typed application
#: (only the forms that have some: `if` and `match` are not looked up further)
_VALUE_PARAMS: dict[str, tuple[int, ...]] = {
    name: got for name, t in SPECIAL_TYPES.items() if name not in SPECIAL_CHECKED and (got := _value_params(t))}


_PI, _EXP = Float(math.pi), Float(math.e)


class _Pass:
    """The stack entry under a tail call made by the outermost generator: its results, as they are."""

    __slots__ = ()

    def after(self, rs: list[Pair]) -> list[Pair]:
        return rs

    def send(self, rs: list[Pair]) -> None:
        raise StopIteration(rs)


_PASS = _Pass()


class _Scoped:
    """The stack entry of `Become` for a ground call's one rule body, run in a scope of its own
    (`_apply_rules`): its values with the caller's bindings (a variable left in one made fresh),
    last first."""

    __slots__ = ("b",)

    def __init__(self, b: Bindings) -> None:
        self.b = b

    def after(self, rs: list[Pair]) -> list[Pair]:
        b = self.b
        out: list[Pair] = []
        for r, rb in rs:
            tr = type(r)
            if tr is Variable or (tr is Expression and not r.ground):  # type: ignore[attr-defined]
                r = rename_apart(rb.resolve(r))
            out.append((r, b))
        return out[::-1] if len(out) > 1 else out

    def send(self, rs: list[Pair]) -> None:
        raise StopIteration(self.after(rs))


_SCOPED_EMPTY = _Scoped(EMPTY_BINDINGS)

def _number(name: str, value: Any, integral: bool, low: int, wanted: str) -> None:
    kinds: tuple[type, ...] = (int,) if integral else (int, float)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, kinds) or (isinstance(value, float) and math.isnan(value)):
        raise TypeError(f"{name} must be {wanted}, not {value!r}"[:200])
    if isinstance(value, (int, float)) and value < low:
        raise ValueError(f"{name} must be {wanted}, not {value!r}")


def check_options(max_steps: Any = None, max_depth: Any = 1, timeout: Any = None, base_dir: Any = None,
                  allow_import: Any = (), readonly: Any = False, max_memory: Any = None,
                  allow_python: Any = False, out: Any = None) -> list[str]:
    """Refuse an interpreter option of the wrong kind or range, as the CLI's options do: a TypeError
    or ValueError naming the option and what it wants.  Returns allow_import's directories."""
    _number("max_steps", max_steps, True, 0, "a number of steps, 0 or more, or None (no limit)")
    _number("max_depth", max_depth, True, 1, "a depth of 1 or more")
    _number("timeout", timeout, False, 0, "a number of seconds, 0 or more, or None (0 or None: no limit)")
    _number("max_memory", max_memory, True, 0, "a number of bytes, 0 or more, or None (0 or None: no limit)")
    for name, flag in (("readonly", readonly), ("allow_python", allow_python)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, not {flag!r}"[:200])
    if base_dir is not None and not isinstance(base_dir, (str, os.PathLike)):
        raise TypeError(f"base_dir must be a directory (str or os.PathLike) or None, not {type(base_dir).__name__}")
    if isinstance(allow_import, (str, bytes, os.PathLike)):
        raise TypeError(f"allow_import must be a list of directories (str or os.PathLike), not a single "
                        f"{type(allow_import).__name__}; pass [path] for one directory")
    try:
        dirs = list(allow_import)
    except TypeError:
        raise TypeError(f"allow_import must be a list of directories (str or os.PathLike), "
                        f"not {type(allow_import).__name__}") from None
    for i, d in enumerate(dirs):
        if not isinstance(d, (str, os.PathLike)) or isinstance(os.fspath(d), bytes):
            raise TypeError(f"allow_import's item {i} is {type(d).__name__}, not a directory (str or os.PathLike)")
    return [os.fspath(d) for d in dirs]


class Interpreter:
    """Evaluates MeTTa against a space; one per session (it holds tokens and state)."""

    def __init__(self, space: Any, *, max_steps: int | None = None, max_depth: int = 1_000_000,
                 timeout: float | None = None, out: TextIO | None = None, base_dir: str | None = None,
                 allow_import: Iterable[str] = (), readonly: bool = False,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, allow_python: bool = False) -> None:
        import_dirs = check_options(max_steps, max_depth, timeout, base_dir, allow_import, readonly, max_memory,
                                    allow_python)
        self.space = space
        #: bytes an evaluation may grow the process by (None: no limit); looked at every 0.05 s of
        #: CPU in the main thread (`_Watch`), else every 4,096 steps
        self.max_memory = max_memory or None
        self.self_atom: SpaceAtom = ModuleSpaceAtom(space)
        #: names a script's atoms are read with (hyperon 0.2.10's tokens: `PI` and `EXP` are numbers)
        self.tokens: dict[str, Atom] = {"&self": self.self_atom, "PI": _PI, "EXP": _EXP}
        # the optional modules' operations are hidden (tokens naming themselves) until imported
        self.tokens.update((op, Symbol(op)) for ops in MODULES.values() for op in ops)
        self.max_steps = max_steps
        self.max_depth = max_depth
        self.stack_overflow = 0
        self.bare_minimal = False
        self.timeout = timeout
        self.out = out
        self.base_dir = os.path.abspath(base_dir or os.getcwd())
        self.top_dir = self.base_dir
        self.allow_import = [os.path.abspath(p) for p in import_dirs]
        #: whether `py-atom`, `py-dot` and Python operations may run Python code (`--allow-python`)
        self.allow_python = bool(allow_python)
        self.readonly = readonly
        self.type_check = False
        self.want: Atom | None = None
        self.steps = 0
        #: id(error) -> (error, call) for the errors of typed calls' arguments in this evaluation
        self.arg_errors: dict[int, tuple[Atom, Atom]] = {}
        self._deadline: float | None = None
        #: the resident size at which the evaluation stops (0: no limit), and the driver's stack
        self._memory_cap = 0
        self.stack: list[Any] = []
        self._rules: dict[tuple[str, int], list[tuple[Atom, Any, Any, Any]] | None] = {}
        #: per key of `_rules`: each cached rule's variable (as renamed when loaded) -> "\0" + the name
        #: it was stored with (hyperon renames the rules one call meets by one map of those names)
        self._rule_names: dict[tuple[str, int], dict[str, str]] = {}
        #: rows of queries of this interpreter's space with no bindings, until it changes (`query`)
        self._queries: dict[Atom, list[Bindings]] = {}
        self.types = TypeChecker(self)
        #: (head name, length) -> how such a call as written is a Bool (see written_bool)
        self.bool_calls = self.types.returns
        self._generation = -1
        #: modules loaded in this run (shared with the interpreters of imported modules):
        #: file path -> its module space
        self.modules: dict[str, ModuleSpaceAtom] = {}
        self.aliases: dict[str, str] = {}
        self.failed_modules: set[str] = set()
        self.module_names: set[str] = set()
        self.module_paths: set[str] = set()
        #: a module space's dependencies (shared likewise), as hyperon's module spaces keep them:
        #: id(space) -> the spaces `import! &self` made it depend on, in import order.  A query of
        #: the space reads its own atoms, then each dependency's own; none are copied into it
        self.own_deps: list[Any] = []
        self.deps: dict[int, list[Any]] = {id(space): self.own_deps}
        #: [whether any module space of the run depends on another yet] (shared as `deps` is)
        self.deps_used = [False]
        #: the space of the run's top module (the script's `&self`; `import! &self top` depends on it)
        self.top_atom: SpaceAtom = self.self_atom
        #: when a script runner sets it: copies added to this interpreter's stored space, by path
        #: copies a script's run added to the space, by (path, variable names...) (`runner.run_script`)
        self.adds: dict[tuple[Any, ...], int] | None = None

    # ------------------------------------------------------------------ entry points
    def evaluate(self, atom: Atom) -> list[Atom]:
        """All results of evaluating `atom` (its bindings applied)."""
        self._refresh_caches()
        self._deadline = time.monotonic() + self.timeout if self.timeout else None
        self._memory_cap = resident_bytes() + self.max_memory if self.max_memory else 0
        self.steps = 0
        self.arg_errors.clear()
        atom = self.tokens_in(atom)
        if self.bare_minimal:
            atom = Expression((BARE_MINIMAL, atom))
        watched = bool(self._memory_cap or self._deadline is not None) and _Watch.arm(self)
        outer, _RUNNING.it = getattr(_RUNNING, "it", None), self
        outer_binds = getattr(REGEX_BINDS, "var", None)
        if Regex.made:  # (hyperon's interpreter keeps a regex's binding while the `!` names the variable)
            REGEX_BINDS.var = _SEES_MATCHED if _SEES_MATCHED in iter_atoms(atom) else None
        try:
            first = self._eval(atom, EMPTY_BINDINGS)
            results = self._drive(_given(first) if type(first) is list else first, watched)  # type: ignore[arg-type]
        except LimitError:
            if watched:  # (before the frames are freed: their finalizers run mettadb's code, where a
                # tick would raise the limit again, with the stack half gone, in the place of this one)
                _Watch.disarm()
                watched = False
            self.stack.clear()  # frees the frames now, not when the exception is collected
            raise
        finally:
            _RUNNING.it = outer
            REGEX_BINDS.var = outer_binds
            if watched:
                _Watch.disarm()
        return [b.resolve(a) for a, b in results if a != EMPTY]

    @property
    def deadline(self) -> float | None:
        """When the evaluation under way passes its time limit (`time.monotonic()`), if it has one."""
        return self._deadline

    def check_limits(self) -> None:
        """Raise `LimitError` when the evaluation is past its memory or time limit."""
        if self._memory_cap and resident_bytes() > self._memory_cap:
            raise LimitError(self._memory_message(len(self.stack)))
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise LimitError(f"evaluation exceeded the time limit of {self.timeout} s")

    def _memory_message(self, depth: int) -> str:
        return (f"evaluation exceeded the memory limit of {(self.max_memory or 0) >> 20} MB at stack depth {depth} "
                "(a runaway recursion? --max-memory MB raises it, 0 lifts it)")

    def _refresh_caches(self) -> None:
        gen = getattr(self.space, "generation", None)
        if gen is None or gen != self._generation:
            self._rules.clear()
            self._rule_names.clear()
            self._queries.clear()
            self.types.clear()
            self._generation = gen if gen is not None else -1

    def invalidate(self) -> None:
        self._rules.clear()
        self._rule_names.clear()
        self._queries.clear()
        self.types.clear()

    def tokens_in(self, atom: Atom) -> Atom:
        names = self.tokens
        subst: dict[Atom, Atom] = {a: self.tokens[a.name] for a in iter_atoms(atom)
                                   if type(a) is Symbol and a.name in names}
        if not subst:
            return atom
        return _replace(atom, subst)

    # ------------------------------------------------------------------ driver
    def _drive(self, gen: Gen, watched: bool = False) -> list[Pair]:
        """Run the evaluation's generators; the memory and time limits are looked at every few
        thousand steps, unless `watched` (a `_Watch` looks at them)."""
        stack: list[Gen] = [gen]
        self.stack = stack
        send: Any = None
        overflow = self.stack_overflow
        max_depth = min(self.max_depth, overflow) if overflow else self.max_depth
        max_steps = self.max_steps
        deadline = None if watched else self._deadline
        ev = self._eval
        tokens = self.tokens
        quick = QUICK_BUILTINS
        grounded_types = GROUNDED_TYPES
        tcache = self.types.cache
        memory_cap = 0 if watched else self._memory_cap
        errors_made = ERRORS_MADE
        errors_before = errors_made[0]
        typed_req, tail_req = Typed, Tail
        become, gen_t = Become, GeneratorType
        steps = 0  # (the evaluation's steps: `self.steps` when it ends)
        while True:
            try:
                # (a tail call's `after` object takes its request's results here too, and raises
                # StopIteration with its generator's: no test for it in this loop)
                req = stack[-1].send(send)
            except StopIteration as stop:
                stack.pop()
                send = stop.value
                if type(send) is list:
                    if len(send) > 1 and errors_made[0] != errors_before:
                        # hyperon collects an evaluation's alternatives and keeps the errors among
                        # them only when nothing else came back (looked for once an error appeared)
                        for r, _ in send:
                            if type(r) is Expression:
                                k = r.children
                                if len(k) > 1 and type(k[0]) is Symbol and k[0].name == "Error":
                                    send = _drop_errors(send)
                                    break
                    if not stack:
                        self.steps = steps
                        return send  # type: ignore[no-any-return]
                    continue
                # a tail call: the finished generator's results are those of what it returned, a
                # generator that takes its place or a request evaluated in its place (`Become`)
                if type(send) is gen_t:
                    stack.append(send)
                    send = None
                    continue
                if type(send) is become:
                    stack.append(send[0])
                    req = send[1]
                else:
                    if not stack:
                        stack.append(_PASS)  # type: ignore[arg-type]
                    req = send
            steps += 1
            if len(stack) >= max_depth:
                if overflow and len(stack) >= overflow:
                    # hyperon's `pragma! max-stack-depth`: the evaluation that would go deeper gives
                    # an error atom and the rest goes on
                    send = [(self._stack_overflow(req[0], req[2] if type(req) is typed_req else None), req[1])]  # type: ignore[misc]
                    continue
                raise LimitError(f"evaluation exceeded the stack depth limit of {max_depth}")
            if max_steps is not None and steps > max_steps:
                raise LimitError(f"evaluation exceeded the step limit of {max_steps}")
            if deadline is not None and not steps & 0x3FF and time.monotonic() > deadline:
                raise LimitError(f"evaluation exceeded the time limit of {self.timeout} s")
            if memory_cap and not steps & 0xFFF and resident_bytes() > memory_cap:
                raise LimitError(self._memory_message(len(stack)))
            a = req[0]
            ta = type(a)
            if ta is not Expression or not a.children:  # type: ignore[attr-defined]
                # evaluates to itself (or to its token): answered here, no generator
                if ta is Symbol:
                    tok = tokens.get(a.name)  # type: ignore[attr-defined]
                    if tok is not None:
                        a = tok
                    elif a.name == "Empty":  # type: ignore[attr-defined]
                        send = []  # hyperon: an evaluation that gives `Empty` gives nothing
                        continue
                if type(req) is typed_req and grounded_types.get(type(a)) is not req[2] and ta is not Variable:  # type: ignore[misc]
                    send = [self._cast(a, req[1], req[2])]  # type: ignore[misc]
                    continue
                send = [(a, req[1])]
                continue
            h = a.children[0]  # type: ignore[attr-defined]
            if type(h) is Symbol:
                op = quick.get(h.name)
                if op is not None and h.name not in tokens and (type(req) is not typed_req or op[2] is req[2]):  # type: ignore[misc]
                    # a pure grounded operation on literals (and untyped symbols) that plainly fit
                    # its parameters: answered here, as the generators would answer it
                    args = a.children[1:]  # type: ignore[attr-defined]
                    params: tuple[Atom, ...] = op[1] or ()
                    if len(args) == len(params):
                        seen = None
                        for x, p in zip(args, params):
                            tx = type(x)
                            q = grounded_types.get(tx)
                            if q is not None:
                                if q is p:
                                    continue
                                if type(p) is Variable and (seen is None or seen is q):
                                    seen = q
                                    continue
                            elif tx is Symbol and tcache.get(x) == [] and x.name not in tokens:
                                continue
                            break
                        else:
                            try:
                                out = op[0](self, list(args))
                            except NoReduce:
                                send = [(a, req[1])]
                                continue
                            except Fail as f:
                                send = [(error(a, f.message), req[1])]
                                continue
                            if len(out) == 1:  # (the common case, without a list comprehension)
                                if type(out[0]) is not Expression:
                                    send = [(out[0], req[1])]
                                    continue
                            else:
                                for r in out:
                                    if type(r) is Expression:
                                        break  # evaluated further: the generators do it
                                else:
                                    send = [(r, req[1]) for r in out]
                                    continue
            rt = type(req)
            if rt is tail_req:
                g = ev(a, req[1])
            elif rt is typed_req:
                g = ev(a, req[1], req[3], req[2])  # type: ignore[misc]
            else:
                g = ev(a, req[1], False)
            if type(g) is list:  # known at once (one result, or errors only: none to drop)
                send = g
                continue
            stack.append(g)  # type: ignore[arg-type]
            send = None

    def _stack_overflow(self, atom: Atom, want: Atom | None) -> Atom:
        """hyperon 0.2.10's error for an evaluation past `pragma! max-stack-depth`, naming the
        interpreter's call `(metta atom type space)` it did not make; of a call, its head is what
        hyperon would interpret next (`(metta loop %Undefined% space)` for `(loop)`)."""
        if type(atom) is Expression and atom.children and type(atom.children[0]) is Symbol:
            atom = atom.children[0]
            want = self.types.function_type(atom)
        call = Expression((Symbol("metta"), atom, want if want is not None else UNDEFINED, self.self_atom))
        return error(call, STACK_OVERFLOW)

    # ------------------------------------------------------------------ core
    def _cast(self, value: Atom, b: Bindings, want: Atom) -> Pair:
        """A value that is not an expression against the type its context expects (hyperon's
        `type-cast`): the value, or `(Error value (BadType want have))`."""
        if self.types.type_ok(value, want):
            return value, b
        have = self.types_of(value)
        return error(value, Expression((Symbol("BadType"), want, have[0] if have else UNDEFINED))), b

    def _eval(self, atom: Atom, b: Bindings, tail: bool = True, want: Atom | None = None) -> list[Pair] | Gen:
        """An atom's evaluation: its results when they are known at once, else the generator that
        gives them (a special form's, a grounded call's, a rule application's own, with no generator
        of `_eval` around it: a level of a deep evaluation keeps fewer frames)."""
        t = type(atom)
        if t is Symbol:
            tok = self.tokens.get(atom.name)  # type: ignore[attr-defined]
            return [(tok if tok is not None else atom, b)]
        if t is not Expression or not atom.children:  # type: ignore[attr-defined]
            return [(atom, b)]
        kids = atom.children  # type: ignore[attr-defined]
        head = kids[0]
        if type(head) is Symbol:
            special = SPECIAL.get(head.name)
            if special is not None:
                arity = SPECIAL_ARITY.get(head.name)
                if arity is not None and len(kids) != arity:
                    return wrong_arity(atom, b)
                params = SPECIAL_CHECKED.get(head.name)
                if params is not None and len(params) == len(kids) - 1:
                    errs = self.check_special(atom, b)  # type: ignore[arg-type]
                    if errs:
                        return errs
                elif head.name in _VALUE_PARAMS:
                    errs = self._ill_typed_value(kids, _VALUE_PARAMS[head.name], b)
                    if errs:
                        return errs
                if want is not None:
                    if head.name == "if":
                        self.want = want  # (`if` passes it on to its branches, and clears it)
                    else:
                        # hyperon: the form's return type against what the context expects, its type
                        # variables bound by the arguments as written (`(StateMonad $t)`)
                        ftype = SPECIAL_TYPES.get(head.name)
                        ret = ftype.children[-1] if type(ftype) is Expression else None
                        if ret is not None and type(ret) is not Symbol and not (type(ret) is Expression and ret.ground):
                            ftype = fresh(ftype)  # type: ignore[arg-type]  # (an unbound one is shown renamed apart, as hyperon shows it)
                            ret = ftype.children[-1]  # type: ignore[attr-defined]
                            if len(ftype.children) == len(kids) + 1:  # type: ignore[attr-defined]
                                tb, errs = self._check_written(atom, kids[1:], ftype.children[1:-1], b)  # type: ignore[attr-defined]
                                ret = tb.resolve(ret) if not errs else None
                        if ret is not None and ret is not want and ret != ATOM_T and ret != UNDEFINED \
                                and type(ret) is not Variable and match_types(ret, want, EMPTY_BINDINGS) is None:
                            if ret is ftype.children[-1] or len(ftype.children) != len(kids) + 1:  # type: ignore[union-attr]
                                return [(error(atom, Expression((Symbol("BadType"), want, ret))), b)]
                            # another way through the arguments' types may fit (hyperon tries each)
                            errs = self._check_written(atom, kids[1:], ftype.children[1:-1], b, True,  # type: ignore[union-attr]
                                                       ftype.children[-1], want)[1]  # type: ignore[union-attr]
                            if errs:
                                return errs
                return special(self, atom, b)  # type: ignore[arg-type]
            builtin = BUILTINS.get(head.name)
            if builtin is not None and head.name not in self.tokens:
                if want is not None:
                    ret = BUILTIN_RETURNS[head.name]
                    if ret is not want and ret != ATOM_T and match_types(ret, want, EMPTY_BINDINGS) is None:
                        params = BUILTIN_TYPES[head.name]
                        if params is None:
                            return [(error(atom, Expression((Symbol("BadType"), want, ret))), b)]
                        if len(params) == len(kids) - 1:  # (else an arity error, below)
                            # each way through the arguments' types ends with the return type
                            return self._check_written(atom, kids[1:], params, b, tail, ret, want)[1]
                return self._call_builtin(atom, builtin, b, tail)
        elif type(head) is Expression and head.children:
            errs = self._ill_typed_head_errors(head, b)
            if errs:  # hyperon 0.2.10: a head that is an ill-typed application gives its own errors
                return errs
        elif type(head) is PyObject:  # a Python operation (or value) at the head
            return self._py_call(atom, b)  # type: ignore[arg-type]
        declared = self.types.cache.get(head)
        ftype = self.types.function_type(head) if declared is None or declared else None
        if ftype is not None:
            declared = self.types.cache.get(head)
            if declared is not None and len(declared) > 1:  # (a function declared more than once)
                picked = self._first_fitting(atom, head, declared, b, tail, want)
                if type(picked) is list:
                    return picked
                ftype = picked  # type: ignore[assignment]
            argtypes = ftype.children[1:-1]  # type: ignore[attr-defined]
            if len(argtypes) != len(kids) - 1:
                err = error(atom, Symbol("IncorrectNumberOfArguments"))
                self._note_arg_error(err, atom)
                return [(err, b)]
            ret = ftype.children[-1]  # type: ignore[attr-defined]
            if want is not None:  # hyperon: the return type against what the context expects, the
                # arguments as written then checked under what that binds (BadType for the call)
                rb = match_types(ret, want, EMPTY_BINDINGS)
                if not self._check_written(atom, kids[1:], argtypes, b, tail)[1] and (rb is None or (
                        rb.links and self._check_written(atom, kids[1:], tuple(rb.resolve(t) for t in argtypes), b, tail)[1])):
                    # each way through the arguments' types ends with the return type (hyperon's order)
                    errs = self._check_written(atom, kids[1:], argtypes, b, tail, ret, want)[1]
                    if errs:
                        return errs
                if rb is not None and rb.links:
                    ret = rb.resolve(ret)
            if type(ret) is Variable or (type(ret) is Expression and not ret.ground):
                # hyperon: a type variable of the return type is bound by the arguments' types as
                # written (the call check's bindings), and the values are checked against that
                written = tuple(b.resolve(a) for a in kids[1:]) if b.links else kids[1:]
                tb = check_call(argtypes, written, self.types_of, entries_of=self.types.entries_of)[0]
                if tb.links:
                    ret = tb.resolve(ret)
            expect = _expected(ret)  # the function's values must have its return type
            then: Then = (self._typed_call, (atom, ftype.children[-1] != ATOM_T, expect))  # type: ignore[attr-defined]
            return self._with_args(self._eval_args(atom, kids[1:], argtypes, b, True, then, resolve=tail), then, self.stack)
        # no function type: a tuple; its expression elements are evaluated
        if atom.ground:  # type: ignore[attr-defined]
            tokens = self.tokens
            for k in kids:
                tk = type(k)
                if tk is Expression or (tk is Symbol and (k.name in tokens or k.name == "Empty")):
                    break
            else:  # nothing inside evaluates to anything else: apply the rules directly
                return self._apply_rules(atom, b, True, want)
        then = (self._tuple_call, (atom, want))
        return self._with_args(self._eval_args(atom, kids, None, b, False, then), then, self.stack)

    @staticmethod
    def _with_args(args: Generator[Pair, list[Pair], Any], then: Then, stack: list[Any]) -> Gen:
        """A call: its arguments' evaluation (`_eval_args`), then `then` with their values."""
        got = yield from args
        if type(got) is not tuple:
            return got  # type: ignore[no-any-return]
        if len(stack) > TAIL_DEPTH:  # the call takes this generator's place on the driver's stack (a
            # tail call, deep in a recursion: it keeps no frame here)
            return then[0](*then[1], *got)  # type: ignore[return-value]
        return (yield from then[0](*then[1], *got))

    def _first_fitting(self, atom: Atom, head: Atom, declared: list[Atom], b: Bindings,
                       tail: bool, want: Atom | None) -> Atom | list[tuple[Any, Bindings]]:
        """The arrow type of a function declared with several that a call is evaluated with: as in
        hyperon 0.2.10, the first (in declaration order) whose arity and parameter types the arguments
        as written fit, and whose return type then fits the type `want` the context expects; when
        none does, the call's errors, each type's in turn."""
        arrows = [t for t in declared if type(t) is Expression and t.children and t.children[0] == ARROW]
        if len(arrows) < 2:
            return self.types.function_type(head)  # type: ignore[return-value]
        args = atom.children[1:]  # type: ignore[attr-defined]
        errors: list[tuple[Any, Bindings]] = []
        for t in arrows:
            ft = rename_apart(t)
            argtypes = ft.children[1:-1]  # type: ignore[attr-defined]
            if len(argtypes) != len(args):
                errors.append((error(atom, Symbol("IncorrectNumberOfArguments")), b))
                continue
            errs = self._check_written(atom, args, argtypes, b, tail, ft.children[-1], want)[1]  # type: ignore[attr-defined]
            if errs:
                errors.extend(errs)
                continue
            return ft
        return errors

    # A call's continuation, `then` of `_eval_args`: (a method, its first arguments); the values of
    # the call's arguments (or an argument's error) and their bindings follow.
    def _typed_call(self, atom: Atom, evaluate: bool, expect: Atom | None, args: Any, bb: Bindings) -> Gen:
        if isinstance(args, Atom):  # an error from an argument
            self._note_arg_error(args, atom)
            return _given([(args, bb)])
        return self._apply_rules(Expression((atom.children[0], *args)), bb, evaluate, expect)  # type: ignore[attr-defined]

    def _tuple_call(self, atom: Atom, want: Atom | None, args: Any, bb: Bindings) -> Gen:
        if isinstance(args, Atom):
            return _given([(args, bb)])
        call = atom
        for x, y in zip(args, atom.children):  # type: ignore[attr-defined]
            if x is not y:  # (a loop, not any() over a generator: this runs for every call)
                call = Expression(args)
                if type(args[0]) is PyObject:  # (a head that evaluated to a Python operation: run it)
                    return _given(self._py_results(call, bb))
                break
        return self._apply_rules(call, bb, True, want)

    def _py_call(self, atom: Expression, b: Bindings) -> list[Pair] | Gen:
        """A call whose head is a Python object: with an arrow type (`py-atom`'s second argument), its
        arguments are checked and evaluated as a typed function's, else as a tuple's; then it runs."""
        head = atom.children[0]
        ftype = head.typ  # type: ignore[attr-defined]
        if type(ftype) is Expression and ftype.children and ftype.children[0] == ARROW:
            argtypes = ftype.children[1:-1]
            if len(argtypes) != len(atom.children) - 1:
                return [(error(atom, Symbol("IncorrectNumberOfArguments")), b)]
            then: Then = (self._py_then, (head,))
            return self._with_args(self._eval_args(atom, atom.children[1:], argtypes, b, True, then), then, self.stack)
        then = (self._py_then, (None,))
        return self._with_args(self._eval_args(atom, atom.children, None, b, False, then), then, self.stack)

    def _py_then(self, head: Atom | None, args: Any, bb: Bindings) -> Gen:
        """`_py_call`'s continuation: the call with its arguments' values run (`head`: the call's head,
        when `args` are only its arguments' values)."""
        if isinstance(args, Atom):  # an error from an argument
            return _given([(args, bb)])
        return _given(self._py_results(Expression((head, *args) if head is not None else args), bb))

    def _py_results(self, call: Expression, b: Bindings) -> list[Pair]:
        """The results of a call of a Python object (`pyobjects.call_object`)."""
        try:
            out = call_object(self, call.children[0], list(call.children[1:]))  # type: ignore[arg-type]
        except NoReduce:
            return [(call, b)]
        except Fail as f:
            return [(error(call, f.message), b)]
        return [(r, b) for r in out]

    def _eval_args(self, whole: Atom, args: tuple[Atom, ...], types: tuple[Atom, ...] | None, b: Bindings,
                   metatype_noeval: bool, then: Then, resolve: bool = True,
                   i: int = 0, done: list[Atom] | None = None, tb: Bindings = EMPTY_BINDINGS
                   ) -> Generator[Pair, list[Pair], Any]:
        """The continuation `then` with each combination of the arguments' values (or with an
        argument's error) and its bindings, the results gathered in hyperon's result order; when
        there is only one combination, `(values, bindings)` itself, for the caller to pass to `then`
        (no generator left between the call's evaluation and the driver).

        Like hyperon, the combinations are tried depth first: each of an argument's values (in the
        order its evaluation delivers them) goes through the later arguments and the call itself
        before the next value is taken, so side effects happen in hyperon's order.  With parameter
        types, the call is checked as hyperon checks it: as written first (the arguments' inferred
        types against the parameters, one set of type-variable bindings; BadArgType, the expected
        type resolved when `resolve`), then each argument's value against its parameter (BadType).
        The arguments before `i` (inner calls only) have the values `done`.
        """
        bb = b
        top = done is None
        if done is None:
            done = []
            if types is not None and len(types) == len(args):
                tb, errs = self._check_written(whole, args, types, b, resolve)
                if errs:
                    out: list[Pair] = []
                    for e, eb in errs:
                        out.extend((yield from then[0](*then[1], e, eb)))
                    return out
        n = len(args)
        while i < n:
            arg = args[i]
            declared = expected = types[i] if types is not None else None
            if expected is not None and tb.links:
                expected = tb.resolve(expected)
            a = bb.resolve(arg) if bb.links else arg
            # whether the argument is evaluated: by the parameter type as declared (a type variable
            # that the arguments as written bound to `Atom`, `(== (get-metatype 2) Grounded)`, is evaluated)
            if declared is not None and type(declared) is Symbol:
                en = declared.name
                if en == "Atom" or (metatype_noeval and en in META_TYPES and metatype(a) == en):
                    done = done + [a]
                    i += 1
                    continue
            elif type(declared) is Variable and type(a) is Expression and expected == EXPRESSION_T:
                # a type variable the arguments as written bound to `Expression` (a call of a function
                # returning one): hyperon passes an expression there as it is, unevaluated
                done = done + [a]
                i += 1
                continue
            if type(a) is not Expression and not (type(a) is Symbol and a.name in self.tokens):
                # hyperon: a tuple with an element `Empty` is Empty (a typed call's argument
                # `Empty` as written is passed as it is)
                if types is None and type(a) is Symbol and a.name == "Empty":
                    return []
                done = done + [a]
                i += 1
                continue
            # hyperon 0.2.10: an argument of type `Atom` (a call of a function returning `Atom`) takes
            # any parameter; what it returns is passed as it is, not checked against the parameter
            atom_typed = expected is not None and expected != ATOM_T and self._atom_typed(arg, bb)
            # the value must have the parameter's type (hyperon's `metta arg type`): checked
            # where it is not an expression, or by the return type of the call it is
            want: Atom | None
            if expected is None or atom_typed:
                want = None
            elif type(expected) is Symbol:  # (inline `_expected`: the common case)
                want = None if expected.name in _NO_EXPECTATION else expected
            else:
                want = _expected(bb.resolve(expected) if bb.links else expected)
            rs = yield (Typed((a, bb, want, False)) if want is not None else (a, bb))  # type: ignore[arg-type]
            # hyperon 0.2.10: an argument whose evaluation gave an error makes that error the call's
            # value, whatever the parameter type (`ErrorType`, or a type variable the arguments as
            # written bound to `Atom`), unless it was that error as written (passed on; not so
            # an element of a tuple)
            if len(rs) == 1:
                r, bb = rs[0]
                if is_error(r) and (types is None or r != a):
                    return (r, bb) if top else (yield from then[0](*then[1], r, bb))
                done = done + [r]
                i += 1
                continue
            # several values: each through the rest of the call in the order they come, the results
            # gathered as hyperon gathers them (the last value's first)
            acc: list[Pair] = []
            last = i + 1 == n
            for r, rb in rs:
                if is_error(r) and (types is None or r != a):
                    got = yield from then[0](*then[1], r, rb)
                elif last:
                    got = yield from _settled(then[0](*then[1], done + [r], rb))
                else:
                    got = yield from self._eval_args(whole, args, types, rb, metatype_noeval, then, resolve,
                                                     i + 1, done + [r], tb)
                acc.extend(got[::-1] if len(got) > 1 else got)
            return acc[::-1]
        return (done, bb) if top else (yield from _settled(then[0](*then[1], done, bb)))

    def check_special(self, atom: Expression, b: Bindings) -> list[Pair]:
        """A special form's call as written (tokens as what they name, as hyperon parses them)
        against its declared parameter types: its BadArgType errors, none when it fits."""
        tokens = self.tokens
        head = atom.children[0]
        kinds = _param_kinds(head.name)  # type: ignore[attr-defined]
        if kinds is not None:  # (`if` is checked only when its condition is not a Bool)
            for a, kind in zip(atom.children[1:], kinds):
                # the common calls, `(match &self pattern template)`, `(add-atom &self atom)`: nothing to check
                if kind == "atom" or type(a) is Variable:
                    continue
                if kind == "space" and type(a) is Symbol and type(tokens.get(a.name)) in (SpaceAtom, ModuleSpaceAtom):
                    continue
                if kind == "expr" and type(a) is Expression:
                    continue
                break
            else:
                return []
        ftype = SPECIAL_TYPES[head.name]  # type: ignore[attr-defined]
        args = tuple(tokens.get(a.name, a) if type(a) is Symbol else a for a in atom.children[1:])
        errs = self._check_written(atom, args, ftype.children[1:-1], b)[1]  # type: ignore[attr-defined]
        if errs:  # again with the declared types' variables renamed apart, as hyperon reports them
            ftype = fresh(ftype)
            errs = self._check_written(atom, args, ftype.children[1:-1], b)[1]  # type: ignore[attr-defined]
            for e, _ in errs:
                self._note_arg_error(e, atom)
        return errs

    def _check_written(self, whole: Atom, args: tuple[Atom, ...], types: tuple[Atom, ...], b: Bindings,
                       resolve: bool = True, ret: Atom | None = None, expect: Atom | None = None
                       ) -> tuple[Bindings, list[tuple[Any, Bindings]]]:
        """A call's arguments as written against its parameter types (hyperon checks a call before
        evaluating it): the type-variable bindings, and the call's BadArgType errors (none when it fits).
        With `expect`, the type the context expects, each way through the arguments ends with the return
        type `ret` against it (BadType)."""
        tb = EMPTY_BINDINGS
        written = tuple(b.resolve(a) for a in args) if b.links else args
        bad: list[Mismatch] = []
        cache = self.types.cache
        for a, want in zip(written, types):  # the common call, inline: literals of the parameter's
            ta = type(a)                       # type, variables, applications of untyped functions
            if GROUNDED_TYPES.get(ta) is want or ta is Variable or want == ATOM_T:
                continue
            if (ta is SpaceAtom or ta is ModuleSpaceAtom) and want == _SPACE_T:  # `match &self ...`
                continue
            if ta is Expression and a.children:  # type: ignore[attr-defined]
                h = a.children[0]  # type: ignore[attr-defined]
                if type(h) is Symbol and cache.get(h) == [] and not self.types.expressions_typed(len(a.children)):  # type: ignore[attr-defined]
                    continue
            break
        else:
            written = ()
        if expect is not None:  # (the return type checked too: a rare path, no quick test)
            written = tuple(b.resolve(a) for a in args) if b.links else args
            tb, bad = check_call(types, written, self.types_of, True, self.types.entries_of, ret, expect)
        elif written and not self.types.plainly_fits(written, types):
            tb, bad = check_call(types, written, self.types_of, entries_of=self.types.entries_of)
        if bad:  # like hyperon 0.2.10: one error per way it tried (an ill-typed argument's own error)
            call = Expression((whole.children[0], *written))  # type: ignore[attr-defined]
            return tb, [(m if not isinstance(m, tuple) else error(call, Expression((
                Symbol("BadArgType"), Integer(m[0]), m[1], m[2]) if m[0] else (Symbol("BadType"), m[1], m[2]))), b)
                for m in bad]
        return tb, []

    def _ill_typed_value(self, kids: tuple[Atom, ...], where: tuple[int, ...], b: Bindings) -> list[Pair]:
        """The errors hyperon 0.2.10's check reports for a call of a form whose parameters at `where`
        take any value (`%Undefined%`, a type variable): none, unless an argument there, as written,
        is an ill-typed application (the first such): each way it fails."""
        cache = self.types.cache
        for i in where:
            if i >= len(kids):  # (too few arguments: the form's own arity error)
                break
            a = kids[i]
            if type(a) is not Expression or not a.children:
                continue
            h = a.children[0]
            if type(h) is Symbol and cache.get(h) == [] and not self.types.expressions_typed(len(a.children)):
                continue  # (an untyped head: a tuple)
            if b.links:
                a = b.resolve(a)
            if not self.types_of(a):
                return [(e.error, b) for e in self.types.entries_of(a) if type(e) is Failed]
        return []

    def _ill_typed_head_errors(self, head: Expression, b: Bindings) -> list[Pair]:
        """The errors of a call's head that is an ill-typed application (as written), each way it
        fails; none when it is not one."""
        h = head.children[0]
        if type(h) is Symbol and self.types.cache.get(h) == [] and not self.types.expressions_typed(len(head.children)):
            return []  # (an untyped head: a tuple)
        if b.links:
            head = b.resolve(head)  # type: ignore[assignment]
        if self.types_of(head):
            return []
        return [(e.error, b) for e in self.types.entries_of(head) if isinstance(e, Failed)]

    def ill_typed_head(self, expr: Expression) -> bool:
        """Whether an expression's head is itself an ill-typed application: a call of a typed function
        with another number of arguments or arguments as written that do not fit its parameters."""
        h = expr.children[0]
        while True:  # (down a chain of heads that are expressions: no Python recursion)
            if type(h) is not Expression or not h.children:
                return False
            kids = h.children
            if type(kids[0]) is not Expression:
                break
            h = kids[0]
        several = SPECIAL_SIGNATURES.get(kids[0].name) if type(kids[0]) is Symbol else None
        for ftype in several or (self.types.function_type(kids[0]),):  # (ill-typed: it fits none)
            if ftype is None:
                return False
            params = ftype.children[1:-1]  # type: ignore[attr-defined]
            if len(params) == len(kids) - 1 and not self._check_written(h, kids[1:], params, EMPTY_BINDINGS)[1]:
                return False
        return True

    def _atom_typed(self, arg: Atom, b: Bindings) -> bool:
        """Whether an argument as written has the type `Atom` (cheap for untyped heads)."""
        if type(arg) is not Expression or not arg.children:
            return False
        h = arg.children[0]
        if type(h) is Symbol and self.types.cache.get(h) == []:
            return False
        return ATOM_T in self.types_of(b.resolve(arg) if b.links else arg)

    def _note_arg_error(self, err: Atom, call: Atom) -> None:
        """Remember that `err` is the error of a typed call's arguments (`collapse-bind` shows those
        differently, as hyperon 0.2.10 does)."""
        if len(self.arg_errors) > 1024:
            self.arg_errors.clear()
        self.arg_errors[id(err)] = (err, call)

    def _apply_rules(self, expr: Atom, b: Bindings, evaluate: bool = True, expect: Atom | None = None) -> Gen:
        kids = expr.children  # type: ignore[attr-defined]
        if kids and type(kids[0]) is Variable and type(b.resolve(kids[0]) if b.links else kids[0]) is Variable:
            # a call whose head is a variable is not reduced (hyperon: not a function call, a tuple)
            return [(expr, b)]
        if expr.ground:  # type: ignore[attr-defined]
            # A ground call cannot see or bind the caller's variables: its body runs in a scope
            # of its own (empty bindings), so the rule's variables need no renaming per call
            # and bindings do not pile up along a recursion.  Results go back with the
            # caller's bindings; a variable left in one is made fresh.
            bodies = self._ground_bodies(expr)
            if not bodies:
                return [(expr, b)]
            if evaluate and len(bodies) == 1 and len(self.stack) > TAIL_DEPTH:
                # (a tail call, deep in a recursion: it keeps no frame here)
                after = _SCOPED_EMPTY if b is EMPTY_BINDINGS else _Scoped(b)
                return Become((after, Tail((bodies[0], EMPTY_BINDINGS)) if expect is None  # type: ignore[return-value]
                               else Typed((bodies[0], EMPTY_BINDINGS, expect, True))))  # type: ignore[arg-type]
            results: list[Pair] = []
            names: dict[str, Variable] | None = None
            # like hyperon, the last rule's body is evaluated first (its side effects happen first);
            # the results are gathered as they finish and handed back last first
            for body in reversed(bodies) if len(bodies) > 1 else bodies:
                if evaluate:
                    rs = yield (Tail((body, EMPTY_BINDINGS)) if expect is None
                                else Typed((body, EMPTY_BINDINGS, expect, True)))  # type: ignore[arg-type]
                else:
                    ERRORS_MADE[0] += 1  # (the body may be an error atom, taken as it is)
                    if _unmarked(body) is not body:  # a `function` still runs; its value is kept as it is
                        rs = yield (_unmarked(body), EMPTY_BINDINGS)
                    else:
                        rs = [(body, EMPTY_BINDINGS)] if body != EMPTY else []
                for r, rb in rs:
                    tr = type(r)
                    if tr is Variable or (tr is Expression and not r.ground):  # type: ignore[attr-defined]
                        # hyperon renames the rules of a call once, by one map of their variables'
                        # names: numbered in the rule's order, shared by all the results
                        # (`(superpose ((a $m) (b $m)))`, two rules' `$t`)
                        if names is None:
                            names = {}
                        r = rename_apart(rb.resolve(r), body, names, self._rule_names.get(
                            (expr.children[0].name, len(expr.children))) if type(expr.children[0]) is Symbol else None)  # type: ignore[attr-defined]
                    results.append((r, b))
            return results[::-1] if len(results) > 1 else results
        rules = self._matching_rules(expr, b)
        if not rules:
            return [(expr, b)]
        if not evaluate:  # the function returns `Atom`: its result is not evaluated further
            ERRORS_MADE[0] += 1  # (it may be an error atom, taken as it is)
            kept: list[Pair] = []
            for body, bb in rules:
                if _unmarked(body) is not body:  # a `function` still runs; its value is kept as it is
                    kept.extend((yield (_unmarked(bb.resolve(body)), bb)))
                elif body != EMPTY:
                    kept.append((bb.resolve(body), bb))
            return kept
        if len(rules) == 1 and len(self.stack) > TAIL_DEPTH:  # (a tail call, as above)
            body, bb = rules[0]
            return Become((REVERSED, Tail((bb.resolve(body), bb)) if expect is None  # type: ignore[return-value]
                           else Typed((bb.resolve(body), bb, bb.resolve(expect), True))))  # type: ignore[arg-type]
        results = []
        for body, bb in reversed(rules) if len(rules) > 1 else rules:  # the last rule first, as above
            results.extend((yield (Tail((bb.resolve(body), bb)) if expect is None
                                   else Typed((bb.resolve(body), bb, bb.resolve(expect), True)))))  # type: ignore[arg-type]
        return results[::-1] if len(results) > 1 else results

    def rule_results(self, atom: Atom, b: Bindings) -> list[Pair] | None:
        """The bodies of the rules `(= atom body)`, unevaluated (hyperon's one `eval` step of a call
        of no grounded operation); None when no rule applies (hyperon's `NotReducible`)."""
        if type(atom) is Expression and atom.ground:
            out: list[Pair] = []
            for body in self._ground_bodies(atom):
                body = _unmarked(body)
                tr = type(body)
                if tr is Variable or (tr is Expression and not body.ground):  # type: ignore[attr-defined]
                    body = rename_apart(body)
                out.append((body, b))
            return out or None
        return [(_unmarked(bb.resolve(body)), bb) for body, bb in self._matching_rules(atom, b)] or None

    def grounded_once(self, atom: Expression, b: Bindings) -> list[Pair] | None:
        """A grounded operation run once on its arguments as written (hyperon's `eval` of a grounded
        call): its results, unevaluated; None when it does not apply to them (`NotReducible`)."""
        kids = atom.children
        if type(kids[0]) is PyObject:  # a Python operation (a value at the head: not reducible)
            got = self._py_results(atom, b)
            return None if got[0][0] is atom else got
        try:
            out = BUILTINS[kids[0].name][0](self, list(kids[1:]))  # type: ignore[attr-defined]
        except NoReduce:
            return None
        except Fail as f:
            return [(error(atom, f.message), b)]
        except (TypeError, ValueError, AttributeError, IndexError):  # arguments of another kind
            return None
        return [(r, b) for r in out]

    def _call_builtin(self, atom: Atom, builtin: tuple[Any, ...], b: Bindings, tail: bool = True) -> Gen:
        fn = builtin[0]
        kids = atom.children  # type: ignore[attr-defined]
        name = kids[0].name
        types = BUILTIN_TYPES[name]
        if types is not None and len(types) != len(kids) - 1:
            err = error(atom, Symbol("IncorrectNumberOfArguments"))
            self._note_arg_error(err, atom)
            return [(err, b)]

        then = (self._grounded_call, (atom, fn))
        got = yield from self._eval_args(atom, kids[1:], types, b, name in NOEVAL_EXPRESSION_ARGS, then, resolve=tail)
        return (yield from self._grounded_call(atom, fn, *got)) if type(got) is tuple else got

    def _grounded_call(self, atom: Atom, fn: Any, args: Any, bb: Bindings) -> Gen:
        """A grounded operation's call, `_call_builtin`'s continuation (see `_typed_call`)."""
        if isinstance(args, Atom):
            self._note_arg_error(args, atom)
            return [(args, bb)]
        head = atom.children[0]  # type: ignore[attr-defined]
        try:
            out = fn(self, args)
        except NoReduce:
            return [(Expression((head, *args)), bb)]
        except Fail as f:
            return [(error(Expression((head, *args)), f.message), bb)]
        results: list[Pair] = []
        # like hyperon, the operation's results are evaluated further last first (as a rule's
        # bodies), gathered as they finish and handed back last first
        for r in reversed(out) if len(out) > 1 else out:
            if type(r) is Expression and head.name not in FINAL_RESULTS and r != Expression((head, *args)):
                results.extend((yield Tail((r, bb))))
            else:
                results.append((r, bb))
        return results[::-1] if len(results) > 1 else results

    # ------------------------------------------------------------------ space access
    def space_of(self, atom: Atom) -> Any:
        if type(atom) is Symbol:
            tok = self.tokens.get(atom.name)
            if tok is not None:
                atom = tok
        if isinstance(atom, SpaceAtom):
            return atom.value
        return None

    def depend(self, space: Any, dep: Any) -> None:
        """Make `space` depend on `dep` and on `dep`'s dependencies (each once, as hyperon's
        `import! &self` does): its queries then reach their atoms, which stay where they are.  A
        read-only evaluation (a batch worker's, which answers each query on its own) may not."""
        if self.readonly and space is self.space:
            raise ReadOnlyError(f"this evaluation cannot import into the space {_READ_ONLY_WHY}")
        deps = self.deps.setdefault(id(space), self.own_deps if space is self.space else [])
        for d in (dep, *self.deps.get(id(dep), ())):
            if not any(d is x for x in deps):
                deps.append(d)
        self.deps_used[0] = True
        self.invalidate()

    def library(self) -> Any:
        """This run's space of the standard library's own declarations and rules (hyperon's `corelib`
        module, which every module depends on; `match` alone reads it)."""
        module = self.modules.get("top:corelib")
        if module is None:
            module = self.modules["top:corelib"] = ModuleSpaceAtom(stdlib_space(), "corelib")
        return module.value

    def query(self, space: Any, pattern: Atom, b: Bindings, library: bool = False, own: bool = False) -> list[Bindings]:
        """Matches of `pattern` in a space and its dependencies: each conjunct matches the space's
        own atoms first, then each dependency's own, in import order (hyperon's `ModuleSpace`).
        With `library`, a module space's first dependency is the standard library's space (what
        `match` sees in hyperon; the interpreter's own lookups leave it out).  With `own`, the
        space's own atoms only."""
        if not own:
            if library:  # (tested here without a call where it can be: most patterns cannot meet the library)
                if type(pattern) is not Expression:
                    return self._query_deps(space, pattern, b, True)
                kids = pattern.children
                if 3 <= len(kids) <= 5 and (type(kids[0]) is not Symbol or kids[0].name in _LIBRARY_HEAD_NAMES) \
                        and _library_may_match(pattern):
                    return self._query_deps(space, pattern, b, True)
            if self.deps_used[0] and self.deps.get(id(space)):
                return self._query_deps(space, pattern, b, False)
        if isinstance(space, Store):
            overlay = session_overlay(space)
            if overlay is None or not overlay.tracks():
                if holds_session_object(pattern):  # (no stored atom holds a state or a space: a variable there matches it)
                    return merged_query(space, Overlay(), pattern, b)
                if b.links or space is not self.space:
                    return ordered_query(space, pattern, b)  # hyperon's order: by insertion
                # The same query of the interpreter's own space in the same version of it (a rule
                # body's `match` called again with the same arguments): the rows read before.
                # Only rows whose values hold no variables are kept, as each read of a stored
                # atom with variables gives them fresh names.  Callers never change the list.
                got = self._queries.get(pattern)
                if got is None:
                    got = ordered_query(space, pattern, b)
                    if len(got) <= 512 and all(_ground_row(x) for x in got):
                        if len(self._queries) >= 8192:
                            self._queries.clear()
                        self._queries[pattern] = got
                return got
            return merged_query(space, overlay, pattern, b)  # hyperon's order: the overlay's atoms among the stored
        return list(space.query(pattern, b))

    def _query_deps(self, space: Any, pattern: Atom, b: Bindings, library: bool) -> list[Bindings]:
        """`query` of a space that has dependencies, or with a pattern that may meet the library."""
        deps = self.deps.get(id(space))
        lib = library and deps is not None and _library_may_match(pattern)
        if not deps and not lib:
            return self.query(space, pattern, b, own=True)
        parts = conjuncts(pattern)
        found = [b]
        for part in [pattern] if parts is None else parts:
            nxt: list[Bindings] = []
            for bb in found:
                p = bb.resolve(part)
                nxt.extend(self.query(space, p, bb, own=True))
                if lib and _library_may_match(p):
                    nxt.extend(self.query(self.library(), p, bb, own=True))
                for d in deps or ():
                    nxt.extend(self.query(d, p, bb, own=True))
            found = nxt
        return found

    def atoms_of(self, space: Any) -> list[Atom]:
        """Every atom of a space in hyperon's order (a durable space's session overlay among the stored)."""
        if not isinstance(space, Store):
            return list(space.atoms())
        overlay = session_overlay(space)
        return merged_atoms(space, overlay) if overlay is not None and overlay.tracks() else ordered_atoms(space)

    def _rules_for(self, expr: Atom) -> list[tuple[Atom, Any, Any, Any]] | None:
        head = expr.children[0] if type(expr) is Expression and expr.children else None
        key = (head.name, len(expr.children)) if type(head) is Symbol else None  # type: ignore[attr-defined]
        if key is None:
            return None
        cached = self._rules.get(key, _MISSING)
        if cached is _MISSING:
            cached = self._rules[key] = self._load_rules(key)
        return cached  # type: ignore[return-value]

    def _dep_rules(self, expr: Atom, b: Bindings) -> list[Pair]:
        """(body, bindings) of the rules for `expr` in the dependencies of this interpreter's space
        (the modules `import! &self` brought in), each dependency's in its own order."""
        out: list[Pair] = []
        body = fresh_variable("X")
        probe = Expression((EQ, expr, body))
        for d in self.own_deps:
            rows = d.rule_query(expr, body, b) if type(d) is MemorySpace and _symbol_call(expr) \
                else self.query(d, probe, b, own=True)
            for bb in rows:
                out.append((mark_function(bb.resolve(body), expr), bb))
        return out

    def _ground_bodies(self, expr: Atom) -> list[Atom]:
        """The instantiated body of each rule whose head matches a ground call: the space's own
        rules, then its dependencies' (the modules `import! &self` brought in)."""
        cached = self._rules_for(expr)
        if cached is None:
            out = [body for body, _ in self._own_rules(expr, EMPTY_BINDINGS)]
        else:
            out = []
            paths = []
            args = expr.children  # type: ignore[attr-defined]
            for rule, template, simple, tpath in cached:
                body = rule.children[2]  # type: ignore[attr-defined]
                if simple is not None:  # head `(f $a $b ...)`, distinct variables: its builder, nothing to unify
                    out.append(template(args))
                    paths.append(tpath)
                    continue
                # (one match, unless a space in the call matches in several ways: a body for each)
                bbs = unify_all(expr, rule.children[1], EMPTY_BINDINGS)  # type: ignore[attr-defined]
                if not bbs or met_by_value(self.space, expr, rule.children[1]):  # type: ignore[attr-defined]
                    continue
                for bb in bbs:
                    out.append(instantiate(body, template, bb.links) if template is not FALLBACK else bb.resolve(body))
                    paths.append(tpath)
            if len(out) > 1 and paths[0] is not None:
                out = [out[i] for i in reorder_for(paths, _call_tokens(expr))]
        if self.own_deps:
            out += [body for body, _ in self._dep_rules(expr, EMPTY_BINDINGS)]
        return out

    def _matching_rules(self, expr: Atom, b: Bindings) -> list[Pair]:
        """(body, bindings) for each rule `(= head body)` whose head unifies with expr: the space's
        own rules, then its dependencies' (hyperon queries `(= call $X)` in a module space)."""
        cached = self._rules_for(expr)
        if cached is None:
            out = self._own_rules(expr, b)
        else:
            out = []
            paths = []
            ground = expr.ground  # type: ignore[attr-defined]
            if not ground:  # (one map for the rules of one call, by their stored names: hyperon's)
                shared: dict[str, Variable] = {}
                stored = self._rule_names.get((expr.children[0].name, len(expr.children)), {})  # type: ignore[attr-defined]
            for rule, _template, _simple, tpath in cached:
                if not ground:
                    # the caller's variables must not meet the rule's: rename the whole rule apart
                    rule = rename_apart(rule, None, shared, stored)
                rhead, rbody = rule.children[1], rule.children[2]  # type: ignore[attr-defined]
                bbs = unify_all(expr, rhead, b)  # (several matches: a space in the call, see above)
                if not bbs or met_by_value(self.space, b.resolve(expr) if b.links else expr, rhead):
                    continue
                for bb2 in bbs:
                    out.append((rbody, bb2))
                    paths.append(tpath)
            if len(out) > 1 and paths[0] is not None:
                out = [out[i] for i in reorder_for(paths, _call_tokens(b.resolve(expr) if b.links else expr))]
        if self.own_deps:
            out += self._dep_rules(expr, b)
        return out

    def _own_rules(self, expr: Atom, b: Bindings) -> list[Pair]:
        """(body, bindings) of the space's own rules for `expr`, by a query of `(= expr $X)` (a space
        whose rules are not cached: a session space, or too many rules under one head)."""
        body = fresh_variable("X")
        space = self.space
        rows = space.rule_query(expr, body, b) if type(space) is MemorySpace and _symbol_call(expr) \
            else self.query(space, Expression((EQ, expr, body)), b, own=True)
        return [(mark_function(bb.resolve(body), expr), bb) for bb in rows]

    def _load_rules(self, key: tuple[str, int]) -> list[tuple[Atom, Any, Any, Any]] | None:
        """The candidate rules for a head and arity, when there are few enough to keep in memory."""
        if not isinstance(self.space, Store):
            return None
        name, arity = key
        probe = Expression((EQ, Expression((Symbol(name), *[Variable(f"a{i}") for i in range(arity - 1)])), Variable("X")))
        overlay = session_overlay(self.space)
        if overlay is not None and overlay.touches(probe):  # rules holding session objects: query both each time
            return None
        rules: list[tuple[Atom, Any, Any, Any]] = []
        stored_names: dict[str, str] = {}
        for bb, tpath in ordered_matches(self.space, probe):  # the alternatives in hyperon's trie order
            rule = rename_apart(bb.resolve(probe))
            vs = [a.name for a in dict.fromkeys(iter_atoms(rule)) if type(a) is Variable]
            if tpath.names and len(tpath.names) == len(vs):  # (both in the order first written)
                stored_names.update(zip(vs, ["\0" + n for n in tpath.names], strict=True))
            if mark_function(rule.children[2], rule.children[1]) is not rule.children[2]:  # type: ignore[attr-defined]
                rule = Expression((EQ, rule.children[1], mark_function(rule.children[2], rule.children[1])))  # type: ignore[attr-defined]
            head_vars = {a for a in iter_atoms(rule.children[1]) if type(a) is Variable}  # type: ignore[attr-defined]
            template = body_template(rule.children[2], head_vars)  # type: ignore[attr-defined]
            hargs = rule.children[1].children[1:]  # type: ignore[attr-defined]
            simple = hargs if template is not FALLBACK and all(type(a) is Variable for a in hargs) \
                and len(set(hargs)) == len(hargs) else None
            if simple is not None:  # (the template of such a rule is its builder)
                template = body_builder(rule.children[2], simple)  # type: ignore[attr-defined]
            rules.append((rule, template, simple, tpath))
            if len(rules) > 256:
                return None
        if len({head_tokens(r[3]) for r in rules}) < 2:  # one head for all: a call keeps this order
            rules = [(r[0], r[1], r[2], None) for r in rules]
        # generic rules `(= $x ...)` also apply
        generic = Expression((EQ, Variable("x"), Variable("b")))
        for bb in run_query(self.space, generic):
            if type(bb.resolve(Variable("x"))) is Variable:
                return None
        self._rule_names[key] = stored_names
        return rules

    # ------------------------------------------------------------------ types
    def types_of(self, atom: Atom) -> list[Atom]:
        """The types of an atom (`%Undefined%` when it has none declared)."""
        return self.types.types_of(atom)

    def written_bool(self, call: Expression) -> int:
        """How a call as written is a Bool: 2 plainly (every declared type returns Bool), 1 maybe (its
        values are checked), 0 to be checked as written first."""
        return self.types.returns_bool(call)

    def function_type(self, head: Atom) -> Atom | None:
        """The first function type `(-> ...)` of a head (its variables fresh), or None."""
        return self.types.function_type(head)

    def check_added(self, atom: Atom) -> list[Atom]:
        """The errors `pragma! type-check auto` reports for an atom about to be added (none: it fits)."""
        return self.types.check_added(atom)

    def spawn(self, space: Any, base_dir: str) -> Interpreter:
        """An interpreter for another space with this one's limits (for `import!`)."""
        sub = Interpreter(space, max_steps=self.max_steps, max_depth=self.max_depth, max_memory=self.max_memory,
                          out=self.out,
                          base_dir=base_dir, allow_import=self.allow_import, readonly=self.readonly,
                          allow_python=self.allow_python)
        sub.modules, sub.deps, sub.deps_used, sub.top_atom = self.modules, self.deps, self.deps_used, self.top_atom
        sub.aliases, sub.failed_modules = self.aliases, self.failed_modules
        sub.module_names, sub.module_paths = self.module_names, self.module_paths
        sub.top_dir = self.top_dir
        sub.own_deps = self.deps.get(id(space), sub.own_deps)
        return sub

    # ------------------------------------------------------------------ writes
    def add_atom(self, space: Any, atom: Atom, encoded: tuple[bytes, list[str]] | None = None) -> None:
        """Add an atom to a space; `encoded` is its `encode_with_names` when the caller has it."""
        if self.readonly and space is self.space:
            raise ReadOnlyError(f"this evaluation cannot write to the space {_READ_ONLY_WHY}")
        if isinstance(space, Store) and holds_session_object(atom):
            session_overlay(space, create=True).add_numbered(atom, next_stored_seq(space))  # type: ignore[union-attr]
        elif isinstance(space, Store):
            if encoded is None:
                encoded = encode_with_names(atom)
            overlay = session_overlay(space)
            if overlay is not None and overlay.tracks():  # (after a rollback, the atoms there come before this one)
                overlay.settle(next_stored_seq(space))
            space.add_encoded(*encoded)
            if self.adds is not None and space is self.space:
                k = (encoded[0], *encoded[1])
                self.adds[k] = self.adds.get(k, 0) + 1
        else:
            space.add(atom)
        self.invalidate()

    def remove_atom(self, space: Any, atom: Atom) -> bool:
        if self.readonly and space is self.space:
            raise ReadOnlyError(f"this evaluation cannot write to the space {_READ_ONLY_WHY}")
        if isinstance(space, Store) and holds_session_object(atom):
            overlay = session_overlay(space)
            ok = overlay is not None and overlay.remove_from(space, atom)
        elif isinstance(space, Store):  # (only an atom with these variable names, as in hyperon)
            overlay = session_overlay(space)
            if not stored_removable(space, atom, overlay if overlay is not None and overlay.tracks() else None):
                self.invalidate()
                return False  # (hyperon's trie looks for it in another branch)
            # (beside an overlay, its trie nodes keep their numbers)
            remove = overlay.remove_stored if overlay is not None and overlay.tracks() else None
            ok = space.remove(atom, exact=True) if remove is None else remove(space, atom, exact=True)
            if not ok:  # `(w 3)` removes a stored `(w 3.0)`, as in hyperon
                other = stored_by_value(space, atom)
                ok = other is not None and (space.remove(other, exact=True) if remove is None
                                            else remove(space, other, exact=True))
        else:
            ok = bool(space.remove(atom))
        self.invalidate()
        return ok

    def print_line(self, text: str) -> None:
        """Write one line to the session's output (stdout by default)."""
        out = self.out if self.out is not None else sys.stdout
        out.write(text + "\n")
        out.flush()


_NO_EXPECTATION = frozenset({"%Undefined%", "Atom", "Expression"})


def _expected(t: Atom) -> Atom | None:
    """What a value is checked against for an expected type (None: nothing to check)."""
    if type(t) is Variable or (type(t) is Symbol and t.name in _NO_EXPECTATION):
        return None
    return t


def _call_tokens(expr: Atom) -> list[Any]:
    """The trie tokens of the query hyperon makes for a call: `(= call $X)`."""
    return atom_tokens(Expression((EQ, expr, Variable("X"))))


def _settled(gen: Gen) -> Gen:
    """A call's results for a caller that is not the driver: its tail calls (`Become`, a generator
    that takes its place) run here."""
    got: Any = yield from gen
    while type(got) is not list:
        if type(got) is Become:
            got = got[0].after((yield got[1]))
        elif type(got) is GeneratorType:
            got = yield from got
        else:
            got = yield got
    return got


def _given(results: list[Pair]) -> Gen:
    """A generator that gives `results` (for a continuation that has nothing to evaluate)."""
    return results
    yield  # pragma: no cover


def _unmarked(body: Atom) -> Atom:
    """A rule's body as written."""
    if type(body) is Expression and len(body.children) == 3 and body.children[0] == RULE_FUNCTION:
        return body.children[1]
    return body


def _drop_errors(results: list[Pair]) -> list[Pair]:
    """The results that are not errors, or all of them when every one is an error."""
    ok = [p for p in results if not is_error(p[0])]
    return ok or results


def _ground_row(b: Bindings) -> bool:
    for v in b.links.values():
        tv = type(v)
        if tv is Variable or (tv is Expression and not v.ground):  # type: ignore[attr-defined]
            return False
    return True


_LIBRARY_HEADS = (Symbol(":"), EQ)
#: their names, the documentation's, and a conjunction's (whose conjuncts may be such atoms)
_LIBRARY_HEAD_NAMES = frozenset({":", "=", ",", "@doc"})
_DOC_HEAD = Symbol("@doc")


def _library_may_match(pattern: Atom) -> bool:
    """Whether a pattern can match one of the standard library's atoms (`(: ...)` and `(= ...)`, three
    elements each, its `@doc`s, three or five): most patterns cannot, and a query of them does not
    read the library's space."""
    tp = type(pattern)
    if tp is Variable:
        return True
    if tp is not Expression:
        return False
    kids = pattern.children  # type: ignore[attr-defined]
    if kids and type(kids[0]) is Symbol and kids[0].name == ",":  # a conjunction: when one of its conjuncts can
        return any(map(_library_may_match, kids[1:]))
    n = len(kids)
    if n == 3 and (type(kids[0]) is Variable or kids[0] in _LIBRARY_HEADS):
        return True
    return (n == 3 or n == 5) and (type(kids[0]) is Variable or kids[0] == _DOC_HEAD)  # (its documentation)


def _symbol_call(expr: Atom) -> TypeGuard[Expression]:
    """Whether an atom is a call headed by a symbol (`MemorySpace.rule_query` can answer for it)."""
    return type(expr) is Expression and bool(expr.children) and type(expr.children[0]) is Symbol


def _replace(atom: Atom, subst: dict[Atom, Atom]) -> Atom:
    """Replace leaves by the map, sharing unchanged subtrees."""
    return rebuild(atom, lambda a: subst.get(a, a),  # type: ignore[no-any-return]
                   lambda e, new: e if all(x is y for x, y in zip(new, e.children)) else Expression(new))
