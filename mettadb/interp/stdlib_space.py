"""The atoms hyperon 0.2.10's standard library module holds, which `match &self` reaches there.

hyperon keeps its standard library in a module space every module depends on, so
a query of `&self` (or of an imported module's space) meets the library's own
type declarations `(: name type)` and rules `(= head body)` after the module's
own atoms.  These are those atoms, as hyperon's `match` shows them, in its order
(its trie's, for a query of a variable).  mettadb evaluates the library with its
own forms and operations: the interpreter never reads these rules or types, only
`match` does.  hyperon's `@doc` atoms are not here (their texts are hyperon's):
a `match` of everything in `&self` therefore lists fewer atoms than hyperon's.
"""

from __future__ import annotations

from ..atoms import Atom
from ..parser import parse_script
from ..spaces import MemorySpace

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
(: case (-> Atom Expression %Undefined%))
(= (id $x) $x)
(= (noeval $x) $x)
(= (is-function $type) (let $mtype (get-metatype $type) (unify $mtype Expression (let $size (size-atom $type) (unify $size 0 False
    (let ($h $t) (decons-atom $type) (unify $h -> True False)))) False)))
(= (first-from-pair $pair) (function (unify $pair ($first $second) (return $first) (return (Error (first-from-pair $pair)
    "incorrect pair format")))))
(= (car-atom $atom) (chain (decons-atom $atom) $ht (unify ($head $_) $ht $head (Error (car-atom $atom)
    "car-atom expects a non-empty expression as an argument"))))
(= (cdr-atom $atom) (chain (decons-atom $atom) $ht (unify ($_ $tail) $ht $tail (Error (cdr-atom $atom)
    "cdr-atom expects a non-empty expression as an argument"))))
(= (quote $atom) NotReducible)
(= (unquote (quote $atom)) $atom)
(= (nop $x) ())
(= (unique $arg) (let $c (collapse $arg) (let $u (unique-atom $c) (superpose $u))))
(= (assert $atom) (chain (context-space) $space (chain (metta $atom %Undefined% $space) $eval-atom (unify $eval-atom True ()
    (Error (assert $atom) ($atom not True))))))
(= (undefined-doc-function-type $params) (if (== () $params) (%Undefined%) (let $params-tail (cdr-atom $params) (let $tail
    (undefined-doc-function-type $params-tail) (cons-atom %Undefined% $tail)))))
(= (help! $atom) (case (help-internal! $atom) ((Empty (println! (format-args "No documentation found for {}" ($atom)))) ($other
    $other))))
(= (help-internal! $atom) (let $top-space (mod-space! top) (case (get-doc $top-space $atom) (((@doc-formal (@item $item) (@kind
    function) (@type $type) (@desc $descr) (@params $params) (@return (@type $ret-type) (@desc $ret-desc))) (let () (println!
    (format-args "Function {}: {} {}" ($item $type $descr))) (let () (println! (format-args "Parameters:" ())) (let ()
    (for-each-in-atom $params help-param!) (let () (println! (format-args "Return: (type {}) {}" ($ret-type $ret-desc))) ())))))
    ((@doc-formal (@item $item) (@kind function) (@type $type) (@desc $descr)) (let () (println! (format-args
    "Function {} (type {}) {}" ($item $type $descr))) ())) ((@doc-formal (@item $item) (@kind atom) (@type $type) (@desc $descr))
    (let () (println! (format-args "Atom {}: {} {}" ($item $type $descr))) ())) (Empty Empty) ($other (Error $other
    "Cannot match @doc-formal structure"))))))
(= (help-internal! $mod) (case (module-space-no-deps (mod-space! $mod)) (((Error $atom $msg) Empty) ($space (help-space!
    $space)))))
(= (help-space! $space) (let $_ (collapse (unify $space (@doc $name (@desc $desc) $params $ret) (let () (println! (format-args
    "{}\n\t{}" ($name $desc))) Empty) Empty)) ()))
(= (help-space! $space) (let $_ (collapse (unify $space (@doc $name (@desc $desc)) (let () (println! (format-args "{}\n\t{}"
    ($name $desc))) Empty) Empty)) Empty))
(= (help-param! $param) (let (@param (@type $type) (@desc $desc)) $param (println! (format-args "  {} {}" ((type $type) $desc)))))
(= (new-state $x) (chain (context-space) $space (let $t (collapse (get-type-space $space $x)) (_new-state $x $t))))
(= (collapse $atom) (function (chain (context-space) $space (chain (collapse-bind (metta $atom %Undefined% $space)) $eval (chain
    (eval (foldl-atom $eval () $res $item (_collapse-add-next-atom-from-collapse-bind-result $res $item))) $result (return
    $result))))))
(= (atom-subst $atom $var $templ) (function (chain (eval (noeval $atom)) $var (return $templ))))
(= (if-error $atom $then $else) (function (chain (eval (get-metatype $atom)) $meta (eval (if-equal $meta Expression (eval
    (if-equal $atom () (return $else) (chain (decons-atom $atom) $list (unify $list ($head $tail) (eval (if-equal $head Error
    (return $then) (return $else))) (return $else))))) (return $else))))))
