"""Patterns compiled for matching on bytes: tokens, constant runs and capture steps.

A compiled pattern knows its tokens, which tokens are variables, the
constant prefix a forward scan uses, the constant suffix a reverse-index scan
could use, and the steps that match a stored ground key on its bytes without
decoding it.  Nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from .atoms import Atom, Expression, Symbol, Variable
from .bindings import Bindings
from .encoding import NEW_VAR, atom_tokens, literal_token, symbol_token, varref_token
from .keys import const_prefix
from .layout import is_reversible

__all__ = [
    "COMMA",
    "Compiled",
    "Template",
    "clear_caches",
    "compiled",
    "conjuncts",
    "const_run",
    "is_conjunction",
    "template",
]

COMMA = Symbol(",")

CONST, NEW, SAME = 0, 1, 2
_ARITY_TOKENS = [bytes((n,)) for n in range(64)]
_NEW_VAR_B = bytes((NEW_VAR,))


def conjuncts(pattern: Atom) -> list[Atom] | None:
    """The parts of a conjunction `(, p1 ... pn)`; None for any other pattern."""
    if type(pattern) is Expression and pattern.children and pattern.children[0] == COMMA:
        return list(pattern.children[1:])
    return None


def is_conjunction(pattern: Atom) -> bool:
    """True for `(, ...)`."""
    return conjuncts(pattern) is not None


def _tokens(pattern: Atom) -> Any:
    """`atom_tokens`, with a fast path for flat expressions of symbols and variables."""
    if type(pattern) is Expression and len(pattern.children) < 64:
        kids = pattern.children
        out: list[tuple[bytes, Variable | None]] = [(_ARITY_TOKENS[len(kids)], None)]
        seen: list[Variable] = []
        for k in kids:
            tk = type(k)
            if tk is Symbol:
                out.append((symbol_token(k.name), None))  # type: ignore[attr-defined]
            elif tk is Variable:
                if k in seen:
                    out.append((varref_token(seen.index(k)), k))  # type: ignore[arg-type]
                else:
                    seen.append(k)  # type: ignore[arg-type]
                    out.append((_NEW_VAR_B, k))  # type: ignore[arg-type]
            else:
                return atom_tokens(pattern)
        return out
    return atom_tokens(pattern)


def const_run(token_vars: list[Variable | None] | tuple[Variable | None, ...], bound: set[Variable]) -> int:
    """How many leading tokens are constant once the `bound` variables are known."""
    n = 0
    for v in token_vars:
        if v is not None and v not in bound:
            break
        n += 1
    return n


class Compiled:
    """A pattern compiled for byte-level matching against ground keys.

    `steps` walk the key after the forward prefix: a constant run of bytes to
    compare, a new variable capturing one whole subterm, or a repeated variable
    whose subterm must equal an earlier capture.
    """

    __slots__ = ("fwd_prefix", "fwd_tokens", "ground", "head", "key", "prefix_only", "rev_prefix", "rev_tokens",
                 "steps", "token_vars", "tokens", "variables")

    def __init__(self, tokvars: Iterable[tuple[bytes, Variable | None]]) -> None:
        toks: list[bytes] = []
        steps: list[tuple[int, Any]] = []
        variables: list[Variable] = []
        pending: list[bytes] = []
        nf = -1
        token_vars: list[Variable | None] = []
        for tok, var in tokvars:
            toks.append(tok)
            token_vars.append(var)
            if var is None:
                pending.append(tok)
                continue
            if nf < 0:
                nf = len(toks) - 1
                pending = []
            elif pending:
                steps.append((CONST, b"".join(pending)))
                pending = []
            if var in variables:
                steps.append((SAME, variables.index(var)))
            else:
                variables.append(var)
                steps.append((NEW, var))
        if nf < 0:
            nf = len(toks)
        elif pending:
            steps.append((CONST, b"".join(pending)))
        self.steps = steps
        self.variables = variables
        self.ground = not variables
        self.tokens = toks
        self.token_vars = tuple(token_vars)
        self.key = b"".join(toks)
        #: the bytes before the first variable (a matching key starts with them)
        self.head = b"".join(toks[:nf])
        #: the constant prefix a forward scan uses (capped at the plain key size) and its token count
        self.fwd_prefix, self.fwd_tokens = const_prefix(toks[:nf]) if nf else (b"", 0)
        #: every stored ground key under the forward prefix matches: only distinct new variables follow
        self.prefix_only = self.fwd_tokens == nf and all(k == NEW for k, _ in steps)
        self.rev_prefix, self.rev_tokens = b"", 0
        if is_reversible(toks) and nf < len(toks):
            self.rev_prefix, self.rev_tokens = const_prefix(toks[:2] + toks[:1:-1])

    def match_key(self, path: bytes, start: int) -> list[bytes] | Literal[False] | None:
        """Captured subterm paths for the variables, None for no match, False when the
        path uses an extension tag (decode and unify instead); `path[:start]` is known equal."""
        pos = start
        caps: list[bytes] = []
        n = len(path)
        for kind, data in self.steps:
            if kind == CONST:
                if not path.startswith(data, pos):
                    return None
                pos += len(data)
                continue
            end = pos
            need = 1
            while need:
                if end >= n:
                    return None
                t = path[end]
                if t > 0xC0:
                    end += 1 + (t & 0x3F)
                    need -= 1
                elif t < 0x40:
                    end += 1
                    need += t - 1
                else:
                    return False  # an extension tag: the caller takes the general path
            if kind == NEW:
                caps.append(path[pos:end])
            elif path[pos:end] != caps[data]:
                return None
            pos = end
        return caps if pos == n else None


_COMPILED: dict[Any, Compiled] = {}


def compiled(pattern: Atom) -> Compiled:
    """The compiled form of a pattern (kept in a bounded cache: compiling is pure)."""
    c = _COMPILED.get(pattern)
    if c is None:
        if len(_COMPILED) >= 20_000:
            _COMPILED.clear()
        c = _COMPILED[pattern] = Compiled(_tokens(pattern))
    return c


class Template:
    """A pattern to be compiled once per binding of its variables, straight from tokens: the
    bound values' tokens take the variables' places (no resolved atom is built)."""

    __slots__ = ("pattern", "tokvars")

    def __init__(self, pattern: Atom) -> None:
        self.pattern = pattern
        self.tokvars: list[tuple[bytes, Variable | None]] = list(_tokens(pattern))

    def bind(self, bindings: Bindings) -> Compiled | None:
        """The pattern under `bindings`, compiled; None when a variable is bound to an expression
        or a value without a token (resolve and compile the atom instead)."""
        walk = bindings.walk
        toks: list[bytes] = []
        tvars: list[Variable | None] = []
        seen: list[Variable] = []
        for tok, var in self.tokvars:
            if var is None:
                toks.append(tok)
                tvars.append(None)
                continue
            w = walk(var)
            t = type(w)
            if t is Variable:
                if w in seen:
                    toks.append(varref_token(seen.index(w)))  # type: ignore[arg-type]
                else:
                    seen.append(w)  # type: ignore[arg-type]
                    toks.append(_NEW_VAR_B)
                tvars.append(w)  # type: ignore[arg-type]
                continue
            if t is Symbol:
                toks.append(symbol_token(w.name))  # type: ignore[attr-defined]
            elif t is Expression:
                return None
            else:
                try:
                    toks.append(literal_token(w))
                except TypeError:
                    return None
            tvars.append(None)
        key = (b"".join(toks), tuple(seen))
        c = _COMPILED.get(key)
        if c is None:
            if len(_COMPILED) >= 20_000:
                _COMPILED.clear()
            c = _COMPILED[key] = Compiled(zip(toks, tvars))
        return c


_TEMPLATES: dict[Atom, Template] = {}


def clear_caches() -> None:
    """Forget compiled patterns and templates (benchmarks start cold with it)."""
    _COMPILED.clear()
    _TEMPLATES.clear()


def template(pattern: Atom) -> Template:
    """The template of a pattern (cached like compiled patterns)."""
    t = _TEMPLATES.get(pattern)
    if t is None:
        if len(_TEMPLATES) >= 20_000:
            _TEMPLATES.clear()
        t = _TEMPLATES[pattern] = Template(pattern)
    return t

