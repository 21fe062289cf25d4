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

The space itself inside an atom (`&self` as the runner's own space, or `&kb`)
is stored as the symbol `&self` and names this space again when read back, so
rules that `match &self` in their bodies persist.  hyperon's operations are
stored by name.  Other grounded objects (Python operations, other spaces,
states) cannot be stored: atoms holding them live in memory for this process.
No call from hyperon raises into it (hyperon 0.2.10 aborts the process): errors
are written to stderr and the call answers empty, except on a closed space, whose
queries bind their variables to `(Error "<path>" "space is closed")` and whose
`get-atoms` is that error.
"""

from __future__ import annotations

import atexit
import math
import os
import re
import weakref
from collections.abc import Iterator
from typing import Any

from .atoms import Atom, Expression, Float, G, Grounded, Integer, Regex, Symbol, Variable, iter_atoms, rebuild
from .errors import MettaDBError
from .query import ordered_atoms, ordered_query, stored_by_value
from .space import Space
from .spaces import Overlay, merged_atoms, merged_query, next_stored_seq, stored_removable
from .trieorder import is_char_name
from .unify import SPACE_QUERY

try:
    import hyperon as _h
    import hyperonpy as hp
    from hyperon.atoms import AtomKind, Bindings, BindingsSet, ValueObject
    from hyperon.base import AbstractSpace, SpaceRef
    from hyperon.conversion import ConvertingSerializer
    from hyperon.stdlib import Char, RegexMatchableObject
    from hyperonpy import SerialResult
except ImportError as e:  # pragma: no cover - hyperon is an optional peer
    raise ImportError("mettadb.hyperon needs the `hyperon` package (pip install hyperon)") from e

__all__ = ["DurableSpace", "Opaque", "Registry", "from_hyperon", "to_hyperon"]


class Opaque(Grounded):
    """A hyperon grounded atom mettadb cannot encode (an operation, a space, a state, a Python
    object): kept in memory only.  Each is equal to what hyperon's equality says: a Python object
    (the `Registry` gives each one seen a single `Opaque`) to another its Python equality finds equal
    (a tuple `py-tuple` made to an equal tuple, an operation to one of the same name); one of
    hyperon's own to a space itself, a state to a state holding an equal value, as hyperon matches them."""

    __slots__ = ("label", "native")
    session_kind = "hyperon object"
    label: str
    native: bool
    type_name = "Grounded"

    def __init__(self, atom: Any, label: str, native: str | None = None) -> None:
        object.__setattr__(self, "value", atom)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "native", native is not None)
        # objects hash by their kind (a state changes type when its value does; a Python object's
        # equality is Python's)
        kind = "Python object" if native is None else native.strip("(").split(" ", 1)[0]
        object.__setattr__(self, "_hash", hash(("Opaque", kind)))

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if type(other) is not Opaque or other._hash != self._hash or other.native != self.native:
            return False
        try:
            return bool(other.value == self.value)  # (hyperon's equality of the two)
        except Exception:
            return False

    __hash__ = Grounded.__hash__

    @property
    def matches_by_query(self) -> bool:  # type: ignore[override]
        """Whether it is a space (hyperon matches one by a query of its own, and its trie keeps it with
        the variables)."""
        return self.native and self._hash == _SPACE_HASH

    @property
    def keyed_with_variables(self) -> bool:  # type: ignore[override]
        """Whether hyperon's trie keeps it with the variables though it matches by equality (a Python
        object: hyperon gives those a match of their own)."""
        return not self.native

    def __repr__(self) -> str:
        return f"Opaque({self.label})"

    def text(self) -> str:
        """How the atom prints (never asks hyperon: it may hold the object borrowed)."""
        return self.label


_SPACE_HASH = hash(("Opaque", "SpaceType"))
_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        _PARSER = _h.MeTTa()
    return _PARSER


