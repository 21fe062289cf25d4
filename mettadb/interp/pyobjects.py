"""Python objects as atoms: hyperon 0.2.10's `py-atom`, `py-dot`, `py-tuple`, `py-list`, `py-dict`
and `py-chain`, and the calls of the Python operations `py-atom` finds.

`PyObject` is the grounded atom holding a Python object: a value (a tuple, a list, a module...) or
an operation (a callable, named as hyperon names it).  Python's own `bool`, `int`, `float` and `str`
become MeTTa's `Bool`, `Number` and `String` atoms, as in hyperon (a float prints as Python prints
it: `ReprFloat`, one of a float subclass as its object's `repr`: `ShownFloat`; a string as hyperon's Python prints it: `ReprText`).

Python code sees a MeTTa atom through the classes hyperon's Python API names (`SymbolAtom`,
`VariableAtom`, `ExpressionAtom`, `GroundedAtom`: a view of the atom, printed as the atom prints),
so what hyperon's library does with them, and the Python errors it meets, are the same here.  A
Python exception becomes hyperon's `(Error CALL Exception caught:\\n<Type>: <message>\\n\\nAt:\\n)`,
without the traceback lines hyperon lists (its install paths).

`py-atom`, `py-dot` and calling a Python operation run Python code, which only a run given
`allow_python` (`--allow-python`) may do; the others build values from atoms and are always there.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from ..atoms import Atom, Bool, Expression, Float, Grounded, Integer, Regex, ReprFloat, ReprText, ShownFloat, String, Symbol, Variable
from ..errors import LimitError
from .core import ARROW, GROUNDED_NAMES, UNDEFINED, UNIT, Fail, Machine, NoReduce, is_char

__all__ = ["IN_PYTHON", "PY_OPERATIONS", "PyObject", "allowed", "call_object", "exception_caught", "library_op", "refusal", "view"]


class PyObject(Grounded):
    """A Python object as a grounded atom (immutable: the wrapper, not the object).  `name` is set
    for an operation (a callable `py-atom` found, or a call returned): it prints as its name and
    equals another operation of that name; a value prints as Python's `repr` and equals another
    value that Python finds equal.  `typ` is its MeTTa type (`%Undefined%` unless `py-atom` gave
    one); `unwrap`: an operation is given its arguments' Python values, else their atoms."""

    __slots__ = ("name", "typ", "unwrap")
    session_kind = "Python object"
    keyed_with_variables = True
    name: str | None
    typ: Atom
    unwrap: bool

    def __init__(self, obj: Any, typ: Atom = UNDEFINED, name: str | None = None, unwrap: bool = True) -> None:
        object.__setattr__(self, "value", obj)
        object.__setattr__(self, "typ", typ)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "unwrap", unwrap)
        object.__setattr__(self, "_hash", hash(("PyObject", name)))  # (a value may be unhashable)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if type(other) is not PyObject:
            return False
        if self.name is not None or other.name is not None:
            return self.name == other.name
        try:
            return bool(self.value == other.value)
        except Exception:  # (a Python object whose equality fails is equal to nothing else)
            return False

    __hash__ = Grounded.__hash__

    def __repr__(self) -> str:
        return f"PyObject({self.text()})"

    def text(self) -> str:
        """How the object prints: an operation's name, a value's Python `repr`."""
        if self.name is not None:
            return self.name
        try:
            return repr(self.value)
        except Exception:
            return f"<{type(self.value).__name__} object whose repr failed>"

    @property
    def is_operation(self) -> bool:
        """Whether a call with this atom as its head runs it."""
        return self.name is not None


# ---------------------------------------------------------------- atoms as Python sees them

class _View:
    """A MeTTa atom as Python code sees it (hyperon's Python atom classes): it prints as the atom,
    equals a view of an equal atom and, like hyperon's, cannot be hashed (no dict key, no set)."""

    __slots__ = ("atom",)

    def __init__(self, atom: Atom) -> None:
        self.atom = atom

    def __repr__(self) -> str:
        return str(self.atom)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _View) and other.atom == self.atom

    __hash__ = None  # type: ignore[assignment]

    def get_metatype(self) -> str:
        return type(self).__name__.replace("Atom", "")