(= (type-cast $atom $type $space) (function (chain (eval (get-metatype $atom)) $meta (eval (if-equal $type $meta (return $atom)
    (chain (eval (collapse-bind (eval (get-type $atom $space)))) $collapsed (chain (eval (map-atom $collapsed $pair (eval
    (first-from-pair $pair)))) $actual-types (chain (eval (foldl-atom $actual-types False $a $b (eval (match-type-or $a $b
    $type)))) $is-some-comp (eval (if $is-some-comp (return $atom) (return (Error $atom BadType))))))))))))
(= (match-type-or $folded $next $type) (function (chain (eval (match-types $next $type True False)) $matched (chain (eval (or
    $folded $matched)) $or (return $or)))))
(= (filter-atom $list $var $filter) (function (chain (decons-atom $list) $ht (unify ($head $tail) $ht (chain (eval (sealed ($var)
    $filter)) $sealedfilter (chain (eval (filter-atom $tail $var $sealedfilter)) $tail-filtered (chain (eval (atom-subst $head
    $var $sealedfilter)) $filter-expr (chain $filter-expr $is-filtered (eval (if $is-filtered (chain (cons-atom $head
    $tail-filtered) $res (return $res)) (return $tail-filtered))))))) (return ())))))
(= (map-atom $list $var $map) (function (chain (decons-atom $list) $ht (unify ($head $tail) $ht (chain (eval (sealed ($var) $map))
    $sealedmap (chain (eval (map-atom $tail $var $sealedmap)) $tail-mapped (chain (eval (atom-subst $head $var $sealedmap))
    $map-expr (chain $map-expr $head-mapped (chain (cons-atom $head-mapped $tail-mapped) $res (return $res)))))) (return ())))))
