"""The type checker: declared types, types of applications, argument checks.

hyperon's type system as the interpreter needs it: `(: name type)`
declarations read from the space, the types of grounded values and of the
standard library's operations, the type of an application (its function's
return type, when every argument fits the arrow), and the check `pragma!
type-check auto` applies to atoms as they are added.  How hyperon infers the
types of expressions (tuples, applications, type variables) is `inference`.
"""

from __future__ import annotations

from typing import Any

from ..atoms import Atom, Expression, Integer, Symbol, Variable, fresh_variable
from ..bindings import EMPTY_BINDINGS, Bindings
from ..spaces import SpaceAtom, StateAtom, rename_apart
from ..unify import unify
from .core import (
    ARROW,
    BOOL_T,
    CHAR_T,
    COLON,
    EQ,
    GROUNDED_TYPES,
    SPECIAL_SIGNATURES,
    SPECIAL_TYPES,
    UNDEFINED,
    error,
    is_char,
    metatype,
)
from .grounded import BUILTINS, signature_atom
from .inference import NO_TYPE, Entry, Failed, atom_entries, atom_types
from .pyobjects import PY_OPERATIONS, PyObject

__all__ = ["EQ_TYPE", "TypeChecker"]

_UNDEFINED_ONLY = [UNDEFINED]
SUBTYPE = Symbol(":<")
#: at most this many types of one atom with its supertypes
_MAX_SUPERTYPES = 256
_ANY_TYPE = ("Atom", "%Undefined%", "Grounded")
#: the expressions the standard library declares types for, `(: (@kind atom) DocKindAtom)`
_LIBRARY_EXPRESSION_TYPES: dict[Atom, Atom] = {
    Expression((Symbol("@kind"), Symbol(k))): Symbol(t)
    for k, t in (("function", "DocKindFunction"), ("atom", "DocKindAtom"))}


def _library_expression_types(atom: Expression) -> list[Atom]:
    """The library's declared types of an expression: of the one it is, or of those it unifies with
    (`($a $b)` is `DocKindFunction` and `DocKindAtom` in hyperon: the query of its type finds both)."""
    got = _LIBRARY_EXPRESSION_TYPES.get(atom)
    if got is not None:
        return [got]
    if len(atom.children) != 2 or atom.ground:
        return []
    return [t for k, t in _LIBRARY_EXPRESSION_TYPES.items() if unify(k, atom, EMPTY_BINDINGS) is not None]


#: hyperon's type of `=`
EQ_TYPE = Expression((Symbol("->"), Variable("t"), Variable("t"), Symbol("%Undefined%")))


#: at most this many declared expressions of one length are kept to test atoms against
_FEW = 64


def _may_match(declared: Atom, atom: Expression) -> bool:
    """Whether a declared expression may match an expression of its length, by a look at their
    children only: a symbol meets an equal symbol or a variable (numbers may match by value)."""
    for d, a in zip(declared.children, atom.children):  # type: ignore[attr-defined]
        td, ta = type(d), type(a)
        if td is Variable or ta is Variable:
            continue
        if td is Symbol or ta is Symbol:
            if d != a:
                return False
        elif (td is Expression) != (ta is Expression) or (td is Expression and len(d.children) != len(a.children)):  # type: ignore[attr-defined]
            return False
    return True


