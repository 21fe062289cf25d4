"""The interpreter's vocabulary: result pairs, error atoms, the special-form registry.

Every other module of the package imports this one and nothing above it.
A special form is a generator `(machine, atom, bindings) -> [(result, bindings)]`
registered by `special`; the `Machine` protocol is what a form may ask of the
interpreter running it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from typing import Any, Protocol, TextIO

from ..atoms import Atom, Bool, Expression, Float, Integer, String, Symbol, Variable, rebuild
from ..bindings import Bindings
from ..parser import parse_atom
from ..trieorder import is_char_name

__all__ = [
    "ARROW",
    "ATOM_T",
    "BARE_MINIMAL",
    "BOOL_T",
    "CHAR_T",
    "COLON",
    "EQ",
    "ERROR",
    "ERRORS_MADE",
    "EXPRESSION_T",
    "FALSE",
    "FUNCTION",
    "GROUNDED_NAMES",
    "GROUNDED_TYPES",
    "META_TYPES",
    "NO_RETURN",
    "NUMBER_T",
    "REVERSED",
    "RULE_FUNCTION",
    "SPECIAL",
    "SPECIAL_ARITY",
    "SPECIAL_CHECKED",
    "SPECIAL_SIGNATURES",
    "SPECIAL_TYPES",
    "STACK_OVERFLOW",
    "STRING_T",
    "TAIL_DEPTH",
    "TRUE",
    "UNDEFINED",
    "UNIT",
    "Become",
    "Fail",
    "Gen",
    "Machine",
    "NoReduce",
    "Pair",
    "Reversed",
    "Special",
    "Tail",
    "Typed",
    "error",
    "format_results",
    "in_sandbox",
    "is_char",
    "is_error",
    "mark_function",
    "metatype",
    "special",
    "wrong_arity",
]

Pair = tuple[Atom, Bindings]
Gen = Generator[Pair, list[Pair], list[Pair]]


class Tail(tuple[Atom, Bindings]):
    """A request to evaluate an atom in tail position (a rule's body, a chosen branch).

    hyperon reports a type error found there as it reports one in the `!`
    expression itself (expected types resolved); an error in an argument's
    evaluation shows the parameter type as declared (`$t`).
    """

    __slots__ = ()


class Typed(Tail):
    """A request to evaluate an atom whose values must have a type, hyperon's `(metta atom type)`:
    built as `Typed((atom, bindings, type, tail))` (a 4-tuple; `tail` as for `Tail`).

    hyperon 0.2.10 checks a value against the type the context expects of it when it is not an
    expression (a number, a symbol); a call of a typed function is checked by its return type
    instead, and that function's own values against its return type (`%Undefined%`, `Atom`,
    `Expression` and unbound type variables expect nothing)."""

    __slots__ = ()


class Become(tuple[Any, Any]):
    """A generator's last word on the driver's stack, a tail call: `Become((after, request))`, its
    results are the request's, passed through `after` (an object on the driver's stack, no generator,
    whose `after(results)` gives the generator's, and whose `send(results)` raises `StopIteration`
    with them, as a generator's would: `REVERSED`).  The generator's frame is freed while
    the request is evaluated, so a recursion through it keeps only `after` per level."""

    __slots__ = ()


class Reversed:
    """The stack entry of `Become` that hands back its request's results last first (hyperon
    finishes what is one step below a call, a rule's body or a chosen branch, last first)."""

    __slots__ = ()

    def after(self, rs: list[Pair]) -> list[Pair]:
        return rs[::-1] if len(rs) > 1 else rs

    def send(self, rs: list[Pair]) -> None:
        """As a generator's `send`: the driver's stack takes the results here."""
        raise StopIteration(self.after(rs))


REVERSED = Reversed()
#: how deep the driver's stack is before calls in tail position are made as tail calls (`Become`):
#: a deep recursion then keeps less per level; shallower, a generator that waits costs fewer instructions
TAIL_DEPTH = 200


UNIT = Expression(())
ERROR = Symbol("Error")
EQ = Symbol("=")
COLON = Symbol(":")
ARROW = Symbol("->")
UNDEFINED = Symbol("%Undefined%")
ATOM_T = Symbol("Atom")
EXPRESSION_T = Symbol("Expression")
TRUE, FALSE = Bool(True), Bool(False)
NUMBER_T, STRING_T, BOOL_T = Symbol("Number"), Symbol("String"), Symbol("Bool")
CHAR_T = Symbol("Char")
META_TYPES = {"Atom", "Expression", "Symbol", "Variable", "Grounded"}
GROUNDED_TYPES: dict[type, Atom] = {Integer: NUMBER_T, Float: NUMBER_T, String: STRING_T, Bool: BOOL_T}


#: how many error atoms evaluation has made or met so far (`error`, the `Error` form, results taken
#: unevaluated): the driver looks for errors among an evaluation's results only after one appeared
ERRORS_MADE = [0]

