"""The standard library's type declarations, which `match &self` reaches in hyperon 0.2.10.

hyperon keeps its standard library in a module space every module depends on, so
a query of `&self` (or of an imported module's space) meets the library's own
type declarations `(: name type)` after the module's own atoms, in its order (its
trie's, for a query of a variable).  These signatures are the library's interface
(mettadb's type checker holds the same facts); the interpreter never reads them
from here, only `match` does.  Its `@doc` atoms are there too: mettadb's own
texts (`stdlib_docs`), in hyperon's order.  The library's rules `(= head body)` are
hyperon's own code, which mettadb does not copy: a `match` of them finds nothing
(README: differences).
"""

from __future__ import annotations

from ..atoms import Atom
from ..parser import parse_script
from ..spaces import MemorySpace
from .stdlib_docs import corelib_docs

__all__ = ["stdlib_space"]

_ATOMS = r"""
(: = (-> $t $t %Undefined%))
(: ErrorType Type)
(: SpaceType Type)
(: BadType (-> Type Type ErrorDescription))
(: BadArgType (-> Number Type Type ErrorDescription))
(: IncorrectNumberOfArguments ErrorDescription)
(: Error (-> Atom Atom ErrorType))
(: return (-> $t $t))
(: function (-> Atom Atom))
(: eval (-> Atom Atom))
(: evalc (-> Atom SpaceType Atom))
(: chain (-> Atom Variable Atom %Undefined%))
(: unify (-> Atom Atom Atom Atom %Undefined%))
(: cons-atom (-> Atom Expression Atom))
(: decons-atom (-> Expression Atom))
(: context-space (-> SpaceType))
(: collapse-bind (-> Atom Expression))
(: superpose-bind (-> Expression Atom))
(: metta (-> Atom Type SpaceType Atom))
(: id (-> $t $t))
(: noeval (-> Atom Atom))
(: atom-subst (-> Atom Variable Atom Atom))
(: if-decons-expr (-> Expression Variable Variable Atom Atom %Undefined%))
(: if-error (-> Atom Atom Atom %Undefined%))
(: return-on-error (-> Atom Atom %Undefined%))
(: switch (-> %Undefined% Expression %Undefined%))
(: switch-minimal (-> Atom Expression Atom))
(: switch-internal (-> Atom Expression Atom))
(: is-function (-> Type Bool))
(: filter-atom (-> Expression Variable Atom Expression))
(: map-atom (-> Expression Variable Atom Expression))
(: foldl-atom (-> Expression Atom Variable Variable Atom %Undefined%))
(: if (-> Bool Atom Atom $t))
(: let (-> Atom %Undefined% Atom %Undefined%))
(: let* (-> Expression Atom %Undefined%))
(: add-reduct (-> SpaceType %Undefined% (->)))
(: car-atom (-> Expression %Undefined%))
(: cdr-atom (-> Expression Expression))
(: quote (-> Atom Atom))
(: unquote (-> %Undefined% %Undefined%))
(: unique (-> Atom %Undefined%))
(: union (-> Atom Atom %Undefined%))
(: intersection (-> Atom Atom %Undefined%))
(: subtraction (-> Atom Atom %Undefined%))
(: add-reducts (-> SpaceType %Undefined% (->)))
(: add-atoms (-> SpaceType Expression (->)))
(: assertIncludes (-> Atom Expression (->)))
(: assert (-> Atom (->)))
(: @doc (-> Atom DocDescription DocInformal))
(: @doc (-> Atom DocDescription DocParameters DocReturnInformal DocInformal))
(: @desc (-> String DocDescription))
(: @param (-> String DocParameterInformal))
(: @param (-> DocType DocDescription DocParameter))
(: @return (-> String DocReturnInformal))
(: @return (-> DocType DocDescription DocReturn))
(: @doc-formal (-> DocItem DocKindFunction DocType DocDescription DocParameters DocReturn DocFormal))
(: @doc-formal (-> DocItem DocKindAtom DocType DocDescription DocFormal))
(: @doc-formal (-> DocItem DocKindFunction DocType DocDescription DocFormal))
(: @item (-> Atom DocItem))
(: (@kind function) DocKindFunction)
(: (@kind atom) DocKindAtom)
(: @type (-> Type DocType))
(: @params (-> Expression DocParameters))
(: get-doc (-> SpaceType Atom %Undefined%))
(: get-doc-single-atom (-> SpaceType Atom %Undefined%))
(: get-doc-function (-> SpaceType Atom Type %Undefined%))
(: undefined-doc-function-type (-> Expression Type))
(: get-doc-params (-> Expression Atom Expression (Expression Atom)))
(: get-doc-atom (-> SpaceType Atom %Undefined%))
(: help! (-> Atom (->)))
(: help! (-> (->)))
(: help-internal! (-> Atom (->)))
(: help-internal! (-> Symbol (->)))
(: help-space! (-> SpaceType (->)))
(: help-param! (-> Atom (->)))
(: for-each-in-atom (-> Expression Atom (->)))
(: noreduce-eq (-> Atom Atom Bool))
(: new-state (-> $t (StateMonad $t)))
(: assertEqual (-> Atom Atom (->)))
(: assertEqualMsg (-> Atom Atom Atom (->)))
(: assertAlphaEqual (-> Atom Atom (->)))
(: assertAlphaEqualMsg (-> Atom Atom Atom (->)))
(: assertEqualToResult (-> Atom Atom (->)))
(: assertEqualToResultMsg (-> Atom Atom Atom (->)))
(: assertAlphaEqualToResult (-> Atom Atom (->)))
(: assertAlphaEqualToResultMsg (-> Atom Atom Atom (->)))
(: collapse (-> Atom Atom))
(: case (-> Atom Expression %Undefined%))"""

_ATOM_LIST: list[Atom] = []


def stdlib_space() -> MemorySpace:
    """A new space holding the standard library's declarations (their text read once per process; each
    run gets its own space, as a script may add to it)."""
    if not _ATOM_LIST:
        # as hyperon's trie orders them for a query of a variable: the documentation of functions, the
        # declarations, the documentation of atoms (its rules would come last)
        docs = list(corelib_docs().atoms())
        _ATOM_LIST.extend(d for d in docs if len(d.children) == 5)  # type: ignore[attr-defined]
        _ATOM_LIST.extend(atom for _bang, atom in parse_script(_ATOMS, "<stdlib atoms>"))
        _ATOM_LIST.extend(d for d in docs if len(d.children) != 5)  # type: ignore[attr-defined]
    space = MemorySpace()
    for atom in _ATOM_LIST:
        space.add(atom)
    return space
