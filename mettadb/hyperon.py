"""A durable space for the reference interpreter hyperon.

`DurableSpace(path)` is a hyperon `AbstractSpace` over a mettadb space; wrap
it in `SpaceRef` and register it as a token, or give it to `MeTTa` as its own
`&self`::

    from hyperon import MeTTa, SpaceRef
    from mettadb.hyperon import DurableSpace

    kb = DurableSpace("kb.db")
    metta = MeTTa()
    metta.register_atom("&kb", kb.atom)
    metta.run("!(add-atom &kb (likes Ann Tea))")     # committed at once
    metta.run("!(match &kb (likes Ann $x) $x)")      # [[Tea]], in this process or the next

Queries go through mettadb's indexes, not hyperon's in-memory trie, so the
answers stay right on spaces of any size (hyperon 0.2.7-0.2.10's own space
fails past ~1,024 atoms).  Each change commits at once unless made inside
`space.transaction()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from .atoms import Atom, Bool, Expression, Float, Grounded, Integer, String, Symbol, Variable, iter_atoms, rebuild
from .space import Space
from .spaces import MemorySpace

try:
    import hyperon as _h
    from hyperon.atoms import AtomKind, Bindings, BindingsSet
    from hyperon.base import AbstractSpace, SpaceRef
except ImportError as e:  # pragma: no cover - hyperon is an optional peer
    raise ImportError("mettadb.hyperon needs the `hyperon` package (pip install hyperon)") from e

__all__ = ["DurableSpace", "Opaque", "from_hyperon", "to_hyperon"]


class Opaque(Grounded):
    """A hyperon grounded atom mettadb cannot encode (an operation, a space): kept in memory only."""

    __slots__ = ()
    type_name = "Grounded"

    def __init__(self, atom: Any) -> None:
        object.__setattr__(self, "value", atom)
        object.__setattr__(self, "_hash", hash(str(atom)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and bool(other.value == self.value)

    __hash__ = Grounded.__hash__

    def text(self) -> str:
        """How the atom prints."""
        return str(self.value)

_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        _PARSER = _h.MeTTa()
    return _PARSER


_SYMBOLS: dict[str, Any] = {}


def _hsym(name: str) -> Any:
    """A symbol as hyperon's tokenizer reads it: `+` becomes its grounded operation."""
    a = _SYMBOLS.get(name)
    if a is None:
        if name.startswith("&"):
            a = _h.S(name)  # tokens such as &self belong to the runner, not to our parser
        else:
            try:
                a = _parser().parse_single(name)
            except Exception:
                a = _h.S(name)
        if len(_SYMBOLS) < 100_000:
            _SYMBOLS[name] = a
    return a


def _hvar(v: Variable, varmap: dict[str, Any] | None) -> Any:
    if varmap is not None and v.name in varmap:
        return varmap[v.name]
    return _h.V(v.name.replace("#", "_"))  # hyperon reserves `#` in variable names


def to_hyperon(atom: Atom, varmap: dict[str, Any] | None = None) -> Any:
    """The hyperon atom for a mettadb atom (numbers, strings and booleans as hyperon's own grounded values).

    `varmap` maps variable names back to the hyperon variables they came from.
    """
    if type(atom) is Opaque:
        return atom.value
    if type(atom) is Variable:
        return _hvar(atom, varmap)
    if type(atom) is Symbol:
        return _hsym(atom.name)
    if type(atom) is not Expression:
        return _parser().parse_single(str(atom))
    if atom.ground and not any(type(a) is Opaque for a in iter_atoms(atom)) and len(str(atom)) < 100_000:
        return _parser().parse_single(str(atom))
    # iterative post-order conversion (deep atoms, variables inside)
    return rebuild(atom, lambda a: to_hyperon(a, varmap), lambda _e, args: _h.E(*args))