class SymbolAtom(_View):
    """A symbol, seen from Python."""

    __slots__ = ()

    def get_name(self) -> str:
        return str(self.atom.name)  # type: ignore[attr-defined]


class VariableAtom(_View):
    """A variable, seen from Python."""

    __slots__ = ()

    def get_name(self) -> str:
        return str(self.atom.name)  # type: ignore[attr-defined]


class ExpressionAtom(_View):
    """An expression, seen from Python."""

    __slots__ = ()

    def get_children(self) -> list[_View]:
        return [view(k) for k in self.atom.children]  # type: ignore[attr-defined]


class ValueObject:
    """What a grounded atom holds, seen from Python (its `content`)."""

    __slots__ = ("content",)

    def __init__(self, content: Any) -> None:
        self.content = content

    @property
    def value(self) -> Any:
        return self.content


class Char:
    """A Char (`'c'`) as Python code sees it: hyperon's Python `Char` (its library's class, whose name
    Python prints as hyperon's: `<class 'hyperon.stdlib.Char'>`), `str` its character, `repr` that
    between quotes, equal to a Char of the same character."""

    __slots__ = ("char",)
    __module__ = "hyperon.stdlib"

    def __init__(self, char: str) -> None:
        if len(char) != 1:
            raise ValueError("A Char object must be initialized with a single character.")
        self.char = char

    def __str__(self) -> str:
        return self.char

    def __repr__(self) -> str:
        return f"'{self.char}'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Char) and self.char == other.char

    __hash__ = None  # type: ignore[assignment]


class SpaceRef:
    """A space, seen from Python (hyperon gives its space's reference, which holds no `content`)."""

    __slots__ = ("space",)

    def __init__(self, space: Atom) -> None:
        self.space = space

    def __repr__(self) -> str:
        return str(self.space)


class GroundedAtom(_View):
    """A grounded atom, seen from Python: `get_object()` is what it holds."""

    __slots__ = ()

    def get_object(self) -> Any:
        a = self.atom
        t = type(a)
        if t is PyObject:
            return ValueObject(a.value)  # type: ignore[attr-defined]
        if t is Symbol and is_char(a):  # (a Char: hyperon's Python object)
            return ValueObject(Char(a.name[1]))  # type: ignore[attr-defined]
        if t is String:
            return ValueObject(str(a.value))  # type: ignore[attr-defined]
        if t is Float:
            return ValueObject(float(a.value))  # type: ignore[attr-defined]
        if t is Integer or t is Bool:
            return ValueObject(a.value)  # type: ignore[attr-defined]
        if t is Regex:  # (hyperon's RegexMatchableObject: its content is its token, rewritten)
            return ValueObject(str(a.value))  # type: ignore[attr-defined]
        if getattr(a, "matches_by_query", False):
            return SpaceRef(a)
        # (hyperon's own grounded atoms: its library's operations, a state, ...)
        raise TypeError(f"Cannot get Python object of unsupported non-C atom {a}")


def view(atom: Atom) -> _View:
    """An atom as Python code sees it."""
    t = type(atom)
    if t is Symbol:
        # (an operation's name, or a Char)
        grounded = atom.name in GROUNDED_NAMES or is_char(atom)  # type: ignore[attr-defined]
        return GroundedAtom(atom) if grounded else SymbolAtom(atom)
    if t is Variable:
        return VariableAtom(atom)
    if t is Expression:
        return ExpressionAtom(atom)
    return GroundedAtom(atom)