def _hsym(name: str, parser: Any, cache: dict[str, Any]) -> Any:
    """A symbol as `parser`'s tokenizer reads it: `+` becomes its grounded operation."""
    a = cache.get(name)
    if a is None:
        a = _h.S(name)
        # tokens such as &self belong to the runner; names the parser would not read back as
        # one token (`a b`, `x;y`, `$v` made through hyperon's API) stay symbols
        if not name.startswith("&") and not _ODD.search(name):
            try:
                parsed = parser.parse_single(name)
            except Exception:
                parsed = None
            if parsed is not None and parsed.get_metatype() == AtomKind.GROUNDED:
                a = parsed
        if len(cache) < 100_000:
            cache[name] = a
    return a


_ODD = re.compile(r'[\s()";]|^\$')  # a symbol name hyperon's parser reads otherwise
_VALUE_TYPES = frozenset({"Number", "Bool", "String"})


def _value(obj: Any) -> Atom | None:
    """The mettadb value for a hyperon `ValueObject` holding a number, string or boolean."""
    return _py_value(obj.value) if isinstance(obj, ValueObject) else None


def _char(obj: Any) -> Atom | None:
    """The symbol mettadb keeps a hyperon `Char` as (`'c'`, which hyperon's parser reads back as
    that Char: stored), or None for another object (and for a quote char, which would read back as
    a symbol)."""
    if isinstance(obj, ValueObject) and type(obj.value) is Char:
        name = f"'{obj.value.char}'"
        return Symbol(name) if is_char_name(name) else None
    return None


def _native_value(a: Any) -> Atom | None:
    """The mettadb value of one of hyperon's own numbers, strings or booleans (serialised
    directly: `get_object` asks the atom's type three more times)."""
    conv = ConvertingSerializer()
    try:
        ok = hp.atom_gnd_serialize(a.catom, conv) == SerialResult.OK
    except Exception:
        return None
    return _py_value(conv.value) if ok else None


def _type_name(a: Any) -> str:
    """How the grounded atom's type prints."""
    t = hp.atom_get_grounded_type(a.catom)
    try:
        return str(hp.atom_to_str(t))
    finally:
        hp.atom_free(t)


def _py_value(value: Any) -> Atom | None:
    if isinstance(value, Atom):
        return None
    try:
        return G(value)
    except TypeError:
        return None