#: the name (before `#N`) of the fresh variable minimal MeTTa's `function` gives when its body
#: returns nothing (hyperon 0.2.10's `$result`)
NO_RETURN = "result"
FUNCTION = Symbol("function")
#: the head of a rule body that is a `function` whose value is evaluated (not a name one can write)
RULE_FUNCTION = Symbol("function of a rule")
#: the head of a `!` expression run as hyperon 0.2.10 runs one under `pragma! interpreter
#: bare-minimal`: by its minimal interpreter, not wrapped in `metta` (not a name one can write)
BARE_MINIMAL = Symbol("run by the minimal interpreter")
STACK_OVERFLOW = Symbol("StackOverflow")


def mark_function(body: Atom, call: Atom) -> Atom:
    """A rule body (or a branch of `if`, `case`, `switch`: rules in hyperon 0.2.10) that is a
    `function`, as `(RULE_FUNCTION body call)`, so that what it returns is evaluated; others as they are."""
    if type(body) is Expression and len(body.children) == 2 and body.children[0] == FUNCTION:
        return Expression((RULE_FUNCTION, body, call))
    return body


def in_sandbox(it: Machine, path: str, real: bool = False) -> bool:
    """Whether a file a script reads (a module, a file it opens) is under the script's directory or a
    directory `--allow-import` names; with `real`, `path` has its links followed and the roots too."""
    roots = (it.base_dir, *it.allow_import)
    return any(os.path.commonpath([path, root]) == root for root in (map(os.path.realpath, roots) if real else roots))


def error(atom: Atom, message: Atom | str) -> Expression:
    """`(Error atom message)`; a str message becomes a String (hyperon quotes them)."""
    ERRORS_MADE[0] += 1
    return Expression((ERROR, atom, String(message) if isinstance(message, str) else message))


def is_char(a: Atom) -> bool:
    """A Char atom (`'a'`): a symbol of one character (a code point, not a quote) between single quotes;
    as in hyperon 0.2.10, a longer spelling (`'ab'`, a backslash escape) or a quote between quotes is a
    plain symbol."""
    return type(a) is Symbol and is_char_name(a.name)


def is_error(atom: Atom) -> bool:
    """Whether the atom is an `(Error ...)` expression."""
    return type(atom) is Expression and len(atom.children) >= 2 and atom.children[0] == ERROR


#: the names hyperon 0.2.10's tokenizer turns into grounded operations (`get-metatype` of each is
#: `Grounded` there; read off `metta`); mettadb keeps them as symbols
GROUNDED_NAMES = frozenset("""
% * + - / < <= == =alpha > >= _new-state abs-math acos-math add-atom and asin-math atan-math bind! capture
ceil-math change-state! charsToString cos-math floor-math format-args get-atoms get-metatype get-state get-type
get-type-space git-module! if-equal import! include index-atom intersection-atom isinf-math isnan-math load-ascii
log-math match max-atom min-atom mod-space! module-space-no-deps new-space nop not or parse pow-math pragma!
print-mods! println! py-atom py-chain py-dict py-dot py-list py-tuple register-module! remove-atom repr round-math
sealed sin-math size-atom sort-strings sqrt-math stringToChars subtraction-atom superpose tan-math trace!
trunc-math union-atom unique-atom xor""".split())


def metatype(atom: Atom) -> str:
    """Symbol, Variable, Expression or Grounded (a grounded operation's name is Grounded, and a Char:
    hyperon's Python object)."""
    t = type(atom)
    if t is Symbol:
        return "Grounded" if atom.name in GROUNDED_NAMES or is_char(atom) else "Symbol"  # type: ignore[attr-defined]
    if t is Variable:
        return "Variable"
    if t is Expression:
        return "Expression"
    return "Grounded"


class Fail(Exception):
    """A grounded operation's error: becomes `(Error expr message)`."""

    def __init__(self, message: Atom | str) -> None:
        self.message = message


class NoReduce(Exception):
    """A grounded operation does not apply: the expression stays as it is."""