def _atom_of(obj: Any) -> Atom:
    """A view back as its atom; other Python objects as a type `py-atom` was given (hyperon's `_type_sugar`)."""
    if isinstance(obj, _View):
        return obj.atom
    if obj is None:
        return UNDEFINED
    if isinstance(obj, list):
        return Expression((ARROW, *[_atom_of(x) for x in obj]))
    if isinstance(obj, str):
        return Variable(obj[1:]) if obj.startswith("$") else Symbol(obj)
    raise AttributeError(f"'{type(obj).__name__}' object has no attribute 'catom'")


#: integers past this many bits may be past Python's limit on the digits of a printed integer (4300)
_MAX_PRINTED_BITS = 14_000
_PRIMITIVE_TYPES = {bool: "Bool", int: "Number", float: "Number", str: "String"}


def value_atom(obj: Any, typ: Atom = UNDEFINED) -> Atom:
    """A Python value as an atom (hyperon's `ValueAtom`): Python's bool, int, float and str are
    MeTTa's, of their type only; anything else is a `PyObject` of type `typ`."""
    kind = _PRIMITIVE_TYPES.get(type(obj)) or next((k for p, k in _PRIMITIVE_TYPES.items() if isinstance(obj, p)), None)
    if kind is None:
        if type(obj) is Char and typ == UNDEFINED and is_char(Symbol(repr(obj))):  # (a Char again)
            return Symbol(repr(obj))
        return PyObject(obj, typ)
    if typ != UNDEFINED and typ != Symbol(kind):
        shown = '"' + repr(obj)[1:-1].replace('"', '\\"') + '"' if isinstance(obj, str) else repr(obj)
        raise AssertionError(f"Grounded {type(obj).__name__} {shown} can't have a custom type {typ}")
    if isinstance(obj, bool):
        return Bool(obj)
    if isinstance(obj, int):
        if obj.bit_length() > _MAX_PRINTED_BITS:
            str(obj)  # (Python's own error: a number too long to print, which hyperon prints)
        return Integer(int(obj))
    if isinstance(obj, float):
        f = Float(float(obj))
        value = ReprFloat(obj)
        if type(obj) is not float:  # (hyperon keeps such an object and prints its repr)
            value = ShownFloat(obj)
            try:
                value.shown = repr(obj)
            except Exception:
                value.shown = float.__repr__(value)
        object.__setattr__(f, "value", value)
        return f
    return String(ReprText(obj))


def _unwrap(a: _View, symbol_to_str: bool = False) -> Any:
    """A view's Python value: what a grounded atom holds (a space itself); with `symbol_to_str`, a
    symbol's name; any other atom as its view (hyperon's `try_unwrap_python_object`)."""
    if isinstance(a, GroundedAtom):
        obj = a.get_object()
        return obj.content if isinstance(obj, ValueObject) else obj
    if symbol_to_str and isinstance(a, SymbolAtom):
        return a.get_name()
    return a


def _string_value(value: Any) -> str:
    """A key's text (hyperon's `get_string_value`): its printed form, a string's quotes dropped."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


class _NoReduce(Exception):
    """hyperon's `NoReduceError`: the call stays as it is."""


# ---------------------------------------------------------------- the library's operations (given views)
# Their Python names and parameters are hyperon's: a wrong call's TypeError reads as it reads there.

def py_tuple(metta_tuple: Any) -> list[Atom]:
    return [value_atom(_nested(tuple, metta_tuple))]


def py_list(metta_tuple: Any) -> list[Atom]:
    return [value_atom(_nested(list, metta_tuple))]


def _nested(make: Callable[[list[Any]], Any], expr: Any) -> Any:
    """An expression's children as a tuple or list (`make`), its expressions nested likewise."""
    out = []
    for a in expr.get_children():
        out.append(_nested(make, a) if isinstance(a, ExpressionAtom) else _unwrap(a))
    return make(out)


def _key_value(pair: Any) -> tuple[Any, Any]:
    kids = pair.get_children()
    if len(kids) != 2:
        raise Exception("Syntax error in tuple_to_keyvalue")
    return _unwrap(kids[0], symbol_to_str=True), _unwrap(kids[1])


def py_dict(metta_tuple: Any) -> list[Atom]:
    return [value_atom(dict([_key_value(a) for a in metta_tuple.get_children()]))]