class Registry:
    """The hyperon grounded atoms a bridge has seen, each kept alive with the mettadb atom it became.

    Converting a grounded atom never prints a space or a state: hyperon may hold one borrowed
    while it calls into the bridge, and printing it then panics.  Python objects are found by
    identity, hyperon's own (Rust) objects by hyperon's equality among those of the same type;
    operations (which print as their names) are stored by name.  `self_atom` is the space's
    own grounded atom, stored durably as the symbol `&self`.
    """

    def __init__(self, self_atom: Any = None, parser: Any = None) -> None:
        self.self_atom = self_atom
        #: the runner whose tokenizer reads stored names back (operations such as `get-type`
        #: hold the space of the runner that made them)
        self.parser = parser
        self._symbols: dict[str, Any] = {}
        #: operations stored by name -> the hyperon atom seen for that name (the runner's own)
        self.names: dict[str, Any] = {}
        #: the atom `&self` comes back as: `self_atom`, or the runner's module space around it
        self.self_alias = self_atom
        #: spaces met but not yet known to be (or not to be) this space seen through a wrapper
        self.pending: list[tuple[Any, Opaque]] = []
        self._python: dict[int, tuple[Any, Atom]] = {}
        self._native: dict[str, list[tuple[Any, Atom]]] = {}
        self._count = 0

    def __len__(self) -> int:
        return len(self._python) + sum(len(v) for v in self._native.values())

    def grounded(self, a: Any) -> Atom:
        """The mettadb atom for the hyperon grounded atom `a`."""
        if hp.atom_is_cgrounded(a.catom):  # a Python object: found by identity
            obj = hp.atom_get_object(a.catom)
            if isinstance(obj, RegexMatchableObject):  # (a value object too: its text would be a string)
                return Regex(obj.content)
            v = _value(obj)
            if v is not None:
                return v
            c = _char(obj)
            if c is not None:
                return c
            hit = self._python.get(id(obj))
            if hit is None:
                hit = (obj, self._opaque(a, f"<{type(obj).__name__}>"))
                self._python[id(obj)] = hit
            return hit[1]
        tname = _type_name(a)
        if tname in _VALUE_TYPES:
            v = _native_value(a)
            if v is not None:
                return v
        if tname == "SpaceType":  # one Opaque per space (hyperon compares spaces by reference)
            if self.self_atom is not None and a == self.self_atom:
                return _SELF
            spaces = self._native.setdefault(tname, [])
            for h, known in spaces:
                if h == a:
                    return known
            m = self._opaque(a, f"<space #{self._count + 1}>", tname)
            if self.self_atom is not None:
                self.pending.append((a, m))
            spaces.append((a, m))
            return m
        if not tname.startswith("(StateMonad"):
            ops = self._native.setdefault(tname, [])
            for h, known in ops:
                if h == a:
                    return known
            name = str(a)  # operations print as their names
            if name and not _ODD.search(name):
                h = self.hsym(name)
                if h.get_metatype() == AtomKind.GROUNDED and _type_name(h) == tname:
                    # stored by name; back as the atom this runner uses, since some hold their
                    # runner's space (get-type) or tokenizer (bind!) and hyperon's equality
                    # does not tell them apart
                    self.names.setdefault(name, a)
                    ops.append((a, Symbol(name)))
                    return ops[-1][1]
        # a state or another object of hyperon's: its own Opaque, kept alive by the atoms
        # holding it (two states are different objects even when hyperon finds them equal)
        return self._opaque(a, f"<{tname} #{self._count + 1}>", tname)
    def alias(self, a: Any, opaque: Opaque) -> None:
        """Record that the space `a` (met as `opaque`) is this space seen through a wrapper
        (hyperon's module space around the runner's own space): stored as `&self` from now on."""
        for h, m in self._native.get("SpaceType", []):
            if m is opaque:
                self._native["SpaceType"].remove((h, m))
                self._native["SpaceType"].append((h, _SELF))
                break
        self.self_alias = a

    def _opaque(self, a: Any, label: str, native: str | None = None) -> Opaque:
        self._count += 1
        return Opaque(a, label, native)

    def symbol(self, name: str) -> Any:
        """The hyperon atom for a stored symbol (`&self` is the space itself)."""
        if name == "&self" and self.self_alias is not None:
            return self.self_alias
        h = self.names.get(name)
        return h if h is not None else self.hsym(name)

    def hsym(self, name: str) -> Any:
        """The atom this registry's parser makes of a name."""
        return _hsym(name, self.parse_runner(), self._symbols)

    def parse_runner(self) -> Any:
        """The runner that reads text back into hyperon atoms."""
        if self.parser is None:
            self.parser = _parser()
        return self.parser


_SELF = Symbol("&self")
_DEFAULT = Registry()
#: the registries of the bridges whose queries are running (innermost last)
_QUERYING: list[Registry] = []


def _hyperon_space_query(atom: Atom, pattern: Atom, _next: Any = SPACE_QUERY[0]) -> list[Any] | None:
    """A query of one of hyperon's spaces met inside an atom (`unify.SPACE_QUERY`), as hyperon
    matches a space: its results narrowed to the pattern's variables."""
    if not (isinstance(atom, Opaque) and atom.matches_by_query):
        return _next(atom, pattern)  # type: ignore[no-any-return]
    from .bindings import Bindings as MBindings

    reg = _QUERYING[-1] if _QUERYING else _DEFAULT
    names = {v.name: v for v in iter_atoms(pattern) if type(v) is Variable}
    varmap = {n: _hvar(v, None) for n, v in names.items()}
    back = {h.get_name(): names[n] for n, h in varmap.items()}
    out: list[Any] = []
    for hb in atom.value.get_object().query(to_hyperon(pattern, varmap, reg)):
        links: dict[Variable, Atom] = {}
        for name, value in hb.items():
            v = back.get(name)
            if v is not None:
                links[v] = from_hyperon(value, None, reg)
        out.append(MBindings(links))
    return out


