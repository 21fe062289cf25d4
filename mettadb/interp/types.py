"""The type checker: declared types, types of applications, argument checks.

hyperon's type system as the interpreter needs it: `(: name type)`
declarations read from the space, the types of grounded values and of the
standard library's operations, the type of an application (its function's
return type, when every argument fits the arrow), and the check `pragma!
type-check auto` applies to atoms as they are added.
"""

from __future__ import annotations

from typing import Any

from ..atoms import Atom, Bool, Expression, Float, Integer, String, Symbol, Variable, fresh_variable
from ..bindings import EMPTY_BINDINGS, Bindings
from ..spaces import SpaceAtom, StateAtom, rename_apart
from ..unify import unify
from .core import (
    ARROW,
    BOOL_T,
    COLON,
    EQ,
    GROUNDED_TYPES,
    NUMBER_T,
    SPECIAL_TYPES,
    STRING_T,
    UNDEFINED,
    error,
    metatype,
)
from .grounded import BUILTINS, signature_atom

__all__ = ["EQ_TYPE", "TypeChecker"]

#: hyperon's type of `=`
EQ_TYPE = Expression((Symbol("->"), Variable("t"), Variable("t"), Symbol("%Undefined%")))


class TypeChecker:
    """Types as the interpreter `it` sees them: its space's declarations, cached until `clear`."""

    def __init__(self, it: Any) -> None:
        self.it = it
        self.cache: dict[Atom, list[Atom]] = {}

    def clear(self) -> None:
        """Forget cached declarations (the space changed)."""
        self.cache.clear()

    def declared_types(self, atom: Atom) -> list[Atom]:
        got = self.cache.get(atom)
        if got is None:
            t = fresh_variable("t")
            got = [bb.resolve(t) for bb in self.it.query(self.it.space, Expression((COLON, atom, t)), EMPTY_BINDINGS)]
            if type(atom) is Symbol and atom.name in BUILTINS:
                _, args, ret = BUILTINS[atom.name]
                got.append(signature_atom(args, ret))
            elif type(atom) is Symbol and atom.name in SPECIAL_TYPES:
                got.append(SPECIAL_TYPES[atom.name])
            self.cache[atom] = got
        return got

    def function_type(self, head: Atom) -> Atom | None:
        if type(head) is not Symbol:
            return None
        for t in self.declared_types(head):
            if type(t) is Expression and t.children and t.children[0] == ARROW:
                return rename_apart(t)
        return None

    def types_of(self, atom: Atom) -> list[Atom]:
        t = type(atom)
        if t is Integer or t is Float:
            return [NUMBER_T]
        if t is String:
            return [STRING_T]
        if t is Bool:
            return [BOOL_T]
        if isinstance(atom, SpaceAtom):
            return [Symbol("SpaceType")]
        if isinstance(atom, StateAtom):
            return [Expression((Symbol("StateMonad"), *self.types_of(atom.current)[:1]))]
        if t is Variable:
            return [UNDEFINED]
        if t is Symbol:
            return self.declared_types(atom) or [UNDEFINED]
        kids = atom.children  # type: ignore[attr-defined]
        if not kids:
            return [UNDEFINED]
        ft = self.function_type(kids[0])
        if ft is not None:
            argtypes = ft.children[1:-1]  # type: ignore[attr-defined]
            if len(argtypes) == len(kids) - 1:
                bt: Bindings | None = EMPTY_BINDINGS
                for a, want in zip(kids[1:], argtypes):
                    if bt is None:
                        break
                    bt = self.unify_type(a, want, bt)
                if bt is not None:
                    return [bt.resolve(ft.children[-1])]  # type: ignore[attr-defined]
                return []
        declared = self.declared_types(atom)
        return declared or [UNDEFINED]

    def check_added(self, atom: Atom) -> Atom | None:
        """The error hyperon's `type-check auto` reports for an atom about to be added, or None.

        Like hyperon 0.2.10, only an application of a typed function is checked:
        its arity, then each argument against the parameter type.
        """
        atom = self.it.tokens_in(atom)
        if type(atom) is not Expression or not atom.children:
            return None
        kids = atom.children
        ft = self.function_type(kids[0])
        if ft is None and kids[0] == EQ:
            ft = rename_apart(EQ_TYPE)  # hyperon's type of `=`
        if ft is None:
            return None
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
            if nb is None:
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