def py_chain(metta_tuple: Any) -> list[Atom]:
    objects = [_unwrap(a) for a in metta_tuple.get_children()]
    result = objects[0]
    for obj in objects[1:]:
        result = result | obj
    return [value_atom(result)]


def _import_from_module(path: str, mod: Any = None) -> Any:
    parts = path.split(".")
    obj = mod
    if obj is None:
        here = os.getcwd()
        added = here not in sys.path
        if added:
            sys.path.append(here)
        try:
            for j in range(len(parts), 0, -1):  # the longest importable prefix
                try:
                    obj = importlib.import_module(".".join(parts[:j]))
                except BaseException as e:
                    if isinstance(e, (LimitError, KeyboardInterrupt)):
                        raise
                    continue
                parts = parts[j:]
                break
        finally:
            if added and here in sys.path:
                sys.path.remove(here)
        assert obj is not None
    for p in parts:
        obj = getattr(obj, p)
    return obj


def _find_py_obj(path: str, mod: Any = None) -> Any:
    try:
        return _import_from_module(path, mod)
    except BaseException as e:
        if isinstance(e, (LimitError, KeyboardInterrupt)):
            raise
    main = sys.modules.get("__main__")
    if hasattr(main, path):
        return getattr(main, path)
    scope: dict[str, Any] = {}
    try:
        exec(f"__obj = {path}", {}, scope)  # (as hyperon: the text is Python)
    except BaseException as e:
        if isinstance(e, (LimitError, KeyboardInterrupt)):
            raise
        raise RuntimeError(f'Failed to find "{path}"') from None
    return scope["__obj"]


def get_py_atom(path: Any, typ: Any = None, unwrap: Any = True, mod: Any = None) -> list[Atom]:
    name = str(path.get_object().content if isinstance(path, GroundedAtom) else path)
    if mod is not None:
        if not isinstance(mod, GroundedAtom):
            raise _NoReduce()
        mod = mod.get_object().content
    obj = _find_py_obj(name, mod)
    if isinstance(typ, GroundedAtom):
        typ = typ.get_object().content
    if isinstance(typ, bool):
        unwrap, typ = typ, None
    elif isinstance(unwrap, GroundedAtom):
        unwrap = unwrap.get_object().content
    t = _atom_of(typ)
    if callable(obj):
        return [PyObject(obj, t, name=name, unwrap=bool(unwrap))]
    return [value_atom(obj, t)]


def do_py_dot(mod: Any, path: Any, typ: Any = None, unwrap: Any = True) -> list[Atom]:
    return get_py_atom(path, typ, unwrap, mod)


#: the library's Python operations: name -> (its function, whether it runs Python code the run must allow)
PY_OPERATIONS: dict[str, tuple[Callable[..., list[Atom]], bool]] = {
    "py-atom": (get_py_atom, True),
    "py-dot": (do_py_dot, True),
    "py-tuple": (py_tuple, False),
    "py-list": (py_list, False),
    "py-dict": (py_dict, False),
    "py-chain": (py_chain, False),
}


# ---------------------------------------------------------------- running Python code

#: how many calls of Python code (`_run`) are running now: the driver's limits (time, memory) are
#: looked at inside them too, where no mettadb code runs
IN_PYTHON = [0]


def allowed(it: Machine) -> bool:
    """Whether the run may run Python code (`--allow-python`)."""
    return it.allow_python


def refusal(name: str) -> String:
    """The message of a call the run does not allow."""
    return String(f"{name} runs Python code: allow it with --allow-python (allow_python=True from Python)")


def exception_caught(e: BaseException) -> Symbol:
    """hyperon's message for a Python exception (its traceback lines, hyperon's install paths, left out)."""
    try:
        message = str(e) or "<EMPTY MESSAGE>"
    except Exception:
        message = "<MESSAGE UNAVAILABLE DUE TO ANOTHER EXCEPTION>"  # (pybind11's words, as hyperon prints)
    return Symbol(f"Exception caught:\n{type(e).__name__}: {message}\n\nAt:\n")