SPACE_QUERY[0] = _hyperon_space_query


#: mettadb's renamed-apart variables (`$x#12`) become hyperon's own kind (`$x#<id>`), with ids
#: far above those hyperon hands out, so the two never meet by accident
_VAR_ID_OFFSET = 10**12


def _hvar(v: Variable, varmap: dict[str, Any] | None) -> Any:
    if varmap is not None and v.name in varmap:
        return varmap[v.name]
    base, sep, n = v.name.rpartition("#")
    if sep and base and "#" not in base and n.isdigit():
        return _h.Atom._from_catom(hp.atom_var_parse_name(f"{base}#{int(n) + _VAR_ID_OFFSET}"))
    return _h.V(v.name.replace("#", "_"))  # hyperon reserves `#` in variable names it did not make


def to_hyperon(atom: Atom, varmap: dict[str, Any] | None = None, registry: Registry | None = None) -> Any:
    """The hyperon atom for a mettadb atom (numbers, strings and booleans as hyperon's own grounded values).

    `varmap` maps variable names back to the hyperon variables they came from; `registry` gives
    back the grounded objects `from_hyperon` met (and the space `&self` names).
    """
    reg = _DEFAULT if registry is None else registry
    if not isinstance(atom, Expression):
        return _one(atom, varmap, reg)
    if atom.ground and _plain(atom, reg) and len(str(atom)) < 100_000:
        return reg.parse_runner().parse_single(str(atom))
    # iterative post-order conversion (deep atoms, variables, grounded objects inside)
    return rebuild(atom, lambda a: _one(a, varmap, reg), lambda _e, args: _h.E(*args))


def _one(atom: Atom, varmap: dict[str, Any] | None, reg: Registry) -> Any:
    if isinstance(atom, Symbol):
        return reg.symbol(atom.name)
    if isinstance(atom, Variable):
        return _hvar(atom, varmap)
    if isinstance(atom, Opaque):
        return atom.value
    if type(atom) is Regex:  # hyperon's own regex object (its token rewritten again is the same text)
        return _h.G(RegexMatchableObject(atom.value))
    h = _LEAVES.get(atom)
    if h is None:
        h = _leaf(atom)
        if len(_LEAVES) < 100_000:
            _LEAVES[atom] = h
    return h


_LEAVES: dict[Atom, Any] = {}


_I64 = range(-(2**63), 2**63)
_WIDE = re.compile(r"-?[0-9]{19,}")  # the symbols `_leaf` makes of integers wider than 64 bits


def _special(atom: Atom) -> bool:
    """A number hyperon's parser cannot read back (beyond 64 bits, infinite, NaN)."""
    if type(atom) is Integer:
        return atom.value not in _I64
    return isinstance(atom, Float) and not math.isfinite(atom.value)


def _leaf(atom: Atom) -> Any:
    """A number, string or boolean as hyperon's own grounded value."""
    if _special(atom):
        value = atom.value if isinstance(atom, Grounded) else None
        if type(atom) is Integer:
            # hyperon 0.2.10 numbers are 64-bit and its arithmetic aborts on a wider Python int:
            # the digits as a symbol print the same and read back as the integer
            return _h.S(str(value))
        return _h.G(ValueObject(value))
    return _parser().parse_single(str(atom))


def _plain(atom: Atom, reg: Registry) -> bool:
    """No part of the atom needs the registry (so hyperon's parser can read its text)."""
    names = reg.names
    for a in iter_atoms(atom):
        if isinstance(a, Symbol):
            name = a.name
            if name.startswith("&") or name in names or _ODD.search(name):
                return False
        elif isinstance(a, Opaque) or _special(a) or type(a) is Regex:
            return False
    return True