class TypeChecker:
    """Types as the interpreter `it` sees them: its space's declarations, cached until `clear`."""

    def __init__(self, it: Any) -> None:
        self.it = it
        self.cache: dict[Atom, list[Atom]] = {}
        self.inferred: dict[Atom, list[Atom]] = {}  # types of expressions, as get-type finds them
        self.failed: dict[Atom, list[Entry]] = {}  # of those that are ill-typed applications, their entries
        self.typed_arities: dict[int, bool] = {}  # see expressions_typed
        #: per length, the expressions declared with `(: (..) T)`, when there are few (see declared_types)
        self.typed_expressions: dict[int, tuple[Atom, ...] | None] = {}
        self.returns: dict[tuple[str, int], int] = {}  # see returns_bool

    def clear(self) -> None:
        """Forget cached declarations and inferred types (the space changed)."""
        self.cache.clear()
        self.inferred.clear()
        self.failed.clear()
        self.typed_arities.clear()
        self.typed_expressions.clear()
        self.returns.clear()

    def expressions_typed(self, arity: int) -> bool:
        """Whether the space declares a type for some expression of this many atoms, `(: (f 1) T)`
        (one query per arity and version of the space: a range of the `:` atoms)."""
        got = self.typed_arities.get(arity)
        if got is None:
            expr = Expression(tuple(Variable(f"e{i}") for i in range(arity)))
            rows = self.it.query(self.it.space, Expression((COLON, expr, Variable("t"))), EMPTY_BINDINGS)
            got = self.typed_arities[arity] = bool(rows)
            self.typed_expressions[arity] = tuple(bb.resolve(expr) for bb in rows) if len(rows) <= _FEW else None
        return got

    def declared_types(self, atom: Atom) -> list[Atom]:
        library = _library_expression_types(atom) if type(atom) is Expression else []
        if type(atom) is Expression and not library:
            # no query (its pattern holds the whole expression: once per level of a deep one
            # made typing it quadratic) where no declared expression of its length can match it
            n = len(atom.children)
            if not self.expressions_typed(n):
                return []
            few = self.typed_expressions[n]
            if few is not None and not any(_may_match(e, atom) for e in few):
                return []
        got = self.cache.get(atom)
        if got is None:
            t = fresh_variable("t")
            # (a declared `%Undefined%` counts as no declaration, as in hyperon: `(: f %Undefined%)`
            # beside `(: f A)` leaves `[A]`, alone `(f 1)` is `%Undefined%`, not a tuple's type)
            got = [x for x in (bb.resolve(t) for bb in self.it.query(self.it.space, Expression((COLON, atom, t)),
                                                                     EMPTY_BINDINGS)) if x != UNDEFINED]
            if got:
                got = self._with_supertypes(got)
            if type(atom) is Symbol and atom.name in BUILTINS and atom.name not in self.it.tokens:
                _, args, ret = BUILTINS[atom.name]
                if atom.name not in PY_OPERATIONS:  # (hyperon types those by nothing: as an undeclared name)
                    got.append(signature_atom(args, ret))
            elif atom == EQ:  # (hyperon's library declares it; a space may declare more, listed first)
                got.append(EQ_TYPE)
            elif type(atom) is Symbol and atom.name in SPECIAL_TYPES:
                got.extend(SPECIAL_SIGNATURES.get(atom.name) or (SPECIAL_TYPES[atom.name],))
            elif library:
                got.extend(library)
            elif not got and is_char(atom):
                got.append(CHAR_T)
            self.cache[atom] = got
        return got

    def _with_supertypes(self, types: list[Atom]) -> list[Atom]:
        """The types and, level by level, the supertypes `(:< T S)` declares, each once (hyperon's order)."""
        out = list(types)
        level = out
        while level:
            nxt: list[Atom] = []
            for t in level:
                s = fresh_variable("s")
                for bb in self.it.query(self.it.space, Expression((SUBTYPE, t, s)), EMPTY_BINDINGS):
                    sup = bb.resolve(s)
                    # a supertype with a variable, `(:< Cat $t)`, is left out: every lookup renames
                    # it apart, so it would never be found again (hyperon 0.2.10 overflows its stack)
                    if type(sup) is Variable or (type(sup) is Expression and not sup.ground):
                        continue
                    if sup not in out and sup not in nxt and len(out) + len(nxt) < _MAX_SUPERTYPES:
                        nxt.append(sup)
            out.extend(nxt)
            level = nxt
        return out

    def returns_bool(self, call: Expression) -> int:
        """How a call as written is a Bool where one is expected: 2 when its head is a symbol whose
        every declared type (at least one) returns Bool; 1 when each returns Bool, a type variable
        or any type, or there is none; 0 (to be checked as written) otherwise, or when the space
        declares a type for some expression of its length. Cached per head name and length."""
        head = call.children[0] if call.children else None
        if type(head) is not Symbol:
            return 0
        key = (head.name, len(call.children))
        got = self.returns.get(key)
        if got is None:
            declared = self.declared_types(head) if not self.expressions_typed(key[1]) else None
            got = 0 if declared is None else 2 if declared else 1
            for t in declared or ():
                ret = t.children[-1] if type(t) is Expression and t.children and t.children[0] == ARROW else t
                if ret == BOOL_T:
                    continue
                if type(ret) is Variable or (type(ret) is Symbol and ret.name in _ANY_TYPE):
                    got = 1
                    continue
                got = 0
                break
            self.returns[key] = got
        return got

    def function_type(self, head: Atom) -> Atom | None:
        if type(head) is not Symbol:
            t = head.typ if type(head) is PyObject else None
            return t if type(t) is Expression and t.children and t.children[0] == ARROW else None
        for t in self.declared_types(head):
            if type(t) is Expression and t.children and t.children[0] == ARROW:
                return rename_apart(t)
        return None

    def types_of(self, atom: Atom) -> list[Atom]:
        """All types of an atom as hyperon's get-type finds them (see `inference`); [] when ill-typed."""
        t = type(atom)
        if t is Variable:
            return [UNDEFINED]
        if t is not Expression:
            quick = GROUNDED_TYPES.get(t)
            return [quick] if quick is not None else atom_types(atom, self)
        got = self.inferred.get(atom)
        if got is None:
            # forgotten past 50,000 only on a miss: one walk keeps every level of a deep argument,
            # so typing each level in turn is a lookup, at any depth
            if len(self.inferred) > 50_000:
                self.inferred.clear()
                self.failed.clear()
            full, some_failed = atom_entries(atom, self, self.inferred, self.failed)
            if some_failed:
                self.failed[atom] = full
                valid = [t for t in full if not isinstance(t, Failed)]
            else:
                valid = full  # type: ignore[assignment]  # (no failure: atoms only)
            self.inferred[atom] = got = valid
        return got

    def entries_of(self, atom: Atom) -> list[Entry]:
        """`types_of` with the ways an ill-typed application fails among them (`inference.Failed`)."""
        got = self.types_of(atom)
        if type(atom) is not Expression or not self.failed:
            return got  # type: ignore[return-value]
        return self.failed.get(atom, got)  # type: ignore[arg-type]

    def grounded_type(self, atom: Atom) -> Atom:
        """The type of a grounded atom; a state's is `(StateMonad T)` with T its first value's type."""
        quick = GROUNDED_TYPES.get(type(atom))
        if quick is not None:
            return quick
        if isinstance(atom, SpaceAtom):
            return Symbol("SpaceType")
        if isinstance(atom, StateAtom):
            return Expression((Symbol("StateMonad"), atom.value_type))
        if type(atom) is PyObject:  # (its type, or none: hyperon types no tuple holding one of type %Undefined%)
            return NO_TYPE if atom.typ == UNDEFINED else atom.typ
        return Symbol(getattr(atom, "type_name", "Grounded"))

    def plainly_fits(self, args: tuple[Atom, ...], params: tuple[Atom, ...]) -> bool:
        """A quick yes for the common call: variables, untyped atoms, literals of the right type.

        An expression whose head is an untyped symbol counts as untyped unless the
        space declares types for expressions of its length (`(: (f 1) T)`).
        """
        grounded = GROUNDED_TYPES
        declared = self.declared_types
        for a, want in zip(args, params):
            ta = type(a)
            q = grounded.get(ta)
            if q is not None:
                if want is q or want == q or (type(want) is Symbol and want.name in _ANY_TYPE):
                    continue
                return False
            if ta is Variable:
                continue
            if ta is Expression:
                kids = a.children  # type: ignore[attr-defined]
                if kids and type(kids[0]) is Symbol and not declared(kids[0]) and not self.expressions_typed(len(kids)):
                    continue
                if self.types_of(a) == _UNDEFINED_ONLY:
                    continue
                return False
            if ta is Symbol and not declared(a) and not is_char(a):  # untyped: fits anything
                continue
            return False
        return True

    def check_added(self, atom: Atom) -> list[Atom]:
        """The errors hyperon's `type-check auto` reports for an atom about to be added (none: it fits).

        Like hyperon 0.2.10, only an application of a typed function is checked:
        its arity, then each argument against the parameter type.
        """
        atom = self.it.tokens_in(atom)
        if type(atom) is not Expression or not atom.children:
            return []
        kids = atom.children
        several = SPECIAL_SIGNATURES.get(kids[0].name) if type(kids[0]) is Symbol else None
        if several:  # (a form hyperon declares with several types: fine when one fits, else each one's error)
            found = [self._check_added(atom, rename_apart(t)) for t in several]
            errs = [e for e in found if e is not None]
            return errs if len(errs) == len(found) else []
        ft = self.function_type(kids[0])
        if ft is None and kids[0] == EQ:
            ft = rename_apart(EQ_TYPE)  # hyperon's type of `=`
        if ft is None:
            return []
        err = self._check_added(atom, ft)
        return [err] if err is not None else []

    def _check_added(self, atom: Expression, ft: Atom) -> Atom | None:
        """`check_added` against one function type."""
        kids = atom.children
        params = ft.children[1:-1]  # type: ignore[attr-defined]
        if len(params) != len(kids) - 1:
            return error(atom, Symbol("IncorrectNumberOfArguments"))
        bt: Bindings | None = EMPTY_BINDINGS
        for i, (arg, want) in enumerate(zip(kids[1:], params), 1):
            if type(want) is Symbol and (want.name in ("Atom", "%Undefined%") or want.name == metatype(arg)):
                continue
            have = self.types_of(arg)
            if not have and type(arg) is Expression and arg.children:
                # a badly typed application counts as its function's type, as in hyperon
                have = [self.function_type(arg.children[0]) or UNDEFINED]
            nb = None
            for h in have:
                nb = bt if h == UNDEFINED else unify(want, h, bt)  # type: ignore[arg-type]
                if nb is not None:
                    break
            if nb is None and bt is not None and bt.resolve(want) == UNDEFINED:
                nb = bt  # a parameter bound to an undefined type takes anything here (not so when the call runs)
            if nb is None:  # the parameter is shown as declared
                return error(atom, Expression((Symbol("BadArgType"), Integer(i), want, have[0] if have else UNDEFINED)))
            bt = nb
        return None

    def unify_type(self, atom: Atom, want: Atom, b: Bindings) -> Bindings | None:
        if type(want) is Symbol and (want.name in ("Atom", "%Undefined%") or want.name == metatype(atom)):
            return b
        for have in self.types_of(atom):
            if have == UNDEFINED:
                return b
            bb = unify(want, have, b)
            if bb is not None:
                return bb
        return None

    def type_ok(self, atom: Atom, want: Atom) -> bool:
        if type(want) is Variable:
            return True
        quick = GROUNDED_TYPES.get(type(atom))
        if quick is not None and type(want) is Symbol:
            return want is quick or want == quick or want.name in ("Atom", "%Undefined%", "Grounded")
        return self.unify_type(atom, want, EMPTY_BINDINGS) is not None