class Machine(Protocol):
    """What a special form or grounded operation may use of the interpreter running it."""

    space: Any
    tokens: dict[str, Atom]
    base_dir: str
    #: the run's directory (the top module's): `base_dir` of the interpreter `spawn`ed ones come from
    top_dir: str
    allow_import: list[str]
    #: whether the run may run Python code (`py-atom`, `py-dot`, a Python operation: `--allow-python`)
    allow_python: bool
    max_steps: int | None
    max_depth: int
    #: hyperon's `pragma! max-stack-depth` (0: none): an evaluation that would go deeper gives a
    #: `StackOverflow` error atom; `pragma! interpreter bare-minimal`: `!`s run as minimal MeTTa
    stack_overflow: int
    bare_minimal: bool
    #: the driver's stack (its generators, and what tail calls do after their requests)
    stack: list[Any]
    out: TextIO | None
    readonly: bool
    type_check: bool
    steps: int
    #: the type the context expects of the `if` being called (None: nothing): set by the driver just
    #: before it starts the form, read and cleared by `if` before its first yield
    want: Atom | None
    #: (head name, length) -> the cached answer of `written_bool` for such calls
    bool_calls: dict[tuple[str, int], int]
    #: id(error) -> (error, the typed call whose arguments gave it), in the current evaluation
    arg_errors: dict[int, tuple[Atom, Atom]]
    #: the space atom `&self` names
    self_atom: Any
    #: modules loaded in this run: file path -> module space atom
    modules: dict[str, Any]
    #: module names `register-module!` gave this run: name -> the file or directory it names
    aliases: dict[str, str]
    #: files of modules named directly under the top module whose loading failed in this run
    failed_modules: set[str]
    #: hyperon's module name tree of this run: the names directly under the top module (imported,
    #: loaded as a parent of an imported module, registered), and the paths, as hyperon forms them
    #: (a name's parts joined to the directory, a `register-module!` argument as written), of the
    #: modules it loaded
    module_names: set[str]
    module_paths: set[str]
    #: the run's top module (the script's `&self`)
    top_atom: Any
    #: when a script runner sets it: copies added to the interpreter's stored space in this run, by path
    adds: dict[tuple[Any, ...], int] | None

    #: a module space's dependencies: id(space) -> the spaces its queries read after its own atoms
    deps: dict[int, list[Any]]

    def depend(self, space: Any, dep: Any) -> None: ...
    def library(self) -> Any: ...

    def space_of(self, atom: Atom) -> Any: ...
    def tokens_in(self, atom: Atom) -> Atom: ...
    def query(self, space: Any, pattern: Atom, b: Bindings, library: bool = False, own: bool = False) -> list[Bindings]: ...
    def atoms_of(self, space: Any) -> list[Atom]: ...
    def add_atom(self, space: Any, atom: Atom, encoded: tuple[bytes, list[str]] | None = None) -> None: ...
    def remove_atom(self, space: Any, atom: Atom) -> bool: ...
    def invalidate(self) -> None: ...
    def print_line(self, text: str) -> None: ...
    def types_of(self, atom: Atom) -> list[Atom]: ...
    def check_special(self, atom: Expression, b: Bindings) -> list[Pair]: ...
    def written_bool(self, call: Expression) -> int: ...
    def function_type(self, head: Atom) -> Atom | None: ...
    def evaluate(self, atom: Atom) -> list[Atom]: ...
    def rule_results(self, atom: Atom, b: Bindings) -> list[Pair] | None: ...
    def grounded_once(self, atom: Expression, b: Bindings) -> list[Pair] | None: ...
    def ill_typed_head(self, expr: Expression) -> bool: ...
    def spawn(self, space: Any, base_dir: str) -> Machine: ...


Special = Callable[[Any, Expression, Bindings], Gen]
#: special forms by name, and the types they declare
SPECIAL: dict[str, Special] = {}
SPECIAL_TYPES: dict[str, Atom] = {}
#: the length of a well-formed call (the form and its arguments), for forms registered with an arity
SPECIAL_ARITY: dict[str, int] = {}
# forms whose arguments, as written, the driver checks against the declared parameter types first
# (hyperon type-checks a call of a typed head before evaluating it): name -> the parameter types
SPECIAL_CHECKED: dict[str, tuple[Atom, ...]] = {}
#: every declared type of a form that hyperon declares with several (`help!`, `@doc`), in its order;
#: `SPECIAL_TYPES` holds the first (the form itself checks a call against them)
SPECIAL_SIGNATURES: dict[str, tuple[Atom, ...]] = {}


def wrong_arity(atom: Atom, b: Bindings) -> list[Pair]:
    """hyperon's `(Error atom IncorrectNumberOfArguments)` as the only result."""
    return [(error(atom, Symbol("IncorrectNumberOfArguments")), b)]


def special(name: str, type_text: str | None = None, arity: int | None = None,
            checked: bool = False) -> Callable[[Special], Special]:
    """Register a special form; with `arity`, the driver answers a call with another number of
    arguments with an arity error, so the form never sees one; with `checked` (and `arity`), a call
    whose arguments as written do not fit the declared parameter types with hyperon's BadArgType."""

    def deco(fn: Special) -> Special:
        SPECIAL[name] = fn
        if arity is not None:
            SPECIAL_ARITY[name] = arity + 1
        if type_text is not None:
            SPECIAL_TYPES[name] = parse_atom(type_text)
            if checked:
                SPECIAL_CHECKED[name] = SPECIAL_TYPES[name].children[1:-1]  # type: ignore[attr-defined]
        return fn

    return deco


#: how hyperon prints the space a stored `&self` stands for (a script's own space, the top module's)
SELF_SHOWN = Symbol("ModuleSpace(GroundingSpace-top)")


def format_results(results: list[Atom]) -> str:
    """One `!` line's results as hyperon's `metta` prints them: `[r1, r2]`.

    A stored atom holds the space it names as the symbol `&self` (a durable space cannot hold the
    session's object): it prints as the space, as hyperon, which stores the object, prints it.
    hyperon hands each atom's text over as a C string: a NUL (in a symbol a module file made) ends it."""
    texts = []
    for r in results:
        t = str(r)
        if "&self" in t:
            t = str(rebuild(r, lambda a: SELF_SHOWN if type(a) is Symbol and a.name == "&self" else a,
                            lambda e, kids: Expression(tuple(kids))))
        texts.append(t.split("\0", 1)[0])
    return "[" + ", ".join(texts) + "]"