def from_hyperon(atom: Any, varmap: dict[str, Any] | None = None, registry: Registry | None = None) -> Atom:
    """The mettadb atom for a hyperon atom; grounded values other than numbers, strings and
    booleans become `Opaque` (kept in memory, see `Registry`).  `varmap` collects the hyperon
    variables by name."""
    reg = _DEFAULT if registry is None else registry
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
            name = a.get_name()
            out.append(Integer(int(name)) if _WIDE.fullmatch(name) and int(name) not in _I64 else Symbol(name))
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
            out.append(reg.grounded(a))
    return out[0]


def _hvars(atom: Any) -> Iterator[Any]:
    """The variables of a hyperon atom (never prints it: a space inside may be borrowed)."""
    stack = [atom]
    while stack:
        a = stack.pop()
        kind = a.get_metatype()
        if kind == AtomKind.VARIABLE:
            yield a
        elif kind == AtomKind.EXPR:
            stack.extend(reversed(a.get_children()))


def _durable(atom: Atom) -> bool:
    """Whether the atom can be stored: it holds no object of this process and no regex (which
    matches by its own matching; it stays in memory, as an interpreter's session overlay keeps it)."""
    return not any(type(a) is Opaque or type(a) is Regex for a in iter_atoms(atom))


def _report(e: Exception) -> None:
    import sys

    sys.stderr.write(f"mettadb: {type(e).__name__}: {e}\n")


_OPEN: weakref.WeakSet[DurableSpace] = weakref.WeakSet()


@atexit.register
def _sync_all() -> None:
    for kb in list(_OPEN):
        kb.sync()


class _Atoms:
    """The iterator `atoms_iter` returns: hyperon 0.2.10 keeps only a borrowed pointer to each
    atom `__next__` returns, so every atom handed out stays alive as long as the iterator."""

    def __init__(self, atoms: list[Atom], convert: Any) -> None:
        self._atoms = atoms
        self._convert = convert
        self._given: list[Any] = []

    def __iter__(self) -> _Atoms:
        return self

    def __next__(self) -> Any:
        i = len(self._given)
        if i >= len(self._atoms):
            raise StopIteration
        try:
            h = self._convert(self._atoms[i])
        except Exception as e:  # never let an exception unwind into hyperon's Rust core
            _report(e)
            h = _h.S("mettadb-unconvertible-atom")
        self._given.append(h)
        return h


def _stored_variables(b: Any, query_vars: list[Variable]) -> dict[Atom, Variable]:
    """Per variable a stored variable of the row is left equal to (the query's own left out): the
    other side of an equality hyperon's own space would give."""
    out: dict[Atom, Variable] = {}
    for k in b:
        if k not in query_vars:
            value = b.resolve(k)
            if type(value) is Variable:
                out[value] = k
    return out