(= (if True $then $else) $then)
(= (if False $then $else) $else)
(= (let $pattern $atom $template) (unify $atom $pattern $template Empty))
(= (get-doc-function $space $name $type) (unify $space (@doc $name $desc (@params $params) $ret) (let $type' (if (== $type
    %Undefined%) (undefined-doc-function-type $params) (cdr-atom $type)) (let ($params' $ret') (get-doc-params $params $ret
    $type') (@doc-formal (@item $name) (@kind function) (@type $type) $desc (@params $params') $ret'))) Empty))
(= (get-doc-params $params $ret $types) (let $head-type (car-atom $types) (let $tail-types (cdr-atom $types) (if (== () $params)
    (let (@return $ret-desc) $ret (() (@return (@type $head-type) (@desc $ret-desc)))) (let (@param $param-desc) (car-atom
    $params) (let $tail-params (cdr-atom $params) (let ($params' $result-ret) (get-doc-params $tail-params $ret $tail-types) (let
    $result-params (cons-atom (@param (@type $head-type) (@desc $param-desc)) $params') ($result-params $result-ret)))))))))
(= (assertEqualMsg $actual $expected $msg) (chain (context-space) $space (chain (metta (collapse $actual) %Undefined% $space)
    $actual-results (chain (metta (collapse $expected) %Undefined% $space) $expected-results (_assert-results-are-equal-msg
    $actual-results $expected-results (assertEqualMsg $actual $expected) $msg)))))
(= (assertAlphaEqualMsg $actual $expected $msg) (chain (context-space) $space (chain (metta (collapse $actual) %Undefined% $space)
    $actual-results (chain (metta (collapse $expected) %Undefined% $space) $expected-results (_assert-results-are-alpha-equal-msg
    $actual-results $expected-results (assertAlphaEqualMsg $actual $expected) $msg)))))
(= (assertEqualToResultMsg $actual $expected-results $msg) (chain (context-space) $space (chain (metta (collapse $actual)
    %Undefined% $space) $actual-results (_assert-results-are-equal-msg $actual-results $expected-results (assertEqualToResultMsg
    $actual $expected-results) $msg))))
(= (assertAlphaEqualToResultMsg $actual $expected-results $msg) (chain (context-space) $space (chain (metta (collapse $actual)
    %Undefined% $space) $actual-results (_assert-results-are-alpha-equal-msg $actual-results $expected-results
    (assertAlphaEqualToResultMsg $actual $expected-results) $msg))))
(= (if-decons-expr $atom $head $tail $then $else) (function (eval (if-equal $atom () (return $else) (chain (decons-atom $atom)
    $list (unify $list ($head $tail) (return $then) (return $else)))))))
(= (foldl-atom $list $init $a $b $op) (function (chain (context-space) $space (eval (_minimal-foldl-atom $list $init $a $b $op
    $space)))))
(= (return-on-error $atom $then) (function (eval (if-equal $atom Empty (return (return Empty)) (eval (if-error $atom (return
    (return $atom)) (return $then)))))))
(= (switch $atom $cases) (id (switch-minimal $atom $cases)))
(= (switch-minimal $atom $cases) (function (chain (decons-atom $cases) $list (chain (eval (switch-internal $atom $list)) $res
    (chain (eval (if-equal $res NotReducible Empty $res)) $x (return $x))))))
(= (switch-internal $atom (($pattern $template) $tail)) (function (unify $atom $pattern (return $template) (chain (eval
    (switch-minimal $atom $tail)) $ret (return $ret)))))
(= (let* $pairs $template) (chain (decons-atom $pairs) $ht (unify ($head $tail) $ht (unify ($pattern $atom) $head (let $pattern
    $atom (let* $tail $template)) (Error (let* $pairs $template)
    "List of (<pattern> <atom>) pairs is expected as a second argument")) $template)))
(= (add-reduct $dst $atom) (add-atom $dst $atom))
(= (union $arg1 $arg2) (let $c1 (collapse $arg1) (let $c2 (collapse $arg2) (let $u (union-atom $c1 $c2) (superpose $u)))))
(= (intersection $arg1 $arg2) (let $c1 (collapse $arg1) (let $c2 (collapse $arg2) (let $u (intersection-atom $c1 $c2) (superpose
    $u)))))
(= (subtraction $arg1 $arg2) (let $c1 (collapse $arg1) (let $c2 (collapse $arg2) (let $u (subtraction-atom $c1 $c2) (superpose
    $u)))))
(= (add-reducts $space $tuple) (foldl-atom $tuple () $a $b (add-atom $space $b)))
(= (add-atoms $space $tuple) (foldl-atom $tuple () $a $b (add-atom $space $b)))
(= (assertIncludes $atom $content) (let $eval_atom (collapse $atom) (let $diff (subtraction-atom $content $eval_atom) (if (==
    $diff ()) () (Error (assertIncludes $atom $content) (assertIncludes error: $diff not included in result: $eval_atom))))))
(= (get-doc $space $atom) (let $meta-type (get-metatype $atom) (case $meta-type ((Expression (get-doc-atom $space $atom)) ($_
    (get-doc-single-atom $space $atom))))))
(= (get-doc-single-atom $space $atom) (let $type (get-type-space $space $atom) (if (is-function $type) (get-doc-function $space
    $atom $type) (get-doc-atom $space $atom))))
(= (get-doc-atom $space $atom) (let $type (get-type-space $space $atom) (unify $space (@doc $atom $desc) (@doc-formal (@item
    $atom) (@kind atom) (@type $type) $desc) (unify $space (@doc $atom $desc' (@params $params) $ret) (get-doc-function $space
    $atom %Undefined%) Empty))))
(= (for-each-in-atom $expr $func) (if (noreduce-eq $expr ()) () (let $head (car-atom $expr) (let $tail (cdr-atom $expr) (let $_
    ($func $head) (for-each-in-atom $tail $func))))))
(= (noreduce-eq $a $b) (== (quote $a) (quote $b)))
(= (assertEqual $actual $expected) (chain (context-space) $space (chain (metta (collapse $actual) %Undefined% $space)
    $actual-results (chain (metta (collapse $expected) %Undefined% $space) $expected-results (_assert-results-are-equal
    $actual-results $expected-results (assertEqual $actual $expected))))))
(= (assertAlphaEqual $actual $expected) (chain (context-space) $space (chain (metta (collapse $actual) %Undefined% $space)
    $actual-results (chain (metta (collapse $expected) %Undefined% $space) $expected-results (_assert-results-are-alpha-equal
    $actual-results $expected-results (assertAlphaEqual $actual $expected))))))
(= (assertEqualToResult $actual $expected-results) (chain (context-space) $space (chain (metta (collapse $actual) %Undefined%
    $space) $actual-results (_assert-results-are-equal $actual-results $expected-results (assertEqualToResult $actual
    $expected-results)))))
(= (assertAlphaEqualToResult $actual $expected-results) (chain (context-space) $space (chain (metta (collapse $actual) %Undefined%
    $space) $actual-results (_assert-results-are-alpha-equal $actual-results $expected-results (assertAlphaEqualToResult $actual
    $expected-results)))))
(= (case $atom $cases) (function (chain (context-space) $space (chain (collapse-bind (metta $atom %Undefined% $space)) $c (chain
    (eval (== $c ())) $is_empty (unify $is_empty True (chain (eval (switch-minimal Empty $cases)) $r (return $r)) (chain
    (superpose-bind $c) $e (chain (eval (switch-minimal $e $cases)) $r (return $r)))))))))
(= (match-types $type1 $type2 $then $else) (function (eval (if-equal $type1 %Undefined% (return $then) (eval (if-equal $type2
    %Undefined% (return $then) (eval (if-equal $type1 Atom (return $then) (eval (if-equal $type2 Atom (return $then) (unify $type1
    $type2 (return $then) (return $else))))))))))))
(= (nop) ())
(= (empty) Empty)
(= (help!) (help! corelib))
"""

_ATOM_LIST: list[Atom] = []


def stdlib_space() -> MemorySpace:
    """A new space holding the standard library's declarations and rules (their text read once per
    process; each run gets its own space, as a script may add to it)."""
    if not _ATOM_LIST:
        _ATOM_LIST.extend(atom for _bang, atom in parse_script(_ATOMS, "<stdlib atoms>"))
    space = MemorySpace()
    for atom in _ATOM_LIST:
        space.add(atom)
    return space