def from_hyperon(atom: Any, varmap: dict[str, Any] | None = None) -> Atom:
    """The mettadb atom for a hyperon atom; grounded values other than numbers, strings and
    booleans become `Opaque` (kept in memory).  `varmap` collects the hyperon variables by name."""
    out: list[Atom] = []
    stack: list[tuple[Any, int]] = [(atom, -1)]
    while stack:
        a, n = stack.pop()
        if n >= 0:
            kids = out[len(out) - n:] if n else []
            if n:
                del out[len(out) - n:]
            out.append(Expression(kids))
            continue
        kind = a.get_metatype()
        if kind == AtomKind.SYMBOL:
            out.append(Symbol(a.get_name()))
        elif kind == AtomKind.VARIABLE:
            name = a.get_name()
            if varmap is not None:
                varmap.setdefault(name, a)
            out.append(Variable(name))
        elif kind == AtomKind.EXPR:
            children = a.get_children()
            stack.append((a, len(children)))
            stack.extend((c, -1) for c in reversed(children))
        else:
            try:
                value = a.get_object().value
            except (TypeError, AttributeError):
                value = None
            if isinstance(value, bool):
                out.append(Bool(value))
            elif isinstance(value, int):
                out.append(Integer(value))
            elif isinstance(value, float):
                out.append(Float(value))
            elif isinstance(value, str):
                out.append(String(value))
            else:
                name = str(a)
                # an operation hyperon's tokenizer makes from a name (`+`, `==`) is stored as that name
                out.append(Symbol(name) if name and " " not in name and _hsym(name) == a else Opaque(a))
    return out[0]


def _durable(atom: Atom) -> bool:
    return not any(type(a) is Opaque for a in iter_atoms(atom))


def _report(e: Exception) -> None:
    import sys

    sys.stderr.write(f"mettadb: {type(e).__name__}: {e}\n")


class DurableSpace(AbstractSpace):  # type: ignore[misc]
    """hyperon's `AbstractSpace` over a mettadb space at `path` (or an open `Space`)."""

    def __init__(self, path: str | os.PathLike[str] | Space, **open_options: Any) -> None:
        super().__init__()
        self.space = path if isinstance(path, Space) else Space(path, **open_options)
        self._ref: Any = None
        #: atoms holding grounded objects mettadb cannot encode (hyperon's own operations,
        #: spaces): kept for this process only, matched like the rest
        self.volatile = MemorySpace()

    # hyperon's AbstractSpace protocol ----------------------------------
    def query(self, query_atom: Any) -> Any:
        """Match `query_atom` (a conjunction too) and return hyperon's BindingsSet."""
        result = BindingsSet.empty()
        try:
            varmap: dict[str, Any] = {}
            pattern = from_hyperon(query_atom, varmap)
            names = list(dict.fromkeys(v for v in iter_atoms(pattern) if type(v) is Variable))
            sources = [self.space.query(pattern)] if _durable(pattern) else []
            if len(self.volatile):
                sources.append(self.volatile.query(pattern))
            for source in sources:
                for b in source:
                    hb = Bindings()
                    for v in names:
                        value = b.resolve(v)
                        if value != v:
                            hb.add_var_binding(varmap[v.name], to_hyperon(value, varmap))
                    result.push(hb)
        except Exception as e:  # never let an exception unwind into hyperon's Rust core
            _report(e)
        return result

    def add(self, atom: Any) -> None:
        """Add one copy of the atom (committed at once outside `transaction()`)."""
        try:
            a = from_hyperon(atom)
            (self.space if _durable(a) else self.volatile).add(a)
        except Exception as e:
            _report(e)

    def remove(self, atom: Any) -> bool:
        """Remove one copy; False if it is not there."""
        try:
            a = from_hyperon(atom)
            return bool(self.space.remove(a) if _durable(a) else self.volatile.remove(a))
        except Exception as e:
            _report(e)
            return False

    def replace(self, atom: Any, replacement: Any) -> bool:
        """Replace one copy of `atom` by `replacement`, atomically."""
        try:
            a, r = from_hyperon(atom), from_hyperon(replacement)
            if _durable(a) and _durable(r):
                return self.space.replace(a, r)
            if not self.remove(atom):
                return False
            self.add(replacement)
            return True
        except Exception as e:
            _report(e)
            return False

    def atom_count(self) -> int:
        """Atoms held, copies counted."""
        return len(self.space) + len(self.volatile)

    def atoms_iter(self) -> Iterator[Any]:
        """Every atom (each copy), as hyperon atoms."""
        for a in self.space.atoms():
            yield to_hyperon(a)
        for a in self.volatile.atoms():
            yield to_hyperon(a)

    # conveniences ---------------------------------------------------------
    @property
    def ref(self) -> Any:
        """The `SpaceRef` hyperon uses for this space (made once)."""
        if self._ref is None:
            self._ref = SpaceRef(self)
        return self._ref

    @property
    def atom(self) -> Any:
        """A grounded atom holding the space, for `MeTTa.register_atom("&kb", ...)`."""
        return _h.G(self.ref)

    def transaction(self) -> Any:
        """Group changes into one commit (a context manager)."""
        return self.space.transaction()

    def close(self) -> None:
        """Close the underlying mettadb space."""
        self.space.close()