def _run(it: Machine, fn: Callable[[], Any]) -> Any:
    """`fn()` with Python's `print` writing to the session's output; a Python exception is the
    call's error (`Fail`) and hyperon's `NoReduceError` leaves the call as it is (`NoReduce`)."""
    out = it.out if it.out is not None else sys.stdout
    IN_PYTHON[0] += 1
    try:
        with contextlib.redirect_stdout(out):
            return fn()
    except _NoReduce:
        raise NoReduce from None
    except BaseException as e:
        if isinstance(e, (LimitError, KeyboardInterrupt)):
            raise
        raise Fail(exception_caught(e)) from None
    finally:
        IN_PYTHON[0] -= 1


def library_op(name: str) -> Callable[[Machine, list[Atom]], list[Atom]]:
    """The grounded operation `name` (one of `PY_OPERATIONS`), as `grounded.BUILTINS` holds them."""
    fn, runs_python = PY_OPERATIONS[name]

    def op(it: Machine, args: list[Atom]) -> list[Atom]:
        if runs_python and not allowed(it):
            raise Fail(refusal(name))
        got = _run(it, lambda: fn(*[view(a) for a in args]))
        return _as_atoms(name, got)

    return op


def _as_atoms(name: str, got: Any) -> list[Atom]:
    """The results of an operation given atoms (hyperon's `unwrap=False`): atoms, or the error hyperon gives."""
    try:
        items = list(got)
    except TypeError:
        raise Fail(exception_caught(RuntimeError(f"Grounded operation `{name}` should return list"))) from None
    out: list[Atom] = []
    for x in items:
        if isinstance(x, _View):
            out.append(x.atom)
        elif isinstance(x, Atom):
            out.append(x)
        else:
            raise Fail(Symbol("Grounded operation which is defined using unwrap=False should return atom instead of "
                              "Python type"))
    return out


def _unwrap_args(atoms: list[_View]) -> tuple[list[Any], dict[str, Any]]:
    """A call's arguments as Python values, `(Kwargs (name value) ...)` as keyword arguments
    (hyperon's `unwrap_args`); a symbol, variable or expression leaves the call as it is."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for a in atoms:
        if isinstance(a, ExpressionAtom):
            kids = a.get_children()
            if kids and repr(kids[0]) == "Kwargs":
                for c in kids[1:]:
                    try:
                        kwarg = c.get_children()  # type: ignore[attr-defined]
                        assert len(kwarg) == 2
                    except BaseException:
                        raise RuntimeError(f"Incorrect kwarg format {kwarg}") from None
                    try:
                        kwargs[_string_value(kwarg[0])] = kwarg[1].get_object().content
                    except BaseException:
                        raise _NoReduce() from None
                continue
        if hasattr(a, "get_object"):
            args.append(a.get_object().content)
        else:
            raise _NoReduce()
    return args, kwargs


def call_object(it: Machine, head: PyObject, args: list[Atom]) -> list[Atom]:
    """A call of a Python operation with its arguments (evaluated): its results (`NoReduce`: the call
    stays as it is; `Fail`: its error).  A value at the head is no operation: the call stays."""
    if not head.is_operation:
        raise NoReduce
    if not allowed(it):
        raise Fail(refusal(str(head.name)))
    views = [view(a) for a in args]
    fn = head.value
    if not head.unwrap:
        return _as_atoms(str(head.name), _run(it, lambda: fn(*views)))
    ret = head.typ.children[-1] if type(head.typ) is Expression and head.typ.children else UNDEFINED

    def execute() -> list[Atom]:
        pos, kw = _unwrap_args(views)
        result = fn(*pos, **kw)
        if result is None:
            return [UNIT]
        if callable(result):
            return [PyObject(result, name=repr(result))]
        return [value_atom(result, ret)]

    out: list[Atom] = _run(it, execute)
    return out
