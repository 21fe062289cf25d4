"""The special forms: control, binding, nondeterminism, spaces, states, assertions, modules, docs.

Each gets its arguments unevaluated and asks the driver for what it needs
evaluated by yielding `(atom, bindings)`.  `special(name, type, arity=n)`
registers a form with its declared type; with `arity` the decorator answers
a call with the wrong number of arguments, so the form never sees one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator, Iterator
from types import GeneratorType
from typing import Any

from ..atoms import Atom, Expression, Grounded, Integer, String, Symbol, Variable, alpha_equal, equal_as_values, fresh_variable, iter_atoms
from ..bindings import EMPTY_BINDINGS, Bindings
from ..encoding import encode_with_names
from ..errors import ModuleTextError
from ..modtext import read_module
from ..parser import parse_atom
from ..spaces import MemorySpace, ModuleSpaceAtom, SpaceAtom, StateAtom, rename_apart
from ..unify import unify, unify_all
from .core import (
    ARROW,
    ATOM_T,
    BARE_MINIMAL,
    BOOL_T,
    ERRORS_MADE,
    EXPRESSION_T,
    FALSE,
    FUNCTION,
    GROUNDED_NAMES,
    NO_RETURN,
    REVERSED,
    RULE_FUNCTION,
    SPECIAL,
    SPECIAL_ARITY,
    SPECIAL_SIGNATURES,
    SPECIAL_TYPES,
    TAIL_DEPTH,
    TRUE,
    UNDEFINED,
    UNIT,
    Become,
    Gen,
    Machine,
    Pair,
    Special,
    Tail,
    Typed,
    error,
    in_sandbox,
    is_error,
    mark_function,
    metatype,
    special,
    wrong_arity,
)
from .grounded import BUILTIN_RETURNS, BUILTINS, unique_values
from .inference import check_call, match_types
from .modules import MODULE_OPS, MODULES, RULE_DEFINED, module_tokens
from .pyobjects import PyObject
from .stdlib_docs import corelib_docs, module_atoms, module_docs

__all__: list[str] = []


def _body(rs: list[Pair]) -> list[Pair]:
    """The results of a tail position one evaluation step below the call (a rule's body, a grounded
    operation's result, the branch a rule like `if`'s chose): hyperon finishes them last first."""
    return rs[::-1] if len(rs) > 1 else rs


def _args(atom: Expression, n: int) -> tuple[Atom, ...] | None:
    """The arguments of a form whose arity depends on how it was registered; None for another count."""
    kids = atom.children
    return kids[1:] if len(kids) == n + 1 else None


#: grounded operations whose declared type returns Bool (a space that declares another type for one
#: of these, or a type for such a call, is not looked at for `if`'s quick test)
_BOOL_OPS = frozenset(k for k, r in BUILTIN_RETURNS.items() if r is BOOL_T)


@special("if", "(-> Bool Atom Atom $t)", arity=3)
def _if(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    cond, then, else_ = a
    want = it.want  # what the context expects of the value (`if` returns `$t`): the branch's
    if want is not None:
        it.want = None
    out: list[Pair] = []  # (gathered as hyperon finishes them: handed back reversed)
    checked = False
    how = 1
    if type(cond) is Expression:
        kids = cond.children
        h = kids[0] if kids else None
        if type(h) is Symbol and h.name in _BOOL_OPS:
            how = 2  # (`(< $n 2)`: the common condition, answered without a lookup)
        else:
            got = it.bool_calls.get((h.name, len(kids))) if type(h) is Symbol else None
            how = got if got is not None else it.written_bool(cond)
        if not how:
            # hyperon checks the condition as written against `Bool` before evaluating it: a call
            # that cannot be a Bool is not evaluated (`(println! c)`: nothing printed)
            checked = True
            errs = it.check_special(atom, b)
            if errs:
                return errs
    # (evaluated as hyperon evaluates an argument: `(metta cond Bool)`, so a value that is not an
    # expression and is no Bool is a BadType error; a call whose every type returns Bool needs no check)
    cs = yield ((cond, b) if how == 2 else Typed((cond, b, BOOL_T, False)))  # type: ignore[arg-type]
    if len(cs) == 1 and len(it.stack) > TAIL_DEPTH:
        c, bb = cs[0]
        branch = then if c is TRUE or c == TRUE else else_ if c is FALSE or c == FALSE else None
        if branch is not None:
            # (the common case, a tail call: the branch is evaluated in this generator's place, so a
            # recursion through `if` keeps no frame of it)
            branch = mark_function(bb.resolve(branch), atom)
            return Become((REVERSED, Tail((branch, bb)) if want is None  # type: ignore[return-value]
                           else Typed((branch, bb, want, True))))  # type: ignore[arg-type]
    for c, bb in cs:
        if c is TRUE or c == TRUE:  # (`is`: the comparisons give these two atoms, no call of `==` needed)
            rs = yield (Tail((mark_function(bb.resolve(then), atom), bb)) if want is None
                        else Typed((mark_function(bb.resolve(then), atom), bb, want, True)))  # type: ignore[arg-type]
        elif c is FALSE or c == FALSE:
            rs = yield (Tail((mark_function(bb.resolve(else_), atom), bb)) if want is None
                        else Typed((mark_function(bb.resolve(else_), atom), bb, want, True)))  # type: ignore[arg-type]
        elif type(c) is Variable:
            # hyperon's `if` is two rules, `(if True ...)` and `(if False ...)`: both bind the
            # variable (the last rule tried first)
            for value, branch in ((FALSE, else_), (TRUE, then)):
                b2 = unify(c, value, bb)
                if b2 is not None:
                    out.extend((yield (Tail((mark_function(b2.resolve(branch), atom), b2)) if want is None
                                       else Typed((mark_function(b2.resolve(branch), atom), b2, want, True)))))  # type: ignore[arg-type]
            continue
        else:
            # hyperon checks the condition as written against `Bool` before evaluating it; a
            # condition of another type does not reduce to True or False, so the (costly) check
            # waits for a value that is neither
            if not checked:
                checked = True
                errs = it.check_special(atom, b)
                if errs:
                    return errs
            out.append((c if is_error(c) else Expression((atom.children[0], c, then, else_)), bb))
            continue
        out.extend(rs)
    return out[::-1] if len(out) > 1 else out


@special("let", "(-> Atom %Undefined% Atom %Undefined%)", arity=3)
def _let(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    pattern, value, body = a
    out: list[Pair] = []
    # (`Empty` as written is passed as it is: hyperon's let is a typed rule)
    values = [(value, b)] if type(value) is Symbol and value.name == "Empty" else (yield (value, b))
    for v, bb in values:  # the value's results in the order they come, as hyperon tries them
        if is_error(v) and v != value:  # like hyperon: an error the argument reduced to is the result
            out.append((v, bb))
            continue
        # (hyperon's rule: `(unify $atom $pattern ...)`; a space inside may match in several ways)
        for b2 in unify_all(v, bb.resolve(pattern), bb):
            rs = yield Tail((b2.resolve(body), b2))
            out.extend(rs[::-1] if len(rs) > 1 else rs)
    return out[::-1] if len(out) > 1 else out  # gathered as they finish, handed back last first


@special("let*", "(-> Expression Atom %Undefined%)", arity=2, checked=True)
def _let_star(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    pairs, body = a
    if type(pairs) is not Expression or not pairs.children:
        # hyperon's rule: what does not decons (`()`, or a symbol or variable, which pass the
        # `Expression` parameter as untyped) gives the body
        return (yield Tail((body, b)))
    first, *rest = pairs.children
    if type(first) is not Expression or len(first.children) != 2:
        return [(error(atom, "List of (<pattern> <atom>) pairs is expected as a second argument"), b)]
    inner = Expression((atom.children[0], Expression(rest), body)) if rest else body
    # hyperon's let* is a rule whose body (a `chain`) reduces to a `unify` that reduces to the `let`:
    # three evaluation steps below the call, so the let's results come back last first
    return _body((yield Tail((Expression((Symbol("let"), *first.children, inner)), b))))


def _case_like(it: Machine, atom: Expression, b: Bindings, evaluate: bool, branch: bool = True,
               switch: bool = False) -> Gen:
    """`case` (hyperon: a `function` collapsing the value's results and trying each in their order; a
    branch's results come back last first) and `switch` (a rule whose body `(id (switch-minimal ..))`
    gets the value as an argument: values last first, a branch's results in their order)."""
    value, cases = atom.children[1:]
    if type(cases) is not Expression:  # a symbol or a variable (untyped): no case matches
        return []
    values = (yield (value, b)) if evaluate else [(value, b)]
    if not switch and len(values) > 1:  # (hyperon tries `case`'s values last first)
        values = values[::-1]
    if not values:
        values = [(Symbol("Empty"), b)]
    out: list[Pair] = []
    for v, bb in values:
        for case in cases.children:
            if type(case) is not Expression or len(case.children) != 2:
                continue
            pat, res = case.children
            # (hyperon: `(unify $atom $pattern ...)`; a space inside may match in several ways, each
            # taken, in the order of its query)
            rows = unify_all(v, bb.resolve(pat), bb)
            if rows:
                for b2 in reversed(rows) if len(rows) > 1 else rows:
                    if not branch:
                        r = b2.resolve(res)
                        if is_error(r):
                            ERRORS_MADE[0] += 1
                        out.append((r, b2))
                    else:
                        rs = yield Tail((mark_function(b2.resolve(res), atom), b2))
                        out.extend(_body(rs) if switch else rs)
                break
    return out[::-1] if len(out) > 1 else out  # gathered as they finish, handed back last first


@special("case", "(-> Atom Expression %Undefined%)", arity=2, checked=True)
def _case(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return (yield from _case_like(it, atom, b, True))


@special("switch", "(-> %Undefined% Expression %Undefined%)", arity=2, checked=True)
def _switch(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return (yield from _case_like(it, atom, b, True, switch=True))


@special("switch-minimal", "(-> Atom Expression Atom)")
def _switch_minimal(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return (yield from _case_like(it, atom, b, False, False))  # like hyperon: the branch is not evaluated


@special("match", "(-> SpaceType Atom Atom %Undefined%)", arity=3, checked=True)
def _match(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    space_arg, pattern, template = a
    out: list[Pair] = []
    tokens = it.tokens
    if type(space_arg) is Symbol and space_arg.name in tokens:  # `&self`: no evaluation round trip
        spaces: list[Pair] = [(tokens[space_arg.name], b)]
    else:
        spaces = yield (space_arg, b)
    # hyperon tries the space argument's values in the order they come, and a query's rows last
    # first (its plan stack); the results are gathered as they finish and handed back last first
    for sp, bb in spaces:
        space = it.space_of(sp)
        if space is None:
            out.append((error(atom, Symbol("match expects a space as the first argument")), bb))  # (hyperon's words)
            continue
        rows = it.query(space, bb.resolve(pattern), bb, True)  # (True: the library too; positional, as it is hot)
        for b2 in reversed(rows) if len(rows) > 1 else rows:
            r = b2.resolve(template)
            tr = type(r)
            if tr is Expression and r.children:  # type: ignore[attr-defined]
                out.extend((yield Tail((r, b2))))
            else:  # evaluates to itself (or its token)
                if tr is Symbol:
                    if r.name == "Empty" and r.name not in tokens:  # type: ignore[attr-defined]
                        continue  # hyperon: `Empty` is no result
                    r = tokens.get(r.name, r)  # type: ignore[attr-defined]
                out.append((r, b2))
    return out[::-1] if len(out) > 1 else out


def _rows_into(it: Machine, rows: list[Bindings], template: Atom) -> Gen:
    """The template evaluated for each row of a query, in `match`'s order (`unify` of a space).
    `_match` keeps this loop inline: one more generator frame per `match` cost bench_eval's
    genealogy 0.5% of its instructions (callgrind)."""
    out: list[Pair] = []
    for b2 in reversed(rows) if len(rows) > 1 else rows:
        r = b2.resolve(template)
        tr = type(r)
        if tr is Expression and r.children:  # type: ignore[attr-defined]
            out.extend((yield Tail((r, b2))))
        else:  # evaluates to itself (or its token)
            if tr is Symbol:
                if r.name == "Empty" and r.name not in it.tokens:  # type: ignore[attr-defined]
                    continue  # hyperon: `Empty` is no result
                r = it.tokens.get(r.name, r)  # type: ignore[attr-defined]
            out.append((r, b2))
    return out[::-1] if len(out) > 1 else out


@special("superpose", "(-> Expression %Undefined%)", arity=1, checked=True)
def _superpose(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    arg = a[0]
    if type(arg) is not Expression:
        return [(error(atom, Symbol("superpose expects single expression as an argument")), b)]
    out: list[Pair] = []
    for k in reversed(arg.children):  # like hyperon, the last item first; gathered as they finish
        out.extend((yield (k, b)))
    return out[::-1]  # and handed back last first


@special("collapse", "(-> Atom Atom)", arity=1)
def _collapse(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """Its argument's values as one expression.  hyperon evaluates the argument as a `!` expression
    (a type error there shows its expected types resolved): a tail request, which `eval` too runs."""
    a = atom.children[1:]
    rs = yield Tail((a[0], b))
    return [(Expression([bb.resolve(r) for r, bb in rs]), b)]


class BindingsAtom(Grounded):
    """Variable bindings as a value (what `collapse-bind` pairs results with); prints as hyperon's."""

    __slots__ = ()
    session_kind = "bindings object"
    type_name = "Bindings"

    def text(self) -> str:
        """`{ $x <- a, $y = $z }`; `{  }` when empty: a pair `(v, $r)` puts v in $r's group of equal
        variables, shown `$r = $v`, with the value of the group's variable after `<-` (hyperon's form)."""
        groups: dict[Atom, tuple[list[Atom], list[Atom]]] = {}
        for v, x in self.value:
            if type(x) is Variable:
                groups.setdefault(x, ([], []))[0].append(v)
            else:
                groups.setdefault(v, ([], []))[1].append(x)
        parts = []
        for r, (others, value) in groups.items():
            parts.append(" = ".join(str(a) for a in (r, *others)) + "".join(f" <- {x}" for x in value))
        return "{ " + ", ".join(parts) + " }"


def _shown(bb: Bindings, variables: Any) -> BindingsAtom:
    """What `collapse-bind` shows of the bindings of `variables`: a variable equal to another as
    `(v, root)` (the group's root with its value first, once), any other bound one with its value."""
    links = bb.links
    pairs: list[tuple[Atom, Atom]] = []
    done: set[Atom] = set()
    for v in variables:
        r = v
        n = links.get(r)
        while type(n) is Variable:
            r = n
            n = links.get(r)
        if r != v:
            if n is not None and r not in done:
                pairs.append((r, bb.resolve(n)))
                done.add(r)
            pairs.append((v, r))
        elif n is not None and v not in done:
            pairs.append((v, bb.resolve(n)))
            done.add(v)
    return BindingsAtom(tuple(pairs))


@special("collapse-bind", "(-> Atom Expression)", arity=1)
def _collapse_bind(it: Machine, atom: Expression, b: Bindings) -> Gen:
    arg = atom.children[1]
    # the bindings shown: the scope's (what a `let` or `unify` bound around it, last bound first,
    # as hyperon 0.2.10 prints them), and, for a minimal instruction, what it bound of the argument's
    # variables (an evaluation through a rule or a form returns from its own frame, which keeps only
    # the scope's: `(collapse-bind (let $y 5 ok))` shows `{  }`)
    scope = [v for v in reversed(list(b.links)) if type(b.resolve(v)) is not Variable]
    variables = scope + [x for x in dict.fromkeys(x for x in iter_atoms(arg) if type(x) is Variable) if x not in b.links]
    out: list[Pair] = []
    errors: list[Pair] = []
    if type(arg) is Expression and arg.children and it.ill_typed_head(arg):
        # hyperon 0.2.10 checks the pair `(arg bindings)` as a call headed by the ill-typed `arg`
        bound = _shown(b, variables)
        return [(_pair_call_error(it, Expression((b.resolve(arg), bound)), arg), b)]
    if type(arg) is Expression and arg.children and type(arg.children[0]) is Symbol \
            and arg.children[0].name in _INSTRUCTIONS:
        # a minimal instruction runs as such; what it gives, collected last first, is evaluated
        # (a chain's variable is its own: not shown)
        own = {k.children[2] for k in iter_atoms(arg) if type(k) is Expression and len(k.children) == 4
               and k.children[0] == Symbol("chain")}
        got = yield from _run(_minimal(it, arg, b))
        pairs = [Expression((bb.resolve(r), _shown(bb, [v for v in variables if v not in own])))
                 for r, bb in (got if got is not None else [(_NOT_REDUCIBLE, b)])[::-1]]
        return (yield (Expression(tuple(pairs)), b))
    # like hyperon 0.2.10 at the top level: one pair per result, a nested evaluation's last first
    for r, bb in (yield (arg, b))[::-1]:
        bound = _shown(bb, scope)
        if is_error(r):
            # hyperon 0.2.10: errors are left out when there are other results, else they are the
            # results themselves; the error of the arguments of the (typed) call written here is
            # reported against the pair `(call bindings)`, checked as a call with one argument
            noted = it.arg_errors.get(id(r))
            if noted is not None and noted[0] is r and noted[1] == arg:
                r = _pair_call_error(it, Expression((bb.resolve(arg), bound)), arg)
            errors.append((r, b))
            continue
        out.append((Expression((Expression((bb.resolve(r), bound)),)), b))
    if not out and not errors and (arg == Symbol("Empty") or (
            type(arg) is Expression and arg.children[:1] == (Symbol("superpose-bind"),))):
        # hyperon 0.2.10 runs these as minimal-interpreter values: nothing collected is `()`
        return [(UNIT, b)]
    return out or errors


def _pair_call_error(it: Machine, pair: Expression, call: Atom) -> Atom:
    head = call.children[0] if type(call) is Expression and call.children else None
    ftype = it.function_type(head) if head is not None else None
    params = ftype.children[1:-1] if type(ftype) is Expression else ()
    if len(params) != 1:
        return error(pair, Symbol("IncorrectNumberOfArguments"))
    return error(pair, Expression((Symbol("BadArgType"), Integer(1), params[0], Symbol("hyperon_atom::matcher::Bindings"))))


@special("superpose-bind", "(-> Expression Atom)", arity=1)
def _superpose_bind(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """The results a `collapse-bind` collected, `((atom bindings) ...)`, one by one, each with its
    bindings merged into the caller's (a pair whose bindings conflict gives nothing); not evaluated
    further (the return type is `Atom`), and the argument is taken as written (`Expression`)."""
    arg = atom.children[1]
    if type(arg) is not Expression:
        have = it.types_of(arg) if type(arg) is not Variable else [UNDEFINED]
        if have and all(t != UNDEFINED for t in have):
            return [(error(atom, Expression((Symbol("BadArgType"), Integer(1), EXPRESSION_T, have[0]))), b)]
        # hyperon 0.2.10's message, a symbol
        return [(error(atom, Symbol(f"expected: (superpose-bind (: <collapsed> Expression)), found: {atom}")), b)]
    out: list[Pair] = []
    for item in arg.children:
        kids = item.children if type(item) is Expression else ()
        if len(kids) != 2 or not isinstance(kids[1], BindingsAtom):
            # hyperon 0.2.10 aborts the process here; this is its message, as the call's error
            return [(error(atom, f"(Atom Bindings) pair is expected, {item} was received"), b)]
        merged: Bindings | None = b
        for v, x in kids[1].value:
            merged = unify(v, x, merged) if merged is not None else None
        if merged is not None:
            if is_error(kids[0]):
                ERRORS_MADE[0] += 1
            out.append((kids[0], merged))
    yield from ()
    return out


@special("capture", "(-> Atom Atom)", arity=1)
def _capture(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return (yield Tail((atom.children[1], b)))


@special("unify", "(-> Atom Atom Atom Atom %Undefined%)", arity=4)
def _unify(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    x, y, then, else_ = a
    sp = it.tokens.get(x.name) if type(x) is Symbol else b.resolve(x) if b.links else x
    if isinstance(sp, SpaceAtom):  # hyperon: a space as the first argument is queried, as `match` does
        rows = it.query(sp.value, b.resolve(y), b, True)
        if not rows:
            return _body((yield Tail((else_, b))))
        return (yield from _rows_into(it, rows, then))
    rows = unify_all(x, y, b)  # (a space inside may match in several ways: each in `match`'s order)
    if len(rows) == 1:
        b2 = rows[0]
        return _body((yield Tail((b2.resolve(then), b2))))
    if rows:
        return (yield from _rows_into(it, rows, then))
    return _body((yield Tail((else_, b))))


@special("quote", "(-> Atom Atom)", arity=1)
def _quote(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return [(atom, b)]
    yield  # pragma: no cover


@special("unquote", "(-> %Undefined% %Undefined%)", arity=1)
def _unquote(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's rule `(= (unquote (quote $atom)) $atom)`: a quoted value's atom, evaluated; the
    values come back last first; anything else stays as the call."""
    out: list[Pair] = []
    for r, bb in (yield (atom.children[1], b)):
        if type(r) is Expression and len(r.children) == 2 and r.children[0] == _QUOTE:
            out.extend((yield Tail((r.children[1], bb))))
        else:
            out.append((Expression((atom.children[0], r)), bb))
    return out[::-1] if len(out) > 1 else out


_QUOTE = Symbol("quote")


@special("noeval", "(-> Atom Atom)", arity=1)
def _noeval(it: Machine, atom: Expression, b: Bindings) -> Gen:
    if is_error(atom.children[1]):
        ERRORS_MADE[0] += 1
    return [(atom.children[1], b)]
    yield  # pragma: no cover


def _evaluate_first(n: int, reverse: bool = False) -> Special:
    """`id`, `eval` and `evalc`: with n arguments, the results of evaluating the first (`id`, a rule
    `(= (id $x) $x)` in hyperon, gets them as an argument's: last first)."""

    def fn(it: Machine, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, n)
        if a is None:
            return wrong_arity(atom, b)
        rs = yield (a[0], b)
        return rs[::-1] if reverse and len(rs) > 1 else rs

    return fn


@special("id", "(-> $t $t)")
def _id(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's rule `(= (id $x) $x)`: the argument's values (last first, as an argument's),
    each evaluated once more as the rule's body is (`(id (noeval (+ 1 2)))` is 3)."""
    a = _args(atom, 1)
    if a is None:
        return wrong_arity(atom, b)
    rs = yield (a[0], b)
    out: list[Pair] = []
    for r, bb in rs[::-1] if len(rs) > 1 else rs:
        if is_error(r) or type(r) is not Expression:  # (already as far as it goes)
            out.append((r, bb))
        else:
            got = yield Tail((r, bb))
            out.extend(got[::-1] if len(got) > 1 else got)  # (a rule's values: last first)
    return out


#: a step of hyperon's minimal interpreter: its results, or None for `NotReducible`.  It yields a
#: request for the driver (a pair) or, for a nested step, that step's generator (run by `_run`)
Step = Generator[Any, "list[Pair] | None", "list[Pair] | None"]


def _run(step: Step) -> Generator[Pair, list[Pair], list[Pair] | None]:
    """Run a minimal-MeTTa step and the steps nested in it on an explicit stack, so that a recursion
    written in minimal MeTTa (`function`/`chain`/`eval` calling itself) nests no Python frames;
    requests for evaluations go on to the driver."""
    stack: list[Any] = [step]
    # per step: the bindings of `NotReducible` when a tail call it made gives None (None: None)
    otherwise: list[Bindings | None] = [None]
    send: Any = None
    while True:
        top = stack[-1]
        try:
            if type(top) is GeneratorType:
                req = top.send(send)
            else:  # what a step does with its nested step's results (`_After`): its result, or a step to run
                req = top.after(send)
                if type(req) is not _Then:
                    raise StopIteration(req)
        except StopIteration as stop:
            stack.pop()
            send = stop.value
            nb = otherwise.pop()
            if send is None and nb is not None:
                send = [(_NOT_REDUCIBLE, nb)]
            if not stack:
                return send  # type: ignore[no-any-return]
            continue
        tr = type(req)
        if tr is GeneratorType:
            stack.append(req)
            otherwise.append(None)
            send = None
        elif tr is _Then:  # a tail call: the nested step takes the caller's place (its frame is freed)
            stack[-1] = req[0]
            if req[1] is not None:
                otherwise[-1] = req[1]
            send = None
        elif tr is _After:  # the nested step runs with what its caller would do after it in the caller's place
            stack[-1] = req[0]
            stack.append(req[1])
            otherwise.append(None)
            send = None
        else:
            send = yield req


class _Then(tuple[Step, Bindings | None]):
    """A step's last request, `_Then((step, bindings))`: its result is the nested step's result (with
    `bindings`, a None result is `NotReducible` with them); the trampoline frees the caller."""

    __slots__ = ()


class _After(tuple[Any, Step]):
    """A step's last request, `_After((after, step))`: `after` (no generator: an object whose
    `after(results)` gives the caller's result, or a `_Then` to run on) takes the caller's place, and
    the nested step runs.  A recursion through the caller keeps `after` per level, not its frame."""

    __slots__ = ()


class _ChainRest:
    """What a `chain` does with its first instruction's results (see `_After`)."""

    __slots__ = ("b", "it", "kids")

    def __init__(self, it: Machine, kids: tuple[Atom, ...], b: Bindings) -> None:
        self.it, self.kids, self.b = it, kids, b

    def after(self, first: list[Pair] | None) -> Any:
        kids = self.kids
        items = first if first is not None else [(_NOT_REDUCIBLE, self.b)]
        if len(items) != 1:
            return _Then((_chain_each(self.it, kids, items), None))  # type: ignore[arg-type]
        r, bb = items[0]
        b2 = unify(r, kids[2], bb)  # (the variable takes the value's name, as a substitution)
        if b2 is None:
            return []
        return _Then((_minimal(self.it, b2.resolve(kids[3]), b2), b2))  # (a tail call)


def _chain_each(it: Machine, kids: tuple[Atom, ...], items: list[Pair]) -> Step:
    """A `chain`'s template run with each of its first instruction's results."""
    out: list[Pair] = []
    last = items[-1] if items else None
    for item in items:
        r, bb = item
        b2 = unify(r, kids[2], bb)  # (the variable takes the value's name, as a substitution)
        if b2 is not None:
            if item is last and not out:  # (a tail call: deep chains free their frames)
                return (yield _Then((_minimal(it, b2.resolve(kids[3]), b2), b2)))
            got = yield _minimal(it, b2.resolve(kids[3]), b2)
            out.extend(got if got is not None else [(_NOT_REDUCIBLE, b2)])
    return out


class _FunctionRest:
    """What a `function` does with the results of the one instruction it ran last (see `_After`)."""

    __slots__ = ("call", "it", "keep", "outer", "yb")

    def __init__(self, it: Machine, keep: Atom | None, yb: Bindings, call: Atom | None, outer: Bindings | None) -> None:
        self.it, self.keep, self.yb, self.call, self.outer = it, keep, yb, call, outer

    def after(self, got: list[Pair] | None) -> Any:
        more = _function_more(got if got is not None else [(_NOT_REDUCIBLE, self.yb)], self.keep)
        for m in more:
            if m[2]:  # an instruction to run on
                return _Then((_function_steps(self.it, UNIT, self.yb, self.call, self.outer, more[::-1]), None))
        return _function_values([(y, yb) for y, yb, _ in more], self.call, self.outer)
#: forms that are grounded operations in hyperon 0.2.10: `eval` runs one with its arguments as
#: written, and what it returns is not evaluated
_GROUNDED_FORMS = frozenset({
    "add-atom", "bind!", "change-state!", "get-atoms", "get-metatype", "get-state", "get-type",
    "if-equal", "import!", "match", "new-space", "nop", "pragma!", "println!", "remove-atom", "sealed",
    "superpose", "trace!"})
#: hyperon 0.2.10's minimal instructions other than `eval` that `eval` runs as such
_MINIMAL = frozenset({"chain", "unify", "function", "evalc", "collapse-bind", "metta"})
_NOT_REDUCIBLE = Symbol("NotReducible")
_RETURN = Symbol("return")
#: instructions a `function` runs on when its body gives one (hyperon 0.2.10's minimal interpreter)
_CONTINUED = frozenset({"eval", "evalc", "chain", "unify", "function", "metta", "cons-atom", "decons-atom",
                        "collapse-bind", "superpose-bind"})
#: the minimal instructions a `collapse-bind` runs as such
_INSTRUCTIONS = frozenset({"eval", "evalc", "chain", "unify", "function"})


def _grounded_in_hyperon(it: Machine, name: str) -> bool:
    """Whether hyperon 0.2.10 runs a call of `name` as a grounded operation or a minimal instruction
    (not by a rule of its standard library, which another space than `&self` does not hold)."""
    return name in GROUNDED_NAMES or name in _INSTRUCTIONS or name in _MINIMAL or name in (
        "cons-atom", "decons-atom") or (name in MODULE_OPS and name not in RULE_DEFINED and name not in it.tokens)


def _eval_step(it: Machine, x: Atom, b: Bindings, rules: Machine | None = None) -> Step:
    """hyperon 0.2.10's `eval` instruction: one step of `x`.  A grounded call runs once on its
    arguments as written; a minimal instruction runs; anything else is looked up as `(= x $r)`.
    What a step gives is not evaluated further, unless it is a `(function ...)`.  None when nothing
    applies (hyperon's `NotReducible`: the `(eval x)` stays as written).  With `rules` (`evalc` in
    another space: an interpreter of that space), calls are looked up there, and the functions
    hyperon's standard library defines by rules are not found."""
    kids = x.children if type(x) is Expression else ()
    head = kids[0] if kids else None
    rs: list[Pair] | None
    if rules is not None and type(head) is Symbol and not _grounded_in_hyperon(it, head.name):
        rs = rules.rule_results(x, b)
    elif rules is not None and type(x) is not Expression:
        rs = rules.rule_results(x, b)
    elif type(head) is Symbol and head.name not in it.tokens:
        assert isinstance(x, Expression)
        name = head.name
        if name == "eval" or name in _MINIMAL:
            return (yield _Then((_minimal(it, x, b), None)))
        arity = _RULE_DEFINED.get(name)
        if arity is not None:  # (hyperon's one step is its library's rule body: its code, not copied here)
            return (yield (x, b)) if len(kids) == arity + 1 else None
        if name == "map-atom" and len(kids) == 4:
            return (yield _Then((_map_step(it, x, b), None)))
        if name in _DOC_CONSTRUCTORS:  # (typed symbols without rules in hyperon: `NotReducible`)
            return None
        form = SPECIAL.get(name)
        if form is not None:
            rs = _rule_step(x, b)
            if rs is not _NO_RULE:
                return rs
            want = SPECIAL_ARITY.get(name)
            if want is not None and len(kids) != want:
                return None
            if name == "capture":  # a grounded operation that evaluates its argument
                rs = yield from form(it, x, b)
            else:
                rs = yield from _intercepted(it, form, x, b, name in _GROUNDED_FORMS)
            return [p for p in rs if p[0] != _EMPTY]
        if name in BUILTINS and name not in it.tokens:  # (a module's operation: once imported)
            rs = it.grounded_once(x, b)
        else:
            rs = it.rule_results(x, b)
    elif type(head) is PyObject:  # a Python operation runs once (a value at the head: `NotReducible`)
        rs = it.grounded_once(x, b)  # type: ignore[arg-type]
    elif type(x) is Expression and (not kids or type(head) is Variable):
        return None  # (hyperon 0.2.10 does not look up a call whose head is a variable)
    else:
        rs = (rules or it).rule_results(x, b)
    if rs is None or (len(rs) == 1 and rs[0][0] == _NOT_REDUCIBLE):
        return None
    # a rule's `function` runs: a body that returns nothing makes the call a `NoReturn` error; a
    # ground call's body cannot see or bind the caller's variables: it runs in a scope of its own
    # (so bindings do not pile up along a recursion), its values come back with the caller's bindings
    scoped = type(x) is Expression and x.ground
    if len(rs) == 1:
        r, bb = rs[0]
        if type(r) is Expression and len(r.children) == 2 and r.children[0] == FUNCTION:
            return (yield _Then((_function_steps(it, r.children[1], EMPTY_BINDINGS if scoped else bb, x,
                                                 bb if scoped else None), None)))
    out: list[Pair] = []
    for r, bb in rs:
        if type(r) is Expression and len(r.children) == 2 and r.children[0] == FUNCTION:
            out.extend((yield _function_steps(it, r.children[1], EMPTY_BINDINGS if scoped else bb, x,
                                              bb if scoped else None)) or ())
        elif r != _EMPTY:
            out.append((r, bb))
    return out

_EMPTY = Symbol("Empty")
_NO_RULE: list[Pair] = []

#: the standard-library functions hyperon 0.2.10 defines by one rule with a long body, and their arities:
#: hyperon's `eval` of a call gives that body (its library's code, which mettadb does not copy); mettadb's
#: `eval` gives the call's values, and leaves a call with another number of arguments as written
_RULE_DEFINED = {
    "car-atom": 1, "cdr-atom": 1, "let*": 2, "switch": 2, "unique": 1, "union": 2, "intersection": 2,
    "subtraction": 2, "assertEqual": 2, "assertAlphaEqual": 2, "assertEqualMsg": 3, "assertAlphaEqualMsg": 3,
    "assertEqualToResult": 2, "assertAlphaEqualToResult": 2, "assertEqualToResultMsg": 3,
    "assertAlphaEqualToResultMsg": 3, "assertIncludes": 2, "new-state": 1, "help!": 1, "add-reduct": 2,
    "get-value": 2, "dict-space": 1, "is-function": 1, "noreduce-eq": 2, "for-each-in-atom": 2,
}


def _rule_step(x: Expression, b: Bindings) -> list[Pair] | None:
    """One step of a call of a form that is a plain rule in hyperon 0.2.10's standard library (its
    body, unevaluated; None: no rule applies); `_NO_RULE` for the other forms."""
    name, args = x.children[0].name, x.children[1:]  # type: ignore[attr-defined]
    if name in ("Error", "quote"):
        return None
    if name == "if":
        if len(args) == 3 and args[0] in (TRUE, FALSE):
            return [(args[1] if args[0] == TRUE else args[2], b)]
        return None
    if name == "let":
        return [(Expression((Symbol("unify"), args[1], args[0], args[2], _EMPTY)), b)] if len(args) == 3 else None
    if name in ("id", "noeval"):
        return [(args[0], b)] if len(args) == 1 else None
    return _NO_RULE


def _map_step(it: Machine, x: Expression, b: Bindings) -> Step:
    """`eval` of a `map-atom` (a function in minimal MeTTa in hyperon 0.2.10): each item's instance
    of the template runs as minimal MeTTa (only an instruction is evaluated); a combination of
    alternatives varies the first item's fastest."""
    lst, var, body = x.children[1:]
    combos: list[tuple[list[Atom], Bindings]] = [([], b)]
    for item in lst.children if type(lst) is Expression else ():
        per = []
        for done, bb in combos:
            got = yield _minimal(it, _substitute(var, item, body), bb)
            # (what an instance binds stays inside it, as a chain's variable does in hyperon)
            per.append([(done + [rb.resolve(r)], bb) for r, rb in (got if got is not None else [(_NOT_REDUCIBLE, bb)])])
        combos = [alts[j] for j in range(max(map(len, per), default=0)) for alts in per if j < len(alts)]
    return [(Expression(tuple(done)), bb) for done, bb in combos]


_COLLAPSE = Symbol("collapse")


def _intercepted(it: Machine, form: Special, x: Expression, b: Bindings, grounded: bool) -> Gen:
    """Run a form for `eval`: what it would evaluate in tail position (a branch, a template) comes
    back as written; so does an argument, for a form that is a grounded operation in hyperon."""
    gen = form(it, x, b)
    send: Any = None
    try:
        while True:
            req = gen.send(send)
            # (a `Typed` request too; `collapse` evaluates its argument in full even here)
            if grounded or (isinstance(req, Tail) and x.children[0] != _COLLAPSE):
                send = [(req[0], req[1])]
            else:
                send = yield req
    except StopIteration as stop:
        if type(stop.value) is Become:  # (its tail call: the atom in tail position, as written)
            return [(stop.value[1][0], stop.value[1][1])]
        return stop.value  # type: ignore[no-any-return]


def _minimal(it: Machine, x: Atom, b: Bindings) -> Step:
    """An atom as hyperon 0.2.10's minimal interpreter runs it inside `eval`: an instruction (`eval`,
    `chain`, `unify`, `function`) runs, any other atom is a value; None for `NotReducible`."""
    kids = x.children if type(x) is Expression else ()
    name = kids[0].name if kids and type(kids[0]) is Symbol else None
    if name in ("eval", "evalc") and len(kids) == (2 if name == "eval" else 3):
        return (yield _Then((_eval_step(it, kids[1], b), None)))
    if name == "chain" and len(kids) == 4 and type(kids[2]) is Variable:
        # its first instruction runs in this step's place, then the template (`_ChainRest`)
        return (yield _After((_ChainRest(it, kids, b), _minimal(it, kids[1], b))))
    if name == "unify" and len(kids) == 5:
        rows = unify_all(kids[1], kids[2], b)
        if len(rows) > 1:  # (a space inside matched in several ways: the then-branch for each, in order)
            out: list[Pair] = []
            for b2 in rows:
                got = yield _minimal(it, b2.resolve(kids[3]), b2)
                out.extend(got if got is not None else [(_NOT_REDUCIBLE, b2)])
            return out
        branch, bb = (rows[0].resolve(kids[3]), rows[0]) if rows else (kids[4], b)
        return (yield _Then((_minimal(it, branch, bb), bb)))
    if name == "function" and len(kids) == 2:
        return (yield _Then((_function_steps(it, kids[1], b), None)))
    if name == "metta" and len(kids) == 4:  # (an instruction of minimal MeTTa)
        return (yield (x, b))
    if name == "collapse-bind" and len(kids) == 2:  # its argument's values, collected as pairs
        got = ((yield _minimal(it, kids[1], b)) or [])[::-1]  # (collected last first)
        pairs = [Expression((bb.resolve(r), _shown(bb, bb.links))) for r, bb in got]
        return [(Expression(pairs), b)]
    if name == "superpose-bind":  # (it takes its argument as written)
        return (yield (x, b))
    if name in ("cons-atom", "decons-atom"):
        return it.grounded_once(x, b) or [(x, b)]  # type: ignore[arg-type]
    return [(x, b)]


#: the minimal instructions that may give back the atom they ran (the others never do)
_SELF_GIVING = frozenset({"metta", "superpose-bind", "cons-atom", "decons-atom"})
#: the number of items of each minimal instruction `_minimal` runs (None: any)
_RUN_ARITY: dict[str, int | None] = {"eval": 2, "evalc": 3, "chain": 4, "unify": 5, "function": 2, "metta": 4,
                                     "collapse-bind": 2, "superpose-bind": None, "cons-atom": None,
                                     "decons-atom": None}


def _function_steps(it: Machine, body: Atom, b: Bindings, call: Atom | None = None,
                    outer: Bindings | None = None, pending: list[tuple[Atom, Bindings, bool]] | None = None) -> Step:
    """A `function`'s body runs; what it gives runs on while it is an instruction (an `eval` giving a
    rule's body `(chain ...)`), depth first; `(return x)` gives x, anything else a fresh variable.

    For `eval` of a `call` whose rule's body is the function, a fresh variable makes it a `NoReturn`
    error; with `outer` (a ground call: the body ran in a scope of its own), the values come back
    with the caller's bindings.  The body is not kept while it runs (a deep recursion frees it)."""
    out: list[Pair] = []
    todo: list[tuple[Atom, Bindings, bool]] = [(body, b, True)] if pending is None else pending
    del body, pending
    while todo:
        y, yb, run = todo.pop()
        if not run:
            out.append((y, yb))
            continue
        kids = y.children if type(y) is Expression else ()
        name = kids[0].name if kids and type(kids[0]) is Symbol else None
        want = _RUN_ARITY.get(name, 0) if name is not None else 0
        if want is None or (len(kids) == want and (name != "chain" or type(kids[2]) is Variable)):
            keep = y if name in _SELF_GIVING else None  # (a value that is its own result does not run on)
            if not todo and not out:
                # the last instruction (the common case, a tail call): it runs in this step's place, and
                # `_FunctionRest` does the rest, so a recursion through a `function` keeps no frame here
                yield (UNIT, yb)  # (a step the driver counts: its limits hold in a loop of instructions)
                return (yield _After((_FunctionRest(it, keep, yb, call, outer), _minimal(it, y, yb))))
            step = [_minimal(it, y, yb)]
            y = kids = None  # type: ignore[assignment]
            got = yield step.pop()  # (nothing here keeps the step or the body it runs)
            got = got if got is not None else [(_NOT_REDUCIBLE, yb)]
        else:  # a value
            keep = y
            got = [(y, yb)]
        yield (UNIT, yb)  # (a step the driver counts: its limits hold in a loop of instructions)
        todo.extend(reversed(_function_more(got, keep)))
    return _function_values(out, call, outer)


def _function_more(got: list[Pair], keep: Atom | None) -> list[tuple[Atom, Bindings, bool]]:
    """What a `function` makes of an instruction's results: (value, bindings, whether it runs on)."""
    more: list[tuple[Atom, Bindings, bool]] = []
    for r, bb in got:
        rk = r.children if type(r) is Expression else ()
        if len(rk) == 2 and rk[0] == _RETURN:
            more.append((rk[1], bb, False))
        elif r is not keep and rk and type(rk[0]) is Symbol and rk[0].name in _CONTINUED:
            more.append((r, bb, True))
        else:  # hyperon 0.2.10: a body that returns nothing gives a fresh variable
            more.append((fresh_variable(NO_RETURN), bb, False))
    return more


def _function_values(out: list[Pair], call: Atom | None, outer: Bindings | None) -> list[Pair]:
    """A `function`'s values: for `eval` of a `call`, a fresh variable is its `NoReturn` error, and
    with `outer` the values come back with the caller's bindings."""
    if call is None:
        return out
    done: list[Pair] = []
    for g, gb in out:
        if type(g) is Variable and g.name.startswith(NO_RETURN + "#"):
            done.append((error(call, Symbol("NoReturn")), outer if outer is not None else gb))
        elif outer is not None:
            done.append((gb.resolve(g) if gb.links else g, outer))
        else:
            done.append((g, gb))
    return done


@special("eval", "(-> Atom Atom)", arity=1)
def _eval(it: Machine, atom: Expression, b: Bindings) -> Gen:
    rs = yield from _run(_eval_step(it, atom.children[1], b))
    return [(atom, b) if r == _NOT_REDUCIBLE else (r, bb) for r, bb in rs] if rs is not None else [(atom, b)]


_SELF = Symbol("&self")


@special("evalc", "(-> Atom SpaceType Atom)", arity=2, checked=True)
def _evalc(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """`eval` in a space: one step, its calls looked up in that space (what it gives is not evaluated
    further; nothing applies: the call with its space evaluated, as hyperon 0.2.10 prints it)."""
    x, space = atom.children[1:]
    if type(space) is Expression:  # (a call giving a space, `(new-space)`: each of its values in turn)
        out: list[Pair] = []
        for v, bb in (yield (space, b)):
            call = Expression((atom.children[0], x, v))
            if type(v) is Expression:  # (no space)
                out.append((error(call, Symbol(f"expected: (evalc <atom> <space>), found: {call}")), bb))
            else:
                out.extend((yield from _evalc(it, call, bb)))
        return out
    target = it.space_of(space)
    if target is None:
        return [(error(atom, Symbol(f"expected: (evalc <atom> <space>), found: {atom}")), b)]
    rules = None
    if target is not it.space_of(_SELF):  # the rules of that space, the standard library's not
        rules = it.spawn(target, it.base_dir)
        rules.tokens = it.tokens
    rs = yield from _run(_eval_step(it, x, b, rules))
    if rs is None or any(r == _NOT_REDUCIBLE for r, _ in rs):
        return [(atom, b)]
    return rs


@special("chain", "(-> Atom Variable Atom %Undefined%)", arity=3, checked=True)
def _chain(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's `chain` called directly: the instruction runs (its first argument and the
    template it gives are evaluated only if they are minimal instructions), then what it gives is
    evaluated; `NotReducible` gives the call as written."""
    x, var, body = atom.children[1:]
    if type(var) is not Variable:  # (one the type check let through: hyperon evaluates it, as an argument)
        out0: list[Pair] = []
        for v, bb in (yield (var, b)) if type(var) is Expression else [(var, b)]:
            call = Expression((atom.children[0], x, v, body))
            if type(v) is Variable:
                out0.extend((yield from _chain(it, call, bb)))
            else:
                out0.append((error(call, Symbol(f"expected: (chain <nested> (: <var> Variable) <templ>), found: {call}")),
                             bb))
        return out0[::-1]
    first = yield from _run(_minimal(it, x, b))
    out: list[Pair] = []
    for r, bb in first if first is not None else [(_NOT_REDUCIBLE, b)]:
        if type(r) is Variable and r.name.startswith(NO_RETURN + "#"):
            b2: Bindings | None = bb  # (a `function` that returned nothing: the variable stays)
        elif type(r) is Variable and type(var) is Variable and r != var and var not in bb.links:
            b2 = Bindings.from_links({**bb.links, var: r})  # (the result replaces the variable)
        else:
            b2 = unify(var, r, bb)
        if b2 is None:
            continue
        got = yield from _run(_minimal(it, b2.resolve(body), b2))
        for r2, b3 in got if got is not None else [(_NOT_REDUCIBLE, b2)]:
            if r2 == _NOT_REDUCIBLE:
                out.append((atom, b))
            elif is_error(r2):
                out.append((r2, b3))
            elif r2 != _EMPTY:  # (evaluated inside the instruction: its results come first first)
                out.extend((yield (r2, b3))[::-1])
    return out


@special("function", "(-> Atom Atom)", arity=1)
def _function(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's `function` called directly: its body runs as minimal MeTTa (only instructions
    are evaluated); `(return x)` gives x as it is, anything else a fresh variable."""
    body = atom.children[1]
    if type(body) is not Expression:  # hyperon 0.2.10's words for a minimal instruction's wrong argument
        return [(error(atom, Symbol(f"expected: (function (: <body> Expression)), found: {atom}")), b)]
    got = yield from _run(_minimal(it, atom, b))
    out: list[Pair] = []
    for r, bb in got if got is not None else [(_NOT_REDUCIBLE, b)]:
        if r == _NOT_REDUCIBLE:
            out.append((atom, b))
        elif r != _EMPTY:
            out.append((r, bb))
    return out


@special(RULE_FUNCTION.name)
def _rule_function(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """A rule body `(function ...)` (the driver marks it `(RULE_FUNCTION body call)`): it runs as
    minimal MeTTa and what it returns is evaluated; a body that returns nothing makes the call a
    `NoReturn` error, `NotReducible` gives the call as written (hyperon 0.2.10)."""
    body, call = atom.children[1], atom.children[2]
    got = yield from _run(_minimal(it, body, b))
    out: list[Pair] = []
    for r, bb in got if got is not None else [(_NOT_REDUCIBLE, b)]:
        if type(r) is Variable and r.name.startswith(NO_RETURN + "#"):
            out.append((error(bb.resolve(call), Symbol("NoReturn")), bb))
        elif r == _NOT_REDUCIBLE:
            out.append((call, bb))
        elif r != _EMPTY:
            out.extend((yield Tail((r, bb))))
    return out


@special(BARE_MINIMAL.name)
def _bare_minimal(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """A `!` expression under `pragma! interpreter bare-minimal`: hyperon 0.2.10 runs it by its
    minimal interpreter (an instruction runs, any other atom is its own value, `NotReducible` shows)."""
    got = yield from _run(_minimal(it, atom.children[1], b))
    return got if got is not None else [(_NOT_REDUCIBLE, b)]


#: `return` is no form: a call of it outside a `function` is an ordinary typed call that stays as it is
SPECIAL_TYPES["return"] = parse_atom("(-> $t $t)")
#: names hyperon 0.2.10's library declares and gives no rule or operation mettadb has (error
#: constructors, type names, `switch`'s helper, operations of hyperon's own that mettadb leaves as
#: written): typed as there, so their calls are checked as any typed call is
for _name, _text in (("ErrorType", "Type"), ("SpaceType", "Type"),
                     ("BadType", "(-> Type Type ErrorDescription)"),
                     ("BadArgType", "(-> Number Type Type ErrorDescription)"),
                     ("IncorrectNumberOfArguments", "ErrorDescription"),
                     ("switch-internal", "(-> Atom Expression Atom)"),
                     ("git-module!", "(-> Atom (->))"), ("print-mods!", "(-> (->))")):
    SPECIAL_TYPES[_name] = parse_atom(_text)


@special("sealed", "(-> Expression Atom Atom)", arity=2, checked=True)
def _sealed(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    keep = set(a[0].children) if type(a[0]) is Expression else set()
    vs = {v: None for v in iter_atoms(a[1]) if type(v) is Variable and v not in keep}  # (a dict: written order)
    return [(Bindings({v: fresh_variable(v.name) for v in vs}).resolve(a[1]), b)]
    yield  # pragma: no cover


@special("if-error", "(-> Atom Atom Atom %Undefined%)", arity=3)
def _if_error(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    return (yield Tail((a[1] if is_error(a[0]) else a[2], b)))


@special("return-on-error", "(-> Atom Atom %Undefined%)", arity=2)
def _return_on_error(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if is_error(a[0]) or a[0] == Symbol("Empty"):
        # hyperon's rule returns `(return atom)` out of its own `function`: the caller's `function`
        # takes that `return`; at the top it stays
        return [(Expression((Symbol("return"), a[0])), b)]
    return (yield (a[1], b))


@special("if-decons-expr", "(-> Expression Variable Variable Atom Atom %Undefined%)", arity=5, checked=True)
def _if_decons(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    expr, h, t, then, else_ = a
    if type(expr) is Expression and expr.children:
        b2 = unify(Expression((h, t)), Expression((expr.children[0], Expression(expr.children[1:]))), b)
        if b2 is not None:
            return (yield Tail((b2.resolve(then), b2)))
    return (yield Tail((else_, b)))


@special("if-equal", "(-> Atom Atom Atom Atom %Undefined%)", arity=4)
def _if_equal(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    return (yield Tail((a[2] if equal_as_values(a[0], a[1]) else a[3], b)))


def _substitute(var: Atom, value: Atom, body: Atom) -> Atom:
    if type(var) is not Variable:
        return body
    return Bindings({var: value}).resolve(body)


_EMPTY_EXPR = Expression(())


@special("map-atom", "(-> Expression Variable Atom Expression)", arity=3, checked=True)
def _map_atom(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if type(a[0]) is not Expression:  # (hyperon's rule takes it for an empty list)
        return [(_EMPTY_EXPR, b)]
    lst, var, body = a
    if type(var) is not Variable and a[0].children:  # (hyperon: its `atom-subst` of the first item fails)
        return [(error(Expression((Symbol("atom-subst"), a[0].children[0], var, body)), Symbol("NoReturn")), b)]
    combos: list[tuple[list[Atom], Bindings]] = [([], b)]
    for item in lst.children:  # type: ignore[attr-defined]
        new = []
        for done, bb in combos:
            for r, rb in (yield (_substitute(var, item, body), bb)):
                new.append((done + [r], rb))
        combos = new
    return [(Expression(done), bb) for done, bb in combos]


@special("filter-atom", "(-> Expression Variable Atom Expression)", arity=3, checked=True)
def _filter_atom(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if type(a[0]) is not Expression:  # (hyperon's rule takes it for an empty list)
        return [(_EMPTY_EXPR, b)]
    lst, var, body = a
    kept: list[Atom] = []
    for item in lst.children:  # type: ignore[attr-defined]
        expr = _substitute(var, item, body)
        # hyperon's filter-atom takes one minimal step: only an explicit (eval ...) is evaluated
        is_eval = type(expr) is Expression and expr.children[:1] == (Symbol("eval"),)
        rs = (yield (expr, b)) if is_eval else [(expr, b)]
        if not rs or not all(r in (TRUE, FALSE) for r, _ in rs):
            return [(error(atom, Symbol("NoReturn")), b)]
        if any(r == TRUE for r, _ in rs):
            kept.append(item)
    return [(Expression(kept), b)]


@special("foldl-atom", "(-> Expression Atom Variable Variable Atom %Undefined%)", arity=5, checked=True)
def _foldl_atom(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if type(a[0]) is not Expression:  # (a symbol or a variable: hyperon's rule finds nothing to take apart)
        return [(error(atom, Symbol("NoReturn")), b)]
    lst, init, va, vb, body = a
    accs: list[Pair] = yield (init, b)
    for item in lst.children:  # type: ignore[attr-defined]
        new: list[Pair] = []
        for acc, bb in accs:
            new.extend((yield (_substitute(vb, item, _substitute(va, acc, body)), bb)))
        accs = new
    return accs[::-1]  # side effects in hyperon's order already; its results come back last first


def _collect(rs: list[Pair]) -> list[Atom]:
    return [bb.resolve(r) for r, bb in rs]


def _set_op(kind: str) -> Special:
    def fn(it: Machine, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, 1 if kind == "unique" else 2)
        if a is None:
            return wrong_arity(atom, b)
        xs = _collect((yield (a[0], b)))
        ys = _collect((yield (a[1], b))) if kind != "unique" else []
        if kind == "unique":
            res = unique_values(xs)
        elif kind == "union":
            res = xs + ys
        elif kind == "intersection":
            pool = list(ys)
            res = []
            for x in xs:
                if x in pool:
                    pool.remove(x)
                    res.append(x)
        else:
            pool = list(ys)
            res = []
            for x in xs:
                if x in pool:
                    pool.remove(x)
                else:
                    res.append(x)
        return [(r, b) for r in reversed(res)]

    return fn


for _name in ("unique", "union", "intersection", "subtraction"):
    special(_name, "(-> Atom %Undefined%)" if _name == "unique" else "(-> Atom Atom %Undefined%)")(_set_op(_name))


@special("empty")  # (hyperon 0.2.10 declares no type for it: `get-type` is %Undefined%)
def _empty(it: Machine, atom: Expression, b: Bindings) -> Gen:
    if len(atom.children) != 1:  # (hyperon 0.2.10: no rule applies to `(empty 1)`, the call stays)
        return [(atom, b)]
    return []
    yield  # pragma: no cover


@special("nop")
def _nop(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's untyped grounded `nop`: `()` once per combination of its arguments' values,
    evaluated in order; an argument's error is the value instead, as in any untyped call."""
    combos = [b]
    errors: list[Pair] = []
    for arg in atom.children[1:]:
        nxt: list[Bindings] = []
        for bb in combos:
            for r, rb in (yield (arg, bb)):
                if is_error(r):
                    errors.append((r, rb))
                else:
                    nxt.append(rb)
        combos = nxt
    return [(UNIT, bb) for bb in combos] + errors


@special("Error", "(-> Atom Atom ErrorType)", arity=2)
def _error_form(it: Machine, atom: Expression, b: Bindings) -> Gen:
    ERRORS_MADE[0] += 1
    return [(atom, b)]
    yield  # pragma: no cover


def _assert(kind: str, with_msg: bool) -> Special:
    n = 3 if with_msg else 2

    def fn(it: Machine, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, n)
        if a is None:
            return wrong_arity(atom, b)
        got = _collect((yield Tail((a[0], b))))
        if kind.endswith("ToResult") or kind == "assertIncludes":
            if type(a[1]) is not Expression:
                if kind != "assertIncludes" or type(a[1]) in (Symbol, Variable):
                    # hyperon 0.2.10's MeTTa helpers take the expected atom apart: their error
                    if kind == "assertIncludes":
                        where = Expression((Symbol("subtraction-atom"), a[1], Expression(tuple(got))))
                    else:
                        helper = "_assert-results-are-" + ("alpha-equal" if "Alpha" in kind else "equal")
                        extra = (Expression(atom.children[:n]), a[2]) if with_msg else (atom,)
                        where = Expression((Symbol(helper + ("-msg" if with_msg else "")), Expression(tuple(got)),
                                            a[1], *extra))
                    return [(error(where, Symbol("Atom is not an ExpressionAtom")), b)]
                return [(error(atom, Expression((Symbol("BadArgType"), Integer(2), EXPRESSION_T,
                                                 it.types_of(a[1])[0]))), b)]
            expected = list(a[1].children)
        else:
            expected = _collect((yield Tail((a[1], b))))
        alpha = "Alpha" in kind
        if kind == "assertIncludes":
            missing = [e for e in expected if not any(alpha_equal(e, g, True) if alpha else e == g for g in got)]
            ok = not missing
        else:
            pool = list(got)
            missed = []
            for e in expected:
                for i, g in enumerate(pool):
                    if (alpha_equal(e, g, True) if alpha else equal_as_values(e, g)):  # (hyperon: 2 meets 2.0)
                        del pool[i]
                        break
                else:
                    missed.append(e)
            ok = not missed and not pool
        if ok:
            return [(UNIT, b)]
        shown = Expression(atom.children[: n]) if with_msg else atom
        if with_msg:
            return [(error(shown, a[2]), b)]
        if kind == "assertIncludes":  # hyperon's message is an expression of the missing and the got atoms
            words = [Symbol(w) for w in ("assertIncludes", "error:", "not", "included", "in", "result:")]
            report = error(atom, Expression((*words[:2], Expression(tuple(missing)), *words[2:], Expression(tuple(got)))))
            # like hyperon 0.2.10, the list of missing items is evaluated on the way out: each value
            # repeats the report, errors are the results when there is no value, and no result
            # at all means no result
            values = (yield (Expression(tuple(missing)), b))[::-1]
            errors = [(r, b) for r, _ in values if is_error(r)]
            return [(report, b) for r, _ in values if not is_error(r)] or errors
        else:
            msg = f"\nExpected: {_fmt(expected)}\nGot: {_fmt(got)}"  # (hyperon names only what is not empty)
            if missed:
                msg += f"\nMissed results: {', '.join(map(str, missed))}"
            if pool:
                msg += f"\nExcessive results: {', '.join(map(str, pool))}"
        return [(error(atom, msg), b)]

    return fn


def _fmt(atoms: list[Atom]) -> str:
    return "[" + ", ".join(map(str, atoms)) + "]"


for _k in ("assertEqual", "assertAlphaEqual", "assertEqualToResult", "assertAlphaEqualToResult"):
    special(_k, "(-> Atom Atom (->))")(_assert(_k, False))
    special(_k + "Msg", "(-> Atom Atom Atom (->))")(_assert(_k, True))
special("assertIncludes", "(-> Atom Expression (->))")(_assert("assertIncludes", False))


@special("get-type", "(-> Atom %Undefined%)")
def _get_type(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return wrong_arity(atom, b)
    x = a[0]
    if type(x) is Symbol and x.name in it.tokens:
        x = it.tokens[x.name]
    out: list[Pair] = []
    for t in it.types_of(x):  # like hyperon, a type is evaluated: `(Vec Number (+ 1 1))` -> `(Vec Number 2)`
        out.extend((yield (t, b)) if type(t) is Expression else [(t, b)])
    return out


@special("get-type-space", "(-> SpaceType Atom Atom)", arity=2, checked=True)
def _get_type_space(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """The types of an atom in the given space (`get-type` is this one for `&self`)."""
    target, x = atom.children[1:]
    if type(x) is Symbol and x.name in it.tokens:
        x = it.tokens[x.name]
    if type(target) is Symbol and target.name in it.tokens:
        spaces: list[Pair] = [(it.tokens[target.name], b)]
    else:
        spaces = yield (target, b)
    out: list[Pair] = []
    for sp, bb in spaces:
        space = it.space_of(sp)
        if space is None:
            out.append((error(atom, Symbol("get-type-space expects a space as the first argument")), bb))
            continue
        where = it if space is it.space else it.spawn(space, it.base_dir)
        for t in where.types_of(x):
            out.extend((yield (t, bb)) if type(t) is Expression else [(t, bb)])
    return out


@special("add-reduct", "(-> SpaceType %Undefined% (->))", arity=2, checked=True)
def _add_reduct(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon's rule `(= (add-reduct $dst $atom) (add-atom $dst $atom))`: the atom's values are added."""
    target, x = atom.children[1:]
    out: list[Pair] = []
    for v, bb in (yield (x, b)):
        out.extend((yield Tail((Expression((Symbol("add-atom"), target, v)), bb))))
    return out


def _fold_adds(space: Atom, tup: Atom) -> Expression:
    """hyperon's rule body for `add-atoms` and `add-reducts`: `(foldl-atom tuple () $a $b (add-atom space $b))`
    (its errors name that call: a tuple that is no expression)."""
    acc, item = fresh_variable("a"), fresh_variable("b")
    if type(tup) is Expression and any(is_error(x) for x in tup.children):
        # (hyperon's fold adds none of a tuple's error atoms)
        tup = Expression(tuple(x for x in tup.children if not is_error(x)))
    return Expression((Symbol("foldl-atom"), tup, UNIT, acc, item, Expression((Symbol("add-atom"), space, item))))


@special("add-atoms", "(-> SpaceType Expression (->))", arity=2, checked=True)
def _add_atoms(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """Each atom of a tuple, as written, added to a space."""
    space, tup = atom.children[1:]
    return (yield Tail((_fold_adds(space, tup), b)))


@special("add-reducts", "(-> SpaceType %Undefined% (->))", arity=2, checked=True)
def _add_reducts(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """Each atom of each value of a tuple added to a space (the tuple is evaluated first)."""
    space, tup = atom.children[1:]
    out: list[Pair] = []
    for v, bb in (yield (tup, b)):  # each value in turn (side effects in order), results last first
        if is_error(v):  # (an error the tuple evaluated to is the call's value: nothing is added)
            out.append((v, bb))
            continue
        got = yield Tail((_fold_adds(space, v), bb))
        out.extend(got[::-1] if len(got) > 1 else got)
    return out[::-1] if len(out) > 1 else out


@special("get-metatype", "(-> Atom Atom)")
def _get_metatype(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = _args(atom, 1)
    if a is None:
        return wrong_arity(atom, b)
    x = a[0]
    if type(x) is Symbol and x.name in MODULE_OPS and x.name not in RULE_DEFINED and x.name not in it.tokens:
        return [(Symbol("Grounded"), b)]  # (an imported module's operation)
    return [(Symbol(metatype(x)), b)]
    yield  # pragma: no cover


def _space_then(fn: Callable[[Machine, Any, tuple[Atom, ...], Expression, Bindings], list[Pair]], n: int) -> Special:
    def handler(it: Machine, atom: Expression, b: Bindings) -> Gen:
        a = _args(atom, n)
        if a is None:
            return wrong_arity(atom, b)
        out: list[Pair] = []
        for sp, bb in (yield (a[0], b)):
            space = it.space_of(sp)
            if space is None:  # hyperon's words, a symbol as its Rust operations give them
                name = atom.children[0].name  # type: ignore[attr-defined]
                where = "its argument" if n == 1 else "the first argument"
                out.append((error(atom, Symbol(f"{name} expects a space as {where}")), bb))
                continue
            out.extend(fn(it, space, tuple(bb.resolve(x) for x in a[1:]), atom, bb))
        return out

    return handler


def _add_atom(it: Machine, sp: Any, a: tuple[Atom, ...], atom: Expression, b: Bindings) -> list[Pair]:
    it.add_atom(sp, a[0])
    return [(UNIT, b)]


def _remove_atom(it: Machine, sp: Any, a: tuple[Atom, ...], atom: Expression, b: Bindings) -> list[Pair]:
    it.remove_atom(sp, a[0])
    return [(UNIT, b)]


special("add-atom", "(-> SpaceType Atom (->))", checked=True)(_space_then(_add_atom, 2))
special("remove-atom", "(-> SpaceType Atom (->))", checked=True)(_space_then(_remove_atom, 2))
special("get-atoms", "(-> SpaceType Atom)", checked=True)(
    # (each atom's variables fresh, as hyperon gives them)
    _space_then(lambda it, sp, a, atom, b: [(rename_apart(x), b) for x in it.atoms_of(sp)], 1))


@special("new-space", "(-> SpaceType)", arity=0)
def _new_space(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return [(SpaceAtom(MemorySpace()), b)]
    yield  # pragma: no cover


@special("context-space", "(-> SpaceType)", arity=0)
def _context_space(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """The current module's space (a script's `&self`)."""
    return [(it.self_atom, b)]
    yield  # pragma: no cover


@special("metta", "(-> Atom Type SpaceType Atom)", arity=3, checked=True)
def _metta(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's `(metta atom type space)`: the atom's values of that type, its rules read in
    `space`; an atom of type `Atom`, of the metatype asked for or a variable is its own value.  Each
    value of the type and space arguments in turn; the values last first (as hyperon gives them)."""
    x, t, s = atom.children[1:]
    out: list[Pair] = []
    for tv, tb in (yield (t, b)):
        for sp, sb in (yield (s, tb)):
            space = it.space_of(sp)
            if space is None:
                out.append((error(atom, Symbol(f"expected: (metta atom type space), found: {atom}")), sb))
                continue
            xv, want = sb.resolve(x), sb.resolve(tv)
            if want == ATOM_T or type(xv) is Variable or (type(want) is Symbol and want.name == metatype(xv)):
                out.append((xv, sb))
            elif space is it.space:
                out.extend((yield Typed((xv, sb, want, False)))[::-1])  # type: ignore[arg-type]
            else:  # evaluated by an interpreter reading that space, in this module's context
                sub = it.spawn(space, it.base_dir)
                sub.tokens, sub.self_atom = it.tokens, it.self_atom
                call = Expression((atom.children[0], xv, want, sp))
                out.extend((r, sb) for r in sub.evaluate(call))
    return out


@special("new-state", "(-> $t (StateMonad $t))", arity=1)
def _new_state(it: Machine, atom: Expression, b: Bindings) -> Gen:
    arg = atom.children[1]
    out: list[Pair] = []
    for v, bb in (yield (arg, b)):
        v = bb.resolve(v)
        if is_error(v) and v != arg:  # like hyperon: an error the argument reduced to is the result
            out.append((v, bb))
            continue
        types = it.types_of(v)
        out.append((StateAtom(v, types[0] if types else UNDEFINED), bb))  # a state's type is its first value's
    return out[::-1]  # (an argument's values come back last first, as for any operation)


_NEW_STATE_ARGS = Symbol("new-state expects atom as a first argument and non-empty list of types as a second "
                         "argument")
_STATE_MONAD = Symbol("StateMonad")


@special("_new-state", "(-> $t Expression (StateMonad $t))", arity=2, checked=True)
def _new_state_typed(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's operation behind `new-state`: a state of the first type listed; a value whose
    own type does not fit it gives hyperon's return-type error (`(StateMonad $t)`, `$t` the value's)."""
    listed = b.resolve(atom.children[2])
    if type(listed) is not Expression or not listed.children:
        return [(error(atom, _NEW_STATE_ARGS), b)]
    out: list[Pair] = []
    for v, bb in (yield (atom.children[1], b)):
        v = bb.resolve(v)
        want = listed.children[0]
        state = StateAtom(v, want)
        have = it.types_of(v)
        if have and have[0] != UNDEFINED and unify(have[0], want, EMPTY_BINDINGS) is None:
            out.append((error(state, Expression((Symbol("BadType"), Expression((_STATE_MONAD, have[0])),
                                                            Expression((_STATE_MONAD, want))))), bb))
        else:
            out.append((state, bb))
    return out[::-1]


@special("assert", "(-> Atom (->))", arity=1)
def _assert_true(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon 0.2.10's `assert`: `()` for each value of the atom that is `True`, else an error naming
    the atom as written; the values come back last first, as a rule's do."""
    written = atom.children[1]
    out: list[Pair] = [(UNIT, bb) if v == TRUE else
                       (error(atom, Expression((written, Symbol("not"), TRUE))), bb)
                       for v, bb in (yield (written, b))]
    return out[::-1]


@special("get-state", "(-> (StateMonad $tgso) $tgso)", arity=1, checked=True)
def _get_state(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for s, bb in (yield (a[0], b)):
        if not isinstance(s, StateAtom):  # (the call as hyperon's operation meets it: its argument evaluated)
            call = atom if s == a[0] else Expression((atom.children[0], s))
            out.append((error(call, Symbol("get-state expects single state atom as an argument")), bb))
            continue
        v = s.current
        have = it.types_of(v)
        if have and not _fits_state(have, s.value_type):
            # a value an `Atom`-typed argument put in (change-state! does not check those): hyperon
            # 0.2.10 checks it against the state's type on the way out
            out.append((error(v, Expression((Symbol("BadType"), s.value_type, have[0]))), bb))
            continue
        out.append((v, bb))
    return out[::-1]  # (an argument's values last first, as an operation's)


@special("change-state!", "(-> (StateMonad $tcso) $tcso (StateMonad $tcso))", arity=2, checked=True)
def _change_state(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for s, bb in (yield (a[0], b)):
        if not isinstance(s, StateAtom):
            out.append((error(atom, Symbol("change-state! expects a state as the first argument")), bb))
            continue
        want = s.value_type
        written = bb.resolve(a[1])
        have = it.types_of(written)
        # like hyperon 0.2.10, an argument of type `Atom` (a call of a function returning `Atom`)
        # fits any state, and the value it reduces to is not checked again
        any_atom = any(t == ATOM_T for t in have)
        if have and not any_atom and not _fits_state(have, want):  # checked as written first, like hyperon
            out.append((error(Expression((atom.children[0], s, written)), Expression(
                (Symbol("BadArgType"), Integer(2), want, have[0]))), bb))
            continue
        for v, b2 in (yield (a[1], bb)):
            v = b2.resolve(v)
            if is_error(v) and v != a[1]:  # like hyperon: an error the argument reduced to is the result
                out.append((v, b2))
                continue
            have = it.types_of(v)
            if have and not any_atom and not _fits_state(have, want):  # the value it reduced to
                out.append((error(v, Expression((Symbol("BadType"), want, have[0]))), b2))
                continue
            s.set(v)
            out.append((s, b2))
    return out


def _fits_state(have: list[Atom], want: Atom) -> bool:
    """Whether a value of these types may go into a state of type `want`.

    As in hyperon 0.2.10: a state of undefined type takes only values of
    undefined type; a state of a defined type takes values of that type or of
    undefined type.  A type variable (`((compose S S) Z)` is of type `$c`) fits either.
    """
    return any(t == UNDEFINED or type(t) is Variable
               or (want != UNDEFINED and match_types(t, want, EMPTY_BINDINGS) is not None) for t in have)


@special("bind!", "(-> Symbol %Undefined% (->))", arity=2)
def _bind(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if type(a[0]) is not Symbol:  # e.g. a token bound before: it was replaced by its value
        types = it.types_of(a[0])
        return [(error(atom, Expression((Symbol("BadArgType"), Integer(1), Symbol("Symbol"),
                                         types[0] if types else UNDEFINED))), b)]
    rs = yield (a[1], b)
    if rs:
        value = rs[0][1].resolve(rs[0][0])
        if is_error(value) and value != a[1]:  # like hyperon: an error the argument reduced to is the result
            return [(value, b)]
        it.tokens[a[0].name] = value
    return [(UNIT, b)]


@special("pragma!")  # (hyperon 0.2.10 declares no type for it: `%Undefined%`)
def _pragma(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if len(a) < 2:  # hyperon 0.2.10's words (it ignores arguments past the value)
        return [(error(atom, Symbol("pragma! expects key and value as arguments")), b)]
    if type(a[0]) is not Symbol:
        return [(error(atom, Symbol("pragma! expects symbol atom as a key")), b)]
    key, value = str(a[0]), str(a[1])
    if key == "type-check":
        it.type_check = value == "auto"
    elif key == "max-stack-depth":
        if not value.isascii() or not value.isdigit():  # (hyperon 0.2.10's words)
            return [(error(atom, Symbol("UnsignedIntegerIsExpected")), b)]
        it.stack_overflow = int(value)
    elif key == "interpreter":  # any other value is hyperon's `metta` (under bare-minimal, a `!(pragma!
        it.bare_minimal = value == "bare-minimal"  # ...)` is no instruction: only `eval` of one runs it)
    return [(UNIT, b)]
    yield  # pragma: no cover


@special("println!", "(-> %Undefined% (->))", arity=1)
def _println(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for v, bb in (yield (a[0], b)):
        v = bb.resolve(v)
        it.print_line(v.value if getattr(v, "type_name", None) == "String" else str(v))  # type: ignore[attr-defined]  # (a regex's text too, as hyperon)
        out.append((UNIT, bb))
    return out


@special("trace!", "(-> %Undefined% Atom %Undefined%)", arity=2)
def _trace(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for v, bb in (yield (a[0], b)):  # each message printed, then the value evaluated for it
        sys.stderr.write(str(bb.resolve(v)) + "\n")
        rs = yield (a[1], bb)
        out.extend(rs[::-1] if len(rs) > 1 else rs)  # (hyperon 0.2.10: last first, per message)
    return out


# ------------------------------------------------------------ documentation: hyperon 0.2.10's help! family

_DOC_S, _DESC_S, _PARAMS_S, _PARAM_S, _RETURN_S = map(Symbol, ("@doc", "@desc", "@params", "@param", "@return"))
_TYPE_S, _ITEM_S, _KIND_S, _DOC_FORMAL_S = map(Symbol, ("@type", "@item", "@kind", "@doc-formal"))
_GET_TYPE_SPACE = Symbol("get-type-space")
_NAME_V, _DESC_V = Variable("name"), Variable("desc")
#: what `help-space!` lists: hyperon's two rules, the atom form's first
_DOC_PATTERNS = (parse_atom("(@doc $name (@desc $desc))"), parse_atom("(@doc $name (@desc $desc) $params $ret)"))


def _plain(a: Atom) -> str:
    """An atom as `format-args` writes it: a string (or a regex, hyperon's String too) without its quotes."""
    return a.value if getattr(a, "type_name", None) == "String" else str(a)  # type: ignore[attr-defined]


def _not_empty_error(op: str, a: Atom) -> Atom:
    return error(Expression((Symbol(op), a)), f"{op} expects a non-empty expression as an argument")


def _doc_rows(it: Machine, space: Any, pattern: Atom) -> list[Bindings]:
    """The matches of a `@doc` pattern as hyperon's `unify` with a space finds them, as `match` finds
    them (for a module space, the standard library's documentation too: mettadb's texts), and for
    `&self` then the optional modules' imported into it."""
    rows = it.query(space, pattern, EMPTY_BINDINGS, True)
    if it.deps.get(id(space)) is not None:
        if space is it.space:
            for name, ops in MODULES.items():
                if ops[0] not in it.tokens:  # (imported into &self: its names are no longer hidden)
                    rows.extend(module_docs(name).query(pattern, EMPTY_BINDINGS))
    return rows


#: what hyperon's `get-doc-params` and `undefined-doc-function-type` give at each level of their
#: recursion: `(== () list)`, whose type check of the list gives its errors (a list that is not a
#: well-typed tuple: `((@param "a") x)`, `((@param 1))`)
_EQ_S = Symbol("==")
DocGen = Generator[Pair, list[Pair], Any]


def _list_errors(params: Atom) -> DocGen:
    """The errors of hyperon's `(== () params)` (each of its values that is one), in its order."""
    return [r for r, _ in (yield (Expression((_EQ_S, UNIT, params)), EMPTY_BINDINGS)) if is_error(r)]


def _undefined_types(params: Atom) -> DocGen:
    """hyperon's `undefined-doc-function-type`: `%Undefined%` for each parameter and one for the
    result; or (the errors, the level of the recursion they came from)."""
    n = 0
    while True:
        errs = yield from _list_errors(params)
        if errs:
            return errs, n
        if params == UNIT:
            return Expression((UNDEFINED,) * (n + 1))
        if type(params) is not Expression:
            return [_not_empty_error("cdr-atom", params)], n
        params, n = Expression(params.children[1:]), n + 1


def _typed_params(params: Atom, ret: Atom, types: Atom) -> DocGen:
    """hyperon's `get-doc-params`: each `(@param d)` and the `(@return d)` with its type from `types`
    (parameters first), a pair; or (the errors, the level of the recursion they came from: the
    order they come in differs with it), or None when the descriptions do not have that shape
    (Empty)."""
    out: list[Atom] = []
    n = 0
    while True:
        if type(types) is not Expression or not types.children:
            return [_not_empty_error("car-atom", types)], n
        head_t, types = types.children[0], Expression(types.children[1:])
        errs = yield from _list_errors(params)
        if errs:
            return errs, n
        if params == UNIT:
            descs = [r for r, _ in (yield (ret, EMPTY_BINDINGS))]  # (hyperon's `let` evaluates it)
            errs = [r for r in descs if is_error(r)]
            if errs:
                return errs, n
            for r in descs:
                if type(r) is Expression and len(r.children) == 2 and r.children[0] == _RETURN_S:
                    typed = Expression((_RETURN_S, Expression((_TYPE_S, head_t)), Expression((_DESC_S, r.children[1]))))
                    return Expression(tuple(out)), typed
            return None
        if type(params) is not Expression:
            return [_not_empty_error("car-atom", params)], n
        p = params.children[0]
        if not (type(p) is Expression and len(p.children) == 2 and p.children[0] == _PARAM_S):
            return None
        out.append(Expression((_PARAM_S, Expression((_TYPE_S, head_t)), Expression((_DESC_S, p.children[1])))))
        params, n = Expression(params.children[1:]), n + 1


def _doc_function(it: Machine, space: Any, name: Atom, ftype: Atom) -> DocGen:
    """hyperon's `get-doc-function`: the function form of each `@doc` of `name`, typed by `ftype`,
    each evaluated (a description of another type is an error there); or the errors met on the
    way.  Listed last first (as `get-doc-function` prints them, reversed): several errors of one
    `@doc` in the order hyperon gives them, which follows how deep in its recursions they came from."""
    d, ps, r = fresh_variable("desc"), fresh_variable("params"), fresh_variable("ret")
    pattern = Expression((_DOC_S, name, d, Expression((_PARAMS_S, ps)), r))
    out: list[Atom] = []
    for row in _doc_rows(it, space, pattern):
        params = row.resolve(ps)
        types: Any
        if ftype == UNDEFINED:
            types = yield from _undefined_types(params)
            if type(types) is tuple:  # (hyperon's order: as they came at an even level, else reversed)
                out.extend(types[0][::-1] if types[1] % 2 == 0 else types[0])
                continue
        elif type(ftype) is Expression and ftype.children:
            types = Expression(ftype.children[1:])
        else:
            out.append(_not_empty_error("cdr-atom", ftype))
            continue
        got = yield from _typed_params(params, row.resolve(r), types)
        if got is None:
            continue
        if type(got[0]) is list:  # (hyperon's order: reversed when they came at an even level)
            out.extend(got[0] if got[1] % 2 == 0 else got[0][::-1])
            continue
        formal = Expression((_DOC_FORMAL_S, Expression((_ITEM_S, row.resolve(name))),
                             Expression((_KIND_S, Symbol("function"))), Expression((_TYPE_S, ftype)),
                             row.resolve(d), Expression((_PARAMS_S, got[0])), got[1]))
        out.extend(x for x, _ in reversed((yield (formal, EMPTY_BINDINGS))))  # (hyperon evaluates it)
    return out


def _doc_atom(it: Machine, space: Any, target: Atom, t: Atom) -> DocGen:
    """hyperon's `get-doc-atom`: the atom form of each `(@doc target (@desc d))`, else the function form
    (untyped) of each longer `@doc` of it."""
    d = fresh_variable("desc")
    rows = _doc_rows(it, space, Expression((_DOC_S, target, d)))
    if rows:
        return [Expression((_DOC_FORMAL_S, Expression((_ITEM_S, row.resolve(target))),
                            Expression((_KIND_S, Symbol("atom"))), Expression((_TYPE_S, t)), row.resolve(d)))
                for row in rows]
    pattern = Expression((_DOC_S, target, d, Expression((_PARAMS_S, fresh_variable("params"))), fresh_variable("ret")))
    out: list[Atom] = []
    for row in _doc_rows(it, space, pattern):  # (each one's list reversed: the order hyperon's results take)
        out.extend(reversed((yield from _doc_function(it, space, row.resolve(target), UNDEFINED))))
    return out


def _doc_formals(it: Machine, where: Atom, space: Any, target: Atom,
                 single: bool = False) -> Generator[Pair, list[Pair], list[Atom]]:
    """hyperon's `get-doc` (with `single`, `get-doc-single-atom`) of `target` in a space (`where` names
    it): each `@doc-formal` in the order hyperon computes them (its results list them last first):
    the target's types last first, and for one that is not a function type, `get-doc-atom`'s, which
    looks each type up again."""
    out: list[Atom] = []
    types = [t for t, _ in (yield (Expression((_GET_TYPE_SPACE, where, target)), EMPTY_BINDINGS))]
    for t in reversed(types):
        if is_error(t):
            out.append(t)
        elif space is None:  # (not a space: hyperon's `unify` of the atom itself with a `@doc`, rarely a match)
            continue
        elif type(target) is Expression and not single:
            out.extend((yield from _doc_atom(it, space, target, t)))
        elif type(t) is Expression and t.children and t.children[0] == ARROW:
            out.extend((yield from _doc_function(it, space, target, t)))
        else:
            for t2 in reversed(types):
                if not is_error(t2):
                    out.extend((yield from _doc_atom(it, space, target, t2)))
    return out


def _print_docs(it: Machine, space: Any, own: bool) -> None:
    """`help-space!`'s listing: each documented atom's name, then its description on a line of its own
    after a tab (the atom form's first, each kind last first)."""
    for pattern in _DOC_PATTERNS:
        rows = it.query(space, pattern, EMPTY_BINDINGS, False, True) if own else _doc_rows(it, space, pattern)
        for row in reversed(rows):
            it.print_line(f"{row.resolve(_NAME_V)}\n\t{_plain(row.resolve(_DESC_V))}")


def _print_doc_formal(it: Machine, doc: Atom) -> Atom | None:
    """`help!`'s printing of one `@doc-formal`; None when it is not one (hyperon: an error)."""
    kids = doc.children if type(doc) is Expression else ()
    if len(kids) not in (5, 7) or kids[0] != _DOC_FORMAL_S:
        return None
    parts = {k.children[0].name: k.children[1:] for k in kids[1:]
             if type(k) is Expression and k.children and type(k.children[0]) is Symbol}
    item, kind, t, desc = (parts.get(n, ()) for n in ("@item", "@kind", "@type", "@desc"))
    if not (len(item) == len(kind) == len(t) == len(desc) == 1):
        return None
    if len(kids) == 5 and str(kind[0]) == "atom":
        it.print_line(f"Atom {_plain(item[0])}: {t[0]} {_plain(desc[0])}")  # (hyperon's format-args: a regex's text)
        return UNIT
    if len(kids) == 5 and str(kind[0]) == "function":
        it.print_line(f"Function {_plain(item[0])} (type {t[0]}) {_plain(desc[0])}")
        return UNIT
    params, ret = parts.get("@params", ()), parts.get("@return", ())
    if str(kind[0]) != "function" or len(params) != 1 or type(params[0]) is not Expression or len(ret) != 2:
        return None
    rt, rd = ret
    if not (type(rt) is Expression and len(rt.children) == 2 and rt.children[0] == _TYPE_S
            and type(rd) is Expression and len(rd.children) == 2 and rd.children[0] == _DESC_S):
        return None
    ftype, ps, rtype = t[0], params[0].children, rt.children[1]
    if type(rtype) is Variable:
        # hyperon's `help-internal!` takes the return type apart with its own variable `$ret-type`, and
        # the type variable it meets prints by that name wherever it stands
        named = Bindings({rtype: fresh_variable("ret-type")})
        ftype, ps, rtype = named.resolve(ftype), tuple(named.resolve(p) for p in ps), named.resolve(rtype)
    lines = [f"Function {item[0]}: {ftype} {_plain(desc[0])}", "Parameters:"]
    for p in ps:
        line = _param_line(p)
        if line is not None:
            lines.append(line)
    lines.append(f"Return: (type {rtype}) {_plain(rd.children[1])}")
    it.print_line("\n".join(lines))
    return UNIT


def _param_line(p: Atom) -> str | None:
    """`help-param!`'s line for `(@param (@type t) (@desc d))`; None for another shape."""
    t, d = fresh_variable("type"), fresh_variable("desc")
    bb = unify(Expression((_PARAM_S, Expression((_TYPE_S, t)), Expression((_DESC_S, d)))), p, EMPTY_BINDINGS)
    if bb is None:
        return None
    return f"  (type {bb.resolve(t)}) {_plain(bb.resolve(d))}"


def _help_module(it: Machine, name: Atom) -> Any:
    """The space whose own documentation `help!` of a module's name lists (hyperon's `help-internal!`
    of a Symbol: the module loaded for it if need be, as `mod-space!` does); None when `name`
    names no module."""
    if type(name) is not Symbol or any(not (c.isascii() and (c.isalnum() or c in "-_:")) for c in name.name):
        return None
    label = name.name.removeprefix("top:")
    if label == "top":
        return it.top_atom.value
    if label == "corelib":  # the standard library's documentation (mettadb's texts, hyperon's order)
        return corelib_docs()
    if label == "stdlib":  # (hyperon's Rust module: no documentation of its own)
        return MemorySpace()
    if label in MODULES:
        return _optional_module(it, label).value
    if it.readonly:  # (a batch worker loads no module: each of its queries stands alone)
        return None
    module = _module(it, name, name.name)
    return module.value if isinstance(module, ModuleSpaceAtom) else None


def _help_internal(it: Machine, target: Atom, b: Bindings) -> Gen:
    """hyperon's `help-internal!` (both of its rules): the module's documentation when `target` names
    one, and `target`'s own printed; one `()` for each, nothing when there is neither."""
    out: list[Pair] = []
    space = _help_module(it, target)
    if space is not None:
        _print_docs(it, space, True)
        out.append((UNIT, b))
    top = it.top_atom
    shown: list[Pair] = []  # (printed in the order hyperon computes them; its values come last first)
    for doc in (yield from _doc_formals(it, top, top.value, target)):
        done = _print_doc_formal(it, doc)
        shown.append((done if done is not None else error(doc, "Cannot match @doc-formal structure"), b))
    return out + shown[::-1]


def _arity_errors(atom: Expression, b: Bindings, signatures: int) -> list[Pair]:
    """A call of a library function with several declared types and another number of arguments than
    each: hyperon's IncorrectNumberOfArguments once per type."""
    return wrong_arity(atom, b) * signatures


@special("help!", "(-> Atom (->))")
def _help(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if len(a) > 1:
        return _arity_errors(atom, b, 2)
    target = a[0] if a else Symbol("corelib")  # (hyperon's `(help!)` is `(help! corelib)`)
    out = yield from _help_internal(it, target, b)
    if not out:
        it.print_line(f"No documentation found for {_plain(target)}")
        return [(UNIT, b)]
    return out


@special("help-internal!", "(-> Atom (->))")
def _help_internal_form(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    if len(a) != 1:
        return _arity_errors(atom, b, 2)
    return (yield from _help_internal(it, a[0], b))


@special("help-space!", "(-> SpaceType (->))", arity=1, checked=True)
def _help_space(it: Machine, atom: Expression, b: Bindings) -> Gen:
    out: list[Pair] = []
    for sp, bb in (yield (atom.children[1], b)):
        space = it.space_of(sp)
        if space is not None:
            _print_docs(it, space, False)
        else:  # (hyperon's `unify` of the atom itself with each pattern)
            for pattern in _DOC_PATTERNS:
                renamed = rename_apart(pattern)
                row = unify(sp, renamed, EMPTY_BINDINGS)
                if row is not None:
                    it.print_line(f"{row.resolve(_doc_var(renamed, 'name'))}\n\t"
                                  f"{_plain(row.resolve(_doc_var(renamed, 'desc')))}")
        out.append((UNIT, bb))
    return out


def _doc_var(pattern: Atom, name: str) -> Atom:
    """The variable `$name` or `$desc` of a renamed `@doc` pattern (the second element, or the
    `@desc`'s argument)."""
    assert isinstance(pattern, Expression)
    kids = pattern.children
    if name == "name":
        return kids[1]
    desc = kids[2]
    assert isinstance(desc, Expression)
    return desc.children[1]


@special("help-param!", "(-> Atom (->))", arity=1)
def _help_param(it: Machine, atom: Expression, b: Bindings) -> Gen:
    out: list[Pair] = []
    for p, bb in (yield (atom.children[1], b)):  # (hyperon's rule takes it apart with `let`, which evaluates it)
        line = _param_line(p)
        if line is not None:
            it.print_line(line)
            out.append((UNIT, bb))
    return out


@special("get-doc", "(-> SpaceType Atom %Undefined%)", arity=2)
def _get_doc(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return (yield from _get_doc_of(it, atom, b, False))


@special("get-doc-single-atom", "(-> SpaceType Atom %Undefined%)", arity=2, checked=True)
def _get_doc_single_atom(it: Machine, atom: Expression, b: Bindings) -> Gen:
    return (yield from _get_doc_of(it, atom, b, True))


def _get_doc_of(it: Machine, atom: Expression, b: Bindings, single: bool) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for sp, bb in (yield (a[0], b)):
        space = it.space_of(sp)
        if space is None and not single and type(sp) is not Variable:  # as hyperon's typed `get-doc` reports it
            have = [t for t in it.types_of(sp) if t != UNDEFINED]
            if not have:  # (an untyped atom passes its check: hyperon's `get-type-space` of it fails)
                call = Expression((_GET_TYPE_SPACE, sp, bb.resolve(a[1])))
                out.append((error(call, Symbol("get-type-space expects a space as the first argument")), bb))
                continue
            out.append((error(atom, Expression((Symbol("BadArgType"), Integer(1), Symbol("SpaceType"), have[0]))), bb))
            continue
        docs = yield from _doc_formals(it, sp, space, bb.resolve(a[1]), single)
        out.extend((d, bb) for d in reversed(docs))
    return out


@special("get-doc-atom", "(-> SpaceType Atom %Undefined%)", arity=2, checked=True)
def _get_doc_atom(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for sp, bb in (yield (a[0], b)):
        target = bb.resolve(a[1])
        space = it.space_of(sp)
        for t, _ in (yield (Expression((_GET_TYPE_SPACE, sp, target)), EMPTY_BINDINGS)):
            docs = [t] if is_error(t) else (yield from _doc_atom(it, space, target, t)) if space is not None else []
            out.extend((d, bb) for d in reversed(docs))
    return out


@special("get-doc-function", "(-> SpaceType Atom Type %Undefined%)", arity=3, checked=True)
def _get_doc_function(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    out: list[Pair] = []
    for sp, bb in (yield (a[0], b)):
        for t, b2 in (yield (a[2], bb)):
            space = it.space_of(sp)
            if space is None:  # (hyperon's `unify` of the atom itself with the pattern: rarely a match)
                continue
            docs = yield from _doc_function(it, space, b2.resolve(a[1]), t)
            out.extend((d, b2) for d in reversed(docs))
    return out


@special("undefined-doc-function-type", "(-> Expression Type)", arity=1, checked=True)
def _undefined_doc_function_type(it: Machine, atom: Expression, b: Bindings) -> Gen:
    got = yield from _undefined_types(b.resolve(atom.children[1]))
    if type(got) is tuple:  # (hyperon's order: as they came at an even level, else reversed)
        return [(e, b) for e in (got[0] if got[1] % 2 == 0 else got[0][::-1])]
    return [(got, b)]


@special("get-doc-params", "(-> Expression Atom Expression (Expression Atom))", arity=3, checked=True)
def _get_doc_params(it: Machine, atom: Expression, b: Bindings) -> Gen:
    params, ret, types = (b.resolve(x) for x in atom.children[1:])
    got = yield from _typed_params(params, ret, types)
    if got is None:
        return []
    if type(got[0]) is list:  # (hyperon's order: as they came at an even level, else reversed)
        return [(e, b) for e in (got[0] if got[1] % 2 == 0 else got[0][::-1])]
    return [(Expression(got), b)]


#: hyperon 0.2.10's documentation constructors: their declared types (no rules: a call that fits one
#: is itself, its arguments evaluated where the parameter is not `Atom` or `Expression`)
_DOC_CONSTRUCTORS = {
    "@doc": ("(-> Atom DocDescription DocInformal)",
             "(-> Atom DocDescription DocParameters DocReturnInformal DocInformal)"),
    "@desc": ("(-> String DocDescription)",),
    "@param": ("(-> String DocParameterInformal)", "(-> DocType DocDescription DocParameter)"),
    "@return": ("(-> String DocReturnInformal)", "(-> DocType DocDescription DocReturn)"),
    "@doc-formal": ("(-> DocItem DocKindFunction DocType DocDescription DocParameters DocReturn DocFormal)",
                    "(-> DocItem DocKindAtom DocType DocDescription DocFormal)",
                    "(-> DocItem DocKindFunction DocType DocDescription DocFormal)"),
    "@item": ("(-> Atom DocItem)",),
    "@type": ("(-> Type DocType)",),
    "@params": ("(-> Expression DocParameters)",),
}


def _doc_constructor(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """A call of a documentation constructor: checked against each of its declared types in turn, as
    written; itself (arguments evaluated) under the first that fits and whose arguments have values
    that are no errors, else every type's errors in turn (an argument's error under a type that fits
    as written among them: `(@desc 1)` in a `@doc-formal`)."""
    head = atom.children[0]
    args = tuple(it.tokens_in(a) for a in atom.children[1:])
    errs: list[Pair] = []
    for sig in SPECIAL_SIGNATURES[head.name]:  # type: ignore[attr-defined]
        params = sig.children[1:-1]  # type: ignore[attr-defined]
        if len(params) != len(args):
            errs.extend(wrong_arity(atom, b))
            continue
        bad = check_call(params, tuple(b.resolve(a) for a in args), it.types_of)[1]
        if bad:
            errs.extend((error(atom, Expression((Symbol("BadArgType"), Integer(m[0]), m[1], m[2])))
                         if isinstance(m, tuple) else m, b) for m in bad)
            continue
        rows: list[tuple[tuple[Atom, ...], Bindings]] = [((), b)]
        out: list[Pair] = []
        for arg, want in zip(args, params):
            nxt: list[tuple[tuple[Atom, ...], Bindings]] = []
            for done, bb in rows:
                if want == ATOM_T or want == EXPRESSION_T:
                    nxt.append(((*done, arg), bb))
                    continue
                for v, b2 in (yield (arg, bb)):
                    if is_error(v):  # (an argument's error is the call's value, as hyperon returns it)
                        out.append((v, b2))
                    else:
                        nxt.append(((*done, v), b2))
            rows = nxt
        if rows:
            # (its values last first, as an operation's whose arguments have several)
            return out + [(Expression((head, *vals)), bb) for vals, bb in reversed(rows)]
        errs.extend(out)  # (no value under this type: hyperon tries the next)
    return errs


for _name, _types in _DOC_CONSTRUCTORS.items():
    special(_name, _types[0])(_doc_constructor)
    SPECIAL_SIGNATURES[_name] = tuple(parse_atom(t) for t in _types)
SPECIAL_SIGNATURES["help!"] = (parse_atom("(-> Atom (->))"), parse_atom("(-> (->))"))
SPECIAL_SIGNATURES["help-internal!"] = (parse_atom("(-> Atom (->))"), parse_atom("(-> Symbol (->))"))


def _module_name_error(label: str, base_dir: str) -> str | None:
    """hyperon 0.2.10's error for a module name whose parts (`:` separated) it cannot resolve: an
    empty part, a name that starts with `:`, a first part naming no module here; None otherwise."""
    if ":" not in label:
        return None
    if label.startswith(":"):
        return f"Failed to resolve module top:{label}"
    parts = label.split(":")
    for i, part in enumerate(parts):
        if not part:
            return "Invalid module name format: top:" + ":".join(parts[:i]) + ":"
    first = os.path.join(base_dir, parts[0])
    if not (os.path.isdir(first) or os.path.isfile(first + ".metta")):
        return f"Failed to resolve module top:{parts[0]}"
    return None


#: modules hyperon 0.2.10 has loaded before a script runs: importing one adds nothing (mettadb's
#: standard library is always there; `top` is the script's own module)
BUILTIN_MODULES = ("stdlib", "corelib", "top")


def _not_a_destination(it: Machine, atom: Expression) -> Atom:
    target, name = atom.children[1:]
    found = it.tokens.get(target.name, target) if type(target) is Symbol else target
    msg = f"import! destination argument must be a symbol atom naming a new space, or &self.  Found: {{{found}}}"
    return error(Expression((atom.children[0], found, name)), Symbol(msg))


def _import_builtin(it: Machine, atom: Expression, b: Bindings, name: str) -> list[Pair]:
    """`import!` of a module hyperon has loaded already: `()`; a fresh token names its space
    (`top`: the script's `&self`; `corelib`: the standard library's declarations and rules;
    `stdlib`: a space of its own, matching nothing); `top` imported into `&self` becomes one of
    its dependencies (its atoms are then met twice)."""
    target = atom.children[1]
    if type(target) is Symbol and target.name not in it.tokens:
        if name == "top":
            it.tokens[target.name] = it.top_atom
        elif name == "corelib":  # the space of the standard library's own declarations and rules
            it.library()
            it.tokens[target.name] = it.modules["top:corelib"]
        else:
            module = it.modules.get("top:" + name)
            if module is None:
                module = it.modules["top:" + name] = ModuleSpaceAtom(MemorySpace(), name)
            it.tokens[target.name] = module
        return [(UNIT, b)]
    if it.space_of(target) is not it.space:
        return [(_not_a_destination(it, atom), b)]
    if name == "top":  # hyperon: the top module becomes a dependency of `&self`, its own included
        it.depend(it.space, it.top_atom.value)
    return [(UNIT, b)]


def _module_file(it: Machine, name: Atom, label: str) -> str | Atom:
    """The file a (legal) module name resolves to; or the error message (hyperon's words where it has them)."""
    parts = label.removeprefix("top:").split(":")
    alias = it.aliases.get(parts[0])
    if alias is not None:  # a name `register-module!` gave: its file, or a module in its directory
        path = os.path.join(alias, *parts[1:])
        if os.path.isdir(path):  # (a module directory: its module.metta, or an empty module)
            inner = os.path.join(path, "module.metta")
            return inner if os.path.isfile(inner) else path
        if len(parts) > 1:
            path += ".metta"
        if os.path.isfile(path):
            return path
        return Symbol(f"Failed to resolve module top:{label.removeprefix('top:')}")
    base = _module_base(it, parts)
    bad = _module_name_error(label, base)
    if bad is not None:
        return Symbol(bad)
    rel = name.value if type(name) is String else str(name).replace(":", os.sep)
    folder = os.path.abspath(os.path.join(base, rel))
    if not rel.endswith(".metta") and os.path.isdir(folder):  # hyperon's module directory
        inner = os.path.join(folder, "module.metta")
        rel = os.path.join(rel, "module.metta") if os.path.isfile(inner) else rel
    elif not rel.endswith(".metta"):
        rel += ".metta"
    path = os.path.abspath(os.path.join(base, rel))
    if not (in_sandbox(it, path) or (base != it.base_dir and os.path.commonpath([path, base]) == base)):
        return String(f"import! may only read files under {it.base_dir} (use --allow-import PATH)")
    if not (os.path.isfile(path) or os.path.isdir(path)):  # hyperon's words, an unquoted message
        return Symbol(f"Failed to resolve module top:{name.value if type(name) is String else name}")
    return path


def _module_base(it: Machine, parts: list[str]) -> str:
    """The directory a module name resolves in: the importing module's; but where a name of several
    parts (`pkg:h`) finds nothing there and its first part is a module of the run's module tree (a
    parent the run loaded, `pkg` of an imported `pkg:deep`), hyperon resolves it in that tree: the
    run's directory."""
    if len(parts) < 2 or it.top_dir == it.base_dir or parts[0] not in it.module_names:
        return it.base_dir
    first = os.path.join(it.base_dir, parts[0])
    if os.path.isdir(first) or os.path.isfile(first + ".metta"):
        return it.base_dir
    return it.top_dir


def _module_items(path: str) -> Iterator[tuple[bool, Atom]]:
    """A module file's items as hyperon reads them (bad text raises ModuleTextError, hyperon's
    message); a directory (hyperon's module directory without a `module.metta`) has none."""
    if os.path.isdir(path):
        return iter(())
    with open(path, "rb") as f:
        return read_module(f.read())


def _error_text(err: Atom) -> Atom:
    """The message of an `(Error atom message)` as hyperon's `import!` reports a module's failure."""
    kids = err.children  # type: ignore[attr-defined]
    msg = kids[2] if len(kids) > 2 else err
    return Symbol(msg.value if type(msg) is String else str(msg))


#: hyperon 0.2.10's answer for a module named directly under the top module once its loading failed
NOT_FINISHED = Symbol("Attempt to access module before loader function has finished")


def _module(it: Machine, name: Atom, label: str, register: bool = False) -> ModuleSpaceAtom | Atom:
    """The space of the module a (legal) name resolves to, loaded once per run into a space of its
    own; or the error message (hyperon's words where it has them).  Like hyperon, a module named
    directly under the top module (`m`, not `dir:m`) whose loading failed is not loaded again by
    `import!` (`NOT_FINISHED`); `register-module!` (`register`) loads it again and marks nothing."""
    top = not register and it.self_atom is it.top_atom
    if top:
        _note_parents(it, label)
    path = _module_file(it, name, label)
    if not isinstance(path, str):
        return path
    module = it.modules.get(path)
    if module is None and not register and path in it.failed_modules:
        return NOT_FINISHED
    if module is None:  # load the module once per run, into a space of its own
        module = it.modules[path] = ModuleSpaceAtom(MemorySpace(), label)
        it.deps[id(module.value)] = []  # a module space (it depends on the standard library)
        sub = it.spawn(module.value, path if os.path.isdir(path) else os.path.dirname(path))
        sub.self_atom = sub.tokens["&self"] = module
        failed: Atom | None = None
        try:
            for bang, x in _module_items(path):
                if bang:  # like hyperon, a `!` whose value is an error fails the import with its message
                    bad = [r for r in sub.evaluate(x) if is_error(r)]
                    if bad:
                        failed = _error_text(bad[0])
                        break
                else:  # the module's tokens are read in its atoms, as hyperon's parser does (`&self`: its space)
                    sub.add_atom(module.value, sub.tokens_in(x))
        except ModuleTextError as e:  # bad text in the module: the import's error (hyperon's words), not the run's
            failed = Symbol(str(e))
        if failed is not None:  # not loaded: a later import of a `dir:m` tries again
            del it.modules[path]
            it.deps.pop(id(module.value), None)
            if not register and ":" not in label.removeprefix("top:") and label not in it.aliases:
                it.failed_modules.add(path)
            return failed
    if top:  # (named under the top module; a module's own imports are named under it)
        parts = label.removeprefix("top:").split(":")
        it.module_names.add(parts[0])
        root = it.aliases.get(parts[0])
        it.module_paths.add(os.path.join(it.base_dir, *parts) if root is None else os.path.join(root, *parts[1:]))
        it.module_paths.add(os.path.dirname(path) if os.path.basename(path) == "module.metta" else path)
    return module


def _note_parents(it: Machine, label: str) -> None:
    """hyperon loads the parents of `a:b:c` (the directories `a` and `a/b`) before the module itself,
    and keeps them loaded whether or not the module loads: they are in the run's module name tree."""
    parts = label.removeprefix("top:").split(":")
    if len(parts) < 2:
        return
    root = it.aliases.get(parts[0])
    if root is not None:
        it.module_names.add(parts[0])
        return
    for i in range(1, len(parts)):
        parent = os.path.join(it.base_dir, *parts[:i])
        if not os.path.isdir(parent):
            return
        if i == 1:
            it.module_names.add(parts[0])
        it.module_paths.add(parent)


def _plain_name(name: Atom, label: str) -> tuple[Atom, str]:
    """A module name as `import!` and `mod-space!` take it: one trailing `:` and a leading `top:`
    dropped (`sub:` is `sub`; `:` and `""` name the top module), the atom rebuilt to match."""
    plain = label[:-1] if label.endswith(":") else label
    plain = plain.removeprefix("top:") or "top"
    if plain == label:
        return name, label
    return (String(plain) if type(name) is String else Symbol(plain)), plain


def _legal_name(name: Atom) -> str | None:
    """A module name's text when hyperon 0.2.10 takes it as one (ASCII letters, digits, `-`, `_`,
    `:` separating parts); None otherwise."""
    label = name.value if type(name) is String else str(name)
    return None if any(not (c.isascii() and (c.isalnum() or c in "-_:")) for c in label) else label


@special("mod-space!", "(-> Atom SpaceType)", arity=1)
def _mod_space(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """The space of a module by name (`top`, the standard library's, or a file's, loaded if need be)."""
    name = atom.children[1]
    if type(name) in (Variable, Expression):
        return [(error(atom, Symbol("mod-space! expects a module name argument")), b)]
    label = _legal_name(name)
    if label is None:
        return [(error(atom, Symbol(f"Illegal module name: {name}")), b)]
    name, label = _plain_name(name, label)
    builtin = "" if label in it.aliases else label  # (a module `register-module!` named takes the name)
    if builtin == "top":
        return [(it.top_atom, b)]
    if builtin == "corelib":
        it.library()
        return [(it.modules["top:corelib"], b)]
    if builtin in BUILTIN_MODULES:
        module = it.modules.get("top:" + builtin)
        if module is None:
            module = it.modules["top:" + builtin] = ModuleSpaceAtom(MemorySpace(), builtin)
        return [(module, b)]
    got = _module(it, name, label)
    return [(got if isinstance(got, ModuleSpaceAtom) else error(atom, got), b)]
    yield  # pragma: no cover


@special("register-module!", "(-> Atom (->))", arity=1)
def _register_module(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """A module file (its name the file's, without `.metta`) or a directory of modules (`name:file`),
    by a path relative to the script, made importable by that name in this run."""
    x = atom.children[1]
    rel = x.value if type(x) is String else str(x)
    path = os.path.abspath(os.path.join(it.base_dir, rel))
    if not in_sandbox(it, path):
        return [(error(atom, String(f"register-module! may only read files under {it.base_dir} "
                                    "(use --allow-import PATH)")), b)]
    if os.path.isdir(path):
        name = os.path.basename(path.rstrip(os.sep))
    elif os.path.isfile(path) and path.endswith(".metta"):
        name = os.path.basename(path)[:-len(".metta")]
    else:  # (hyperon's words)
        return [(error(atom, Symbol(f"No module format able to interpret module at {rel}")), b)]
    if name in ("top", "self"):  # (hyperon's words: `self` names the top module there)
        return [(error(atom, Symbol("illegal module name: top")), b)]
    # like hyperon, a module is known by its path as written (joined to the script's directory): one
    # loaded from that path already gets the name as an alias, which must be new in the run's module
    # name tree (an import of `a:b` put `a` there); another path is a new module, which takes the name
    ident = os.path.join(it.base_dir, rel)
    if (ident in it.module_paths or ident.rstrip(os.sep) in it.module_paths) and name in it.module_names:
        return [(error(atom, Symbol(f"Attempt to create module alias with name that conflicts with existing module: "
                                    f"{name}")), b)]
    before = it.aliases.get(name)
    it.aliases[name] = path
    # like hyperon, the module is loaded now: one that fails gives its error here (and is not registered)
    got = _module(it, Symbol(name), name, register=True)
    if not isinstance(got, ModuleSpaceAtom):
        if before is None:
            del it.aliases[name]
        else:
            it.aliases[name] = before
        return [(error(atom, got), b)]
    it.module_names.add(name)
    it.module_paths.add(ident)
    return [(UNIT, b)]
    yield  # pragma: no cover


class _OwnAtoms:
    """A module space's own atoms without its dependencies or the library (`module-space-no-deps`):
    reads and writes go to the module's space itself."""

    def __init__(self, it: Machine, space: Any) -> None:
        self.it = it
        self.space = space

    def query(self, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS) -> Iterator[Bindings]:
        return iter(self.it.query(self.space, pattern, bindings, own=True))

    def atoms(self) -> Iterator[Atom]:
        return iter(self.it.atoms_of(self.space))

    def add(self, atom: Atom) -> None:
        self.it.add_atom(self.space, atom)

    def remove(self, atom: Atom) -> bool:
        return self.it.remove_atom(self.space, atom)

    def __len__(self) -> int:
        return len(self.it.atoms_of(self.space))


class _NoDepsSpaceAtom(SpaceAtom):
    """The space `module-space-no-deps` gives; prints as hyperon prints a module's own space."""

    __slots__ = ("label",)
    label: str

    def __init__(self, view: _OwnAtoms, label: str) -> None:
        super().__init__(view)
        object.__setattr__(self, "_hash", hash(("no-deps", id(view.space))))
        object.__setattr__(self, "label", label)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NoDepsSpaceAtom) and other.value.space is self.value.space

    __hash__ = SpaceAtom.__hash__

    def text(self) -> str:
        return f"GroundingSpace-top{':' if self.label else ''}{self.label}"


@special("module-space-no-deps", "(-> SpaceType SpaceType)", arity=1, checked=True)
def _module_space_no_deps(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """A module's space without what it imported (nor the standard library); another space itself."""
    out: list[Pair] = []
    for v, bb in (yield (atom.children[1], b)):
        if isinstance(v, ModuleSpaceAtom):
            out.append((_NoDepsSpaceAtom(_OwnAtoms(it, v.value), v.label), bb))
        elif isinstance(v, SpaceAtom):
            out.append((v, bb))
        else:
            out.append((error(Expression((atom.children[0], v)),
                              Symbol("module-space-no-deps expects a space as an argument")), bb))
    return out[::-1]  # (an argument's values last first, as an operation's)


@special("include", "(-> Atom %Undefined%)", arity=1)
def _include(it: Machine, atom: Expression, b: Bindings) -> Gen:
    """hyperon's `include`: a module file read into the current space itself (its atoms added with
    this space's tokens, its `!` expressions evaluated here, in order); the values of its last `!`."""
    name = atom.children[1]
    label = _legal_name(name)
    if label is None:
        return [(error(atom, Symbol(f"Illegal module name: {label or name}")), b)]
    if label in ("", ":"):  # (hyperon's words for these two)
        return [(error(atom, Symbol("module resource loader not available")), b)]
    if label.endswith(":"):
        return [(error(atom, Symbol(f"Invalid module name format: {label}")), b)]
    path = _module_file(it, name, label)
    if not isinstance(path, str):
        if type(path) is Symbol:  # (hyperon names the module as written here, without `top:`)
            path = Symbol(path.name.replace("module top:", "module ", 1))
        return [(error(atom, path), b)]
    if os.path.isdir(path):  # (hyperon's words)
        return [(error(atom, Symbol(f"no module.metta file found in {label.replace(':', '/')} dir module")), b)]
    last: list[Pair] = []
    top = it.space is it.top_atom.value
    # into a script's space, atoms go as the script's own do: `&self` kept as written, and an atom
    # a durable space held before this run began not added again (a script can be run twice)
    count = getattr(it.space, "count_path", None) if top and it.adds is not None else None
    items = _module_items(path)
    while True:
        try:
            item = next(items, None)
        except ModuleTextError:  # like hyperon, the file is read up to its bad text: no values
            return []
        if item is None:
            break
        bang, x = item
        if bang:
            last = yield (it.tokens_in(x), EMPTY_BINDINGS)
        elif count is not None and it.adds is not None:
            encoded = encode_with_names(x)
            if count(encoded[0], encoded[1]) <= it.adds.get((encoded[0], *encoded[1]), 0):
                it.add_atom(it.space, x, encoded)
        else:
            it.add_atom(it.space, x if top else it.tokens_in(x))
    return [(r, b) for r, _ in last]


def _optional_module(it: Machine, name: str) -> ModuleSpaceAtom:
    """The space of one of hyperon's optional modules, made once per run: its documentation (mettadb's
    texts) and, `json`'s, its type declarations, in hyperon's order (its rules, hyperon's code, are
    not there: mettadb computes those functions itself)."""
    key = "module:" + name
    module = it.modules.get(key)
    if module is None:
        space = MemorySpace()
        for x in module_atoms(name):
            space.add(x)
        module = it.modules[key] = ModuleSpaceAtom(space, name)
        it.deps[id(space)] = []  # a module space (it depends on the standard library)
    return module


def _import_optional(it: Machine, atom: Expression, b: Bindings, name: str) -> list[Pair]:
    """`import!` of one of hyperon's optional modules (`random`, `json`, `fileio`): into `&self`,
    its operations (and tokens, `&rng`) become known to the run; a fresh token names its space."""
    target = atom.children[1]
    if type(target) is Symbol and target.name not in it.tokens:
        it.tokens[target.name] = _optional_module(it, name)
        return [(UNIT, b)]
    if it.space_of(target) is not it.space:
        return [(_not_a_destination(it, atom), b)]
    if it.tokens.get(MODULES[name][0]) is not None:  # the first import: the names stop hiding
        for op in MODULES[name]:
            it.tokens.pop(op, None)
        it.tokens.update(module_tokens(name))
        it.invalidate()
    return [(UNIT, b)]


@special("import!", "(-> Atom Atom (->))", arity=2)
def _import(it: Machine, atom: Expression, b: Bindings) -> Gen:
    a = atom.children[1:]
    target, name = a
    label = name.value if type(name) is String else str(name)
    if any(not (c.isascii() and (c.isalnum() or c in "-_:")) for c in label):
        # hyperon 0.2.10's words: a module name is ASCII letters, digits, `-`, `_` (`:` separating parts)
        shown = it.tokens.get(target.name, target) if type(target) is Symbol else target
        part = next(p for p in label.split(":") if any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in p))
        return [(error(Expression((atom.children[0], shown, name)), Symbol(f"Illegal module name: {part}")), b)]
    name, label = _plain_name(name, label)
    builtin = "" if label in it.aliases else label  # (a module `register-module!` named takes the name)
    if builtin in MODULES:
        return _import_optional(it, atom, b, builtin)
    if builtin in BUILTIN_MODULES:
        return _import_builtin(it, atom, b, builtin)
    module = _module(it, name, label)
    if not isinstance(module, ModuleSpaceAtom):
        return [(error(atom, module), b)]
    if type(target) is Symbol and target.name not in it.tokens:  # a fresh token names the module's space
        it.tokens[target.name] = module
        return [(UNIT, b)]
    space: Any = it.space_of(target)
    if space is None or space is not it.space:
        return [(_not_a_destination(it, atom), b)]
    # as hyperon 0.2.10 does, the module's atoms stay in its own space, which `&self` depends on
    # from now on (a second import adds nothing): its queries and rules reach them, `get-atoms`
    # does not list them, `remove-atom` does not touch them, and a durable `&self` stores none
    it.depend(space, module.value)
    return [(UNIT, b)]
    yield  # pragma: no cover