class DurableSpace(AbstractSpace):  # type: ignore[misc]
    """hyperon's `AbstractSpace` over a mettadb space at `path` (or an open `Space`)."""

    def __init__(self, path: str | os.PathLike[str] | Space, **open_options: Any) -> None:
        super().__init__()
        if path is None:
            raise TypeError("DurableSpace needs the space's path (or an open mettadb Space), not None")
        self.space = path if isinstance(path, Space) else Space(path, **open_options)
        #: atoms holding grounded objects mettadb cannot encode (hyperon's own operations,
        #: other spaces, states): kept for this process only, matched like the rest
        #: (in hyperon's order among the stored atoms: `spaces.Overlay`)
        self.volatile = Overlay()
        self._ref = SpaceRef(self)
        #: the grounded objects met so far; this space's own atom is stored as `&self`.  A runner
        #: of its own over this space reads stored names back, so that an operation holding a
        #: space (`get-type`) holds this one until hyperon shows us the user's runner's
        self.registry = Registry(_h.G(self._ref), _h.MeTTa(space=self._ref))
        self._text = str(self.registry.self_atom)  # printed now: hyperon borrows it later
        #: insertion numbers taken when an atom that waits for `_learn_wrappers` was added (one per
        #: copy), so it is stored in the order hyperon added it, not when it is recognised
        self._seqs: dict[Atom, list[int]] = {}
        #: (generation, {(head, size): whether some stored atom may match `(head $1 .. $n)`})
        self._heads: tuple[int, dict[tuple[Atom, int], bool]] = (-1, {})
        _OPEN.add(self)

    def _learn_wrappers(self) -> None:
        """Find out which spaces met in added atoms are hyperon's module space around this one
        (the runner's `&self` under `MeTTa(space=kb.ref)`): those are `&self`, and the atoms held
        in memory for naming them become durable.  Runs from `query` and `atoms_iter` only, where
        hyperon holds no space mutably borrowed, so printing a space is safe; nothing else of
        the space is called (no foreign code runs)."""
        reg = self.registry
        wrapper = f"ModuleSpace({self._text})"
        while reg.pending:
            h, opaque = reg.pending.pop()
            if str(h) != wrapper:
                continue
            reg.alias(h, opaque)
            moved = [a for a in self.volatile.atoms() if any(x is opaque for x in iter_atoms(a))]
            for a in moved:
                b = rebuild(a, lambda x, o=opaque: _SELF if x is o else x, lambda _e, kids: Expression(kids))
                self.volatile.remove(a)
                seq = self._take_seq(a)
                try:
                    if _durable(b):
                        self.space.add(b, seq=seq)
                    else:
                        self.volatile.add_numbered(b, seq + 1 if seq is not None else next_stored_seq(self.space))
                        if seq is not None:
                            self._seqs.setdefault(b, []).append(seq)
                except Exception as e:  # a read-only or full space: keep it for this process
                    _report(e)
                    self.volatile.add_numbered(b, seq + 1 if seq is not None else next_stored_seq(self.space))

    def _take_seq(self, a: Atom) -> int | None:
        """The insertion number reserved for a copy of `a` (None if none was)."""
        seqs = self._seqs.get(a)
        if not seqs:
            return None
        seq = seqs.pop(0)
        if not seqs:
            del self._seqs[a]
        return seq

    def _keep(self, a: Atom) -> None:
        """Add `a`: to the store, or in memory; an atom in memory only until a space in it is
        recognised as this one (`_learn_wrappers`) takes its insertion number now."""
        if _durable(a):
            if self.volatile.tracks():  # (after a rollback, the atoms in memory come before this one)
                self.volatile.settle(next_stored_seq(self.space))
            self.space.add(a)
            return
        self.volatile.add_numbered(a, next_stored_seq(self.space))
        pending = {id(m) for _h, m in self.registry.pending}
        if pending and all(id(x) in pending for x in iter_atoms(a) if type(x) is Opaque):
            try:
                seq = self.space.reserve_seq()
            except Exception as e:  # read-only: it will stay in memory anyway
                _report(e)
                return
            self._seqs.setdefault(a, []).append(seq)

    def _closed_error(self) -> Any:
        """The `(Error <path> "space is closed")` a closed space answers with."""
        return _h.E(_h.S("Error"), _leaf(G(str(self.space.path))), _leaf(G("space is closed")))

    def _from(self, atom: Any, varmap: dict[str, Any] | None = None) -> Atom:
        return from_hyperon(atom, varmap, self.registry)

    def _to(self, atom: Atom, varmap: dict[str, Any] | None = None) -> Any:
        return to_hyperon(atom, varmap, self.registry)

    def _may_match(self, query_atom: Any) -> bool:
        """False when no stored atom can match the query: an expression whose head symbol and size no
        stored atom has, found without converting the rest (hyperon's type checks ask for the types of
        every subexpression of a call, `(: X $t)`, quadratically many for a deep argument)."""
        if len(self.volatile) or query_atom.get_metatype() != AtomKind.EXPR:
            return True
        kids = query_atom.get_children()
        if not kids or kids[0].get_metatype() != AtomKind.SYMBOL:
            return True
        head = self._from(kids[0])
        if type(head) is not Symbol or head.name == ",":
            return True
        gen, known = self._heads
        now = self.space.generation
        if gen != now:
            known = {}
            self._heads = (now, known)
        key = (head, len(kids))
        got = known.get(key)
        if got is None:
            probe = Expression((head, *[Variable(f"v{i}") for i in range(1, len(kids))]))
            got = known[key] = next(iter(ordered_query(self.space, probe)), None) is not None
        return got

    # hyperon's AbstractSpace protocol ----------------------------------
    def query(self, query_atom: Any) -> Any:
        """Match `query_atom` (a conjunction too) and return hyperon's BindingsSet."""
        result = BindingsSet.empty()
        if self.space.closed:
            # hyperon 0.2.10 aborts the process when a space raises: every variable of the query
            # is bound to an error instead, so the caller sees it (a query with no variables
            # cannot show one: it answers empty, and the error goes to stderr)
            _report(MettaDBError(f"{self.space.path} is closed"))
            hb = Bindings()
            seen: set[str] = set()
            for v in _hvars(query_atom):
                if v.get_name() not in seen:
                    seen.add(v.get_name())
                    hb.add_var_binding(v, self._closed_error())
            if seen:
                result.push(hb)
            return result
        try:
            if self.registry.pending:
                self._learn_wrappers()
            if not self._may_match(query_atom):
                return result
            varmap: dict[str, Any] = {}
            pattern = self._from(query_atom, varmap)
            names = list(dict.fromkeys(v for v in iter_atoms(pattern) if type(v) is Variable))
            # hyperon's order: its trie's (a conjunction's in written order), the atoms in memory among
            # the stored ones; a stored variable matches an object in the pattern
            if self.volatile.tracks() or not _durable(pattern):
                _QUERYING.append(self.registry)  # (a space of hyperon's met there is queried through it)
                try:
                    rows = merged_query(self.space, self.volatile, pattern)
                finally:
                    _QUERYING.pop()
            else:
                rows = ordered_query(self.space, pattern)
            for b in rows:
                hb = Bindings()
                equal: list[tuple[Any, Any]] = []
                stored: dict[Atom, Variable] | None = None
                for v in names:
                    value = b.resolve(v)
                    if type(value) is Variable:
                        if value == v:  # unbound, or a stored variable is bound to it
                            if stored is None:
                                stored = _stored_variables(b, names)
                            value = stored.get(v, v)
                        if value != v:  # a query variable equal to another (or to a stored one)
                            equal.append((varmap[v.name], self._to(value, varmap)))
                    else:
                        hb.add_var_binding(varmap[v.name], self._to(value, varmap))
                if equal:
                    # only a set of bindings takes an equality of variables in hyperon 0.2.10's Python
                    one = BindingsSet(hb)
                    for x, y in equal:
                        one.add_var_equality(x, y)
                    for row in one.iterator():
                        result.push(row)
                else:
                    result.push(hb)
        except Exception as e:  # never let an exception unwind into hyperon's Rust core
            _report(e)
        return result

    def add(self, atom: Any) -> None:
        """Add one copy of the atom (committed at once outside `transaction()`)."""
        try:
            self._keep(self._from(atom))
        except Exception as e:
            _report(e)

    def remove(self, atom: Any) -> bool:
        """Remove one copy; False if it is not there."""
        try:
            a = self._from(atom)
            if _durable(a):
                if not stored_removable(self.space, a, self.volatile if self.volatile.tracks() else None):
                    return False  # (hyperon's trie looks for it in another branch)
                if self._remove_stored(a):
                    return True
                other = stored_by_value(self.space, a)  # `(w 3)` removes a stored `(w 3.0)`, as in hyperon
                return other is not None and self._remove_stored(other)
            if not self.volatile.remove_from(self.space, a):
                return False
            self._take_seq(a)
            return True
        except Exception as e:
            _report(e)
            return False

    def _remove_stored(self, a: Atom) -> bool:
        """Remove a stored copy with these variable names (as hyperon removes); beside atoms in memory,
        the trie nodes they share keep their numbers."""
        if self.volatile.tracks():
            return self.volatile.remove_stored(self.space, a, exact=True)
        return bool(self.space.remove(a, exact=True))

    def replace(self, atom: Any, replacement: Any) -> bool:
        """Replace one copy of `atom` by `replacement`, atomically."""
        try:
            a, r = self._from(atom), self._from(replacement)
            if _durable(a) and not stored_removable(self.space, a, self.volatile if self.volatile.tracks() else None):
                return False  # (hyperon's trie looks for it in another branch)
            if _durable(a) and _durable(r):
                if not self.volatile.tracks():
                    return self.space.replace(a, r, exact=True)
                with self.space.transaction():  # (beside atoms in memory, the trie nodes they share keep their numbers)
                    if not self._remove_stored(a):
                        return False
                    self._keep(r)
                    return True
            home = self.space if _durable(a) else self.volatile
            if home is self.volatile:
                removed = self.volatile.remove_from(self.space, a)
            else:
                removed = self._remove_stored(a)
            if not removed:
                return False
            if home is self.volatile:
                self._take_seq(a)
            try:
                self._keep(r)
            except Exception:
                home.add(a)  # put it back: replace changes both or neither
                raise
            return True
        except Exception as e:
            _report(e)
            return False

    def atom_count(self) -> int:
        """Atoms held, copies counted."""
        try:
            return len(self.space) + len(self.volatile)
        except Exception as e:
            _report(e)
            return -1

    def atoms_iter(self) -> Iterator[Any]:
        """Every atom (each copy), as hyperon atoms (a snapshot taken now)."""
        if self.space.closed:  # raising would abort hyperon 0.2.10: the error is the answer
            _report(MettaDBError(f"{self.space.path} is closed"))
            return iter([self._closed_error()])  # the list keeps the atom alive
        try:
            if self.registry.pending:
                self._learn_wrappers()
            # (the atoms in memory among the stored ones, in hyperon's order)
            atoms = merged_atoms(self.space, self.volatile) if self.volatile.tracks() else ordered_atoms(self.space)
        except Exception as e:
            _report(e)
            atoms = list(self.volatile.atoms())
        return _Atoms(atoms, self._to)

    # conveniences ---------------------------------------------------------
    @property
    def ref(self) -> Any:
        """The `SpaceRef` hyperon uses for this space."""
        return self._ref

    @property
    def atom(self) -> Any:
        """A grounded atom holding the space, for `MeTTa.register_atom("&kb", ...)`."""
        return _h.G(self._ref)

    def transaction(self) -> Any:
        """Group changes into one commit (a context manager)."""
        return self.space.transaction()

    def sync(self) -> None:
        """Store the atoms that wait for their space to be recognised as this one.

        A rule naming the runner's `&self` (under `MeTTa(space=kb.ref)`) arrives while hyperon
        holds that space borrowed, so it is kept in memory until the next query (its insertion
        number is taken when it arrives, so it keeps hyperon's order); a script that
        only adds must let it reach the store before the process ends.  `close()` and the
        interpreter's exit call this; call it yourself (outside any hyperon call) before
        leaving by `os._exit` or a signal."""
        if self.registry.pending and not self.space.closed:
            try:
                self._learn_wrappers()
            except Exception as e:
                _report(e)

    def close(self) -> None:
        """Store what waits (`sync`), then close the underlying mettadb space."""
        self.sync()
        self.space.close()
