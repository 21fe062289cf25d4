"""Patterns compiled for matching on bytes: tokens, constant runs and capture steps.

A compiled pattern knows its tokens, which tokens are variables, the
constant prefix a forward scan uses, the constant suffix a reverse-index scan
could use, and the steps that match a stored ground key on its bytes without
decoding it.  Nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from .atoms import Atom, Expression, Symbol, Variable
from .bindings import Bindings
from .encoding import NEW_VAR, atom_tokens, literal_token, same_number_tokens, split_tokens, symbol_token, varref_token
from .keys import MAX_PLAIN, const_prefix, unreverse_key
from .layout import is_reversible

__all__ = [
    "BATCH",
    "COMMA",
    "ByteProgram",
    "Compiled",
    "Template",
    "byte_program",
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
        parts = list(pattern.children[1:])
        if any(type(p) is Expression and p.children and p.children[0] == COMMA for p in parts):
            flat: list[Atom] = []  # a conjunction inside a conjunction is its conjuncts (as hyperon reads it)
            stack = parts[::-1]
            while stack:
                p = stack.pop()
                if type(p) is Expression and p.children and p.children[0] == COMMA:
                    stack.extend(p.children[:0:-1])
                else:
                    flat.append(p)
            return flat
        return parts
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
                 "shape", "steps", "token_vars", "tokens", "variables")

    def __init__(self, tokvars: Iterable[tuple[bytes, Variable | None]]) -> None:
        toks: list[bytes] = []
        steps: list[tuple[int, Any]] = []
        variables: list[Variable] = []
        where: dict[Variable, int] = {}  # (variables' positions: a pattern may have thousands)
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
            k = where.get(var)
            if k is not None:
                steps.append((SAME, k))
            else:
                where[var] = len(variables)
                variables.append(var)
                steps.append((NEW, var))
        if nf < 0:
            nf = len(toks)
        elif pending:
            steps.append((CONST, b"".join(pending)))
        only_new = True
        for k, _ in steps:
            if k != NEW:
                only_new = False
                break
        self.steps = steps
        #: what a planner keeps of it (the planner's to fill in)
        self.shape: Any = None
        self.variables = variables
        self.ground = not variables
        self.tokens = toks
        self.token_vars = tuple(token_vars)
        self.key = b"".join(toks)
        #: the bytes before the first variable (a matching key starts with them)
        self.head = b"".join(toks[:nf])
        #: the constant prefix a forward scan uses (capped at the plain key size) and its token count
        if len(self.head) <= MAX_PLAIN:  # (the tokens before the first variable: no variable to stop at)
            self.fwd_prefix, self.fwd_tokens = self.head, nf
        else:
            self.fwd_prefix, self.fwd_tokens = const_prefix(toks[:nf])
        #: every stored ground key under the forward prefix matches: only distinct new variables follow
        self.prefix_only = self.fwd_tokens == nf and only_new
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
            elif path[pos:end] != caps[data] and not same_number_tokens(path[pos:end], caps[data]):
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

    __slots__ = ("memo", "pattern", "tokvars", "vars")

    def __init__(self, pattern: Atom) -> None:
        self.pattern = pattern
        self.tokvars: list[tuple[bytes, Variable | None]] = list(_tokens(pattern))
        self.vars = tuple(dict.fromkeys(v for _, v in self.tokvars if v is not None))
        #: the compiled pattern by the values of `vars` (a join's inner step binds them alike again and again)
        self.memo: dict[tuple[Atom, ...], Compiled | None] = {}

    def bind(self, bindings: Bindings) -> Compiled | None:
        """The pattern under `bindings`, compiled; None when a variable is bound to an expression
        or a value without a token (resolve and compile the atom instead)."""
        walk = bindings.walk
        values = tuple([walk(v) for v in self.vars])
        memo = self.memo
        try:
            if values in memo:
                return memo[values]
        except TypeError:  # (a value that cannot be hashed)
            return self._bind(walk)
        if len(memo) >= 1024:
            memo.clear()
        c = memo[values] = self._bind(walk)
        return c

    def _bind(self, walk: Callable[[Atom], Atom]) -> Compiled | None:
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



# ---------------------------------------------------------------- joins on bytes
#
# A conjunction (or one pattern) runs as a pipeline of steps over *rows*: tuples of
# captured subterm paths, one per variable bound so far.  Each step is a generator
# compiled from the shape of its pattern (which tokens are constants, which are
# variables bound by earlier steps, new or repeated); the constants are bound per
# query.  A step takes batches of input rows and, per row, builds its key prefix by
# concatenating bytes, scans (or looks up) and slices the new captures out of each
# matching key.  No atom is built; the last step wraps each row in a `LazyBindings`.

MAX_KEY = 494  # keys.MAX_PLAIN: a longer prefix or key is hashed (the general path handles it)
BATCH = 256    # rows a step collects before handing them on

LIT, REF, NEWV, SAMEV = "L", "R", "N", "S"


def subterm_end(path: bytes, pos: int) -> int:
    """The offset just past the subterm at `pos`: -1 for an extension tag, -2 when the path ends first."""
    n = len(path)
    need = 1
    while need:
        if pos >= n:
            return -2
        t = path[pos]
        if t > 0xC0:
            pos += 1 + (t & 0x3F)
            need -= 1
        elif t < 0x40:
            pos += 1
            need += t - 1
        elif t >= 0x80:
            return -2  # a variable: stored ground keys have none
        else:
            return -1
    return pos if pos <= n else -2


def reversed_tokens(sub: bytes) -> bytes:
    """The tokens of a subterm path in reverse order (how the reverse index writes an argument)."""
    t = sub[0]
    if t > 0xC0 and len(sub) == 1 + (t & 0x3F):
        return sub
    return b"".join(reversed(split_tokens(sub)))


class StepShape:
    """One step of a byte program: its items (`L` constant token, `R j` row slot, `N j` new capture,
    `S j` repeat of a capture of this step) and its access path."""

    __slots__ = ("access", "first_new", "items", "last_new", "lead", "new")

    def __init__(self, items: tuple[tuple[str, int], ...], access: str) -> None:
        self.items = items
        self.access = access  # "lookup", "forward" or "reverse"
        kinds = [k for k, _ in items]
        self.first_new = kinds.index(NEWV) if NEWV in kinds else len(items)
        self.last_new = max((i for i, k in enumerate(kinds) if k in (NEWV, SAMEV)), default=-1)
        self.new = [j for k, j in items if k == NEWV]
        #: constant tokens before the first variable
        self.lead = next((i for i, k in enumerate(kinds) if k != LIT), len(items))


def _chunks(items: list[tuple[str, int]], consts: list[tuple[int, ...]], reverse: bool = False
            ) -> tuple[str, bool]:
    """A Python expression concatenating `items` (constants merged into one name each), and whether
    it reads the row; each merged constant's recipe (the literal tokens it joins) goes to `consts`."""
    parts: list[str] = []
    run: list[int] = []
    uses_row = False

    def flush() -> None:
        if run:
            consts.append(tuple(run))
            parts.append(f"K{len(consts) - 1}")
            run.clear()

    for k, j in items:
        if k == LIT:
            run.append(j)
        else:
            flush()
            uses_row = True
            parts.append(f"_rt(row[{j}])" if reverse else (f"row[{j}]" if k == REF else f"c{j}"))
    flush()
    return (" + ".join(parts) if parts else "b''"), uses_row


def _step_source(k: int, s: StepShape, consts: list[tuple[int, ...]], last: bool) -> str:
    """The generator of one step (source text); the recipes of its constants go to `consts`."""
    items = list(s.items)
    L: list[str] = []

    def emit(line: str, depth: int) -> None:
        L.append("    " * depth + line)

    emit("def step(batches, X):", 0)
    emit("cur = X.cur; rcur = X.rcur; get = X.get; adb = X.adb; slow = X.slow; fbrow = X.fbrow", 1)
    emit("W = X.wrap; lay = X.lay; R = X.ready; nk = 0; nr = 0; out = []", 1)
    consts_at = len(L)  # the constants are unpacked here once their number is known
    emit("try:", 1)
    emit("for rows in batches:", 2)
    emit("for row in rows:", 3)
    d = 4
    new_caps = [f"c{j}" for j in s.new]
    if not new_caps:
        tup = "row"
    elif s.new[0] <= 6:  # a short row: one tuple built from its slots (no intermediate tuple)
        tup = "(" + "".join(f"row[{i}], " for i in range(s.new[0])) + ", ".join(new_caps) + ",)"
    else:
        tup = "row + (" + ", ".join(new_caps) + ",)"
    if last:
        tup = f"W(lay, {tup})"
    if s.access == "lookup":
        expr, dyn = _chunks(items, consts)
        emit(f"key = {expr}", d)
        if dyn:
            emit(f"if len(key) > {MAX_KEY}: fbrow({k}, row); continue", d)
        emit("raw = get(key, None, adb)", d)
        emit("if raw is None: continue", d)
        emit("nk += 1", d)
        loop_d = d
        prefix_var = "key"
    else:
        pre, pdyn = _chunks(items[:s.first_new], consts)
        emit(f"p = {pre}", d)
        if pdyn:
            emit(f"if len(p) > {MAX_KEY}: fbrow({k}, row); continue", d)
        emit("lp = len(p)", d)
        if s.access == "forward":
            emit("if not cur.set_range(p): continue", d)
            emit("for key, raw in cur:", d)
            emit("if not key.startswith(p): break", d + 1)
            emit("nk += 1", d + 1)
        else:
            suffix = items[s.last_new + 1:]
            rp, rdyn = _chunks(items[:2] + suffix[::-1], consts, reverse=True)
            # items[:2] are constant tokens, so _rt is applied to row slots only
            emit(f"rp = {rp}", d)
            if rdyn:
                emit(f"if len(rp) > {MAX_KEY}: fbrow({k}, row); continue", d)
            tail, _ = _chunks(suffix, consts)
            head, _ = _chunks(items[:2], consts)
            emit(f"tail = {tail}; H = {head}; lrp = len(rp)", d)
            # `lp` (the forward prefix's length) is set above
            emit("if not rcur.set_range(rp): continue", d)
            emit("for rkey in rcur.iternext(values=False):", d)
            emit("if not rkey.startswith(rp): break", d + 1)
            emit("nk += 1", d + 1)
            emit("t = rkey[lrp] if len(rkey) > lrp else 0", d + 1)
            emit("key = H + rkey[lrp:] + tail if t > 0xC0 and len(rkey) == lrp + 1 + (t & 63) else _unrev(rkey)",
                 d + 1)
            emit("raw = get(key, None, adb)", d + 1)
            emit("if raw is None: continue", d + 1)
        loop_d = d + 1
        prefix_var = "p"
    # the key's checks and captures (`continue`: no match), written once per copy-count branch
    ops: list[tuple[str, int]] = []

    def op(line: str, depth: int) -> None:
        ops.append((line, depth))

    if s.access != "lookup":
        if s.access == "reverse":
            op("if not key.startswith(p): continue", 0)
        rest = items[s.first_new:]
        if len(rest) == 1 and s.access == "forward":  # one capture after the prefix: the rest of the key
            op(f"c{rest[0][1]} = key[lp:]", 0)
        else:
            op("pos = lp", 0)
            i = 0
            closed = False
            while i < len(rest):
                kd, j = rest[i]
                if kd in (LIT, REF):
                    run = []
                    while i < len(rest) and rest[i][0] in (LIT, REF):
                        run.append(rest[i])
                        i += 1
                    expr, _ = _chunks(run, consts)
                    op(f"x = {expr}", 0)
                    op("if not key.startswith(x, pos): continue", 0)
                    op("pos += len(x)", 0)
                    continue
                i += 1
                if kd == NEWV and i == len(rest):
                    op(f"c{j} = key[pos:]", 0)
                    closed = True
                    break
                op("if pos >= len(key): continue", 0)
                op("t = key[pos]", 0)
                op("if t > 0xC0: q = pos + 1 + (t & 63)", 0)
                op("else:", 0)
                op("q = _end(key, pos)", 1)
                op("if q < 0:", 1)
                op(f"if q == -1: slow({k}, row, key, raw, {prefix_var})", 2)
                op("continue", 2)
                if kd == NEWV:
                    op(f"c{j} = key[pos:q]", 0)
                else:
                    op(f"if key[pos:q] != c{j} and not _sn(key[pos:q], c{j}): continue", 0)
                op("pos = q", 0)
            if not closed:
                op("if pos != len(key): continue", 0)
    e = loop_d
    # the record value, tested as `query._match_one` does (layout.Record, format 3): a bare sequence
    # number (msgpack uint32 `0xCE`, past 2**32 uint64, below FIRST_SEQ a shorter uint) is one copy of a
    # ground atom with a plain key; `[count, seq]` (`0x92`, a fixint count) is count copies; any other
    # record (variables, a hashed key, a large count) is the general path's
    emit("t = raw[0]", e)
    emit("if t == 0xCE or t < 0x80 or 0xCB < t < 0xD0:", e)
    for line, dd in ops:
        emit(line, e + 1 + dd)
    emit(f"out.append({tup})", e + 1)
    emit("elif t == 0x92 and raw[1] < 0x80:", e)
    for line, dd in ops:
        emit(line, e + 1 + dd)
    emit(f"out.extend([{tup}] * raw[1])", e + 1)
    emit(f"else: slow({k}, row, key, raw, {prefix_var})", e)
    emit(f"if len(out) >= {BATCH}:", d)
    if last:  # results of the general path join the last step's
        emit("if R: out += R; R.clear()", d + 1)
    emit("nr += len(out); yield out; out = []", d + 1)
    if last:
        emit("if R: out += R; R.clear()", 2)
    emit("if out:", 2)
    emit("nr += len(out); yield out", 3)
    emit("finally:", 1)
    emit(f"X.done({k}, nk, nr)", 2)
    if consts:
        L.insert(consts_at, "    " + "".join(f"K{i}, " for i in range(len(consts))) + f"= X.consts[{k}]")
    return "\n".join(L) + "\n"


class ByteProgram:
    """A conjunction compiled to byte steps: the generators (shared by every query of the same shape),
    the constants of this query, and the row layout after each step."""

    __slots__ = ("by_name", "consts", "fns", "names", "patterns", "reverse", "shapes", "static", "vx_clear",
                 "vx_seen")

    def __init__(self, fns: list[Any], consts: list[list[bytes]], names: list[dict[Variable, int]],
                 patterns: tuple[Atom, ...], shapes: list[StepShape], static: list[bytes]) -> None:
        self.fns = fns
        #: per step, the constant bytes before its first variable (whatever the rows hold)
        self.static = static
        #: some step reads the reverse index
        self.reverse = any(s.access == "reverse" for s in shapes)
        #: the query layer's note: no stored atom with variables can match a step (for the `vx_seen` mirror)
        self.vx_seen: object = None
        self.vx_clear = False
        self.consts = consts
        #: variable -> row position after each step
        self.names = names
        #: name -> row position after the last step
        self.by_name = {v.name: i for v, i in names[-1].items()} if names else {}
        self.patterns = patterns
        self.shapes = shapes


_SHAPE_FNS: dict[Any, list[tuple[Any, list[tuple[int, ...]]]]] = {}
_PROGRAMS: dict[Any, ByteProgram | None] = {}


def _step_items(tv: Iterable[tuple[bytes, Variable | None]], names: dict[Variable, int]
                ) -> tuple[list[tuple[str, int]], list[bytes], dict[Variable, int]]:
    items: list[tuple[str, int]] = []
    lits: list[bytes] = []
    local: dict[Variable, int] = {}
    for tok, var in tv:
        if var is None:
            items.append((LIT, len(lits)))
            lits.append(tok)
        elif var in names:
            items.append((REF, names[var]))
        elif var in local:
            items.append((SAMEV, local[var]))
        else:
            local[var] = len(names) + len(local)
            items.append((NEWV, local[var]))
    return items, lits, local


def _access(items: tuple[tuple[str, int], ...], reversible: bool, kind: str | None) -> str:
    kinds = [k for k, _ in items]
    if NEWV not in kinds:
        return "lookup"
    last_var = max(i for i, k in enumerate(kinds) if k in (NEWV, SAMEV))
    suffix = len(items) - last_var - 1
    if not suffix or kind == "forward" or not reversible:
        return "forward"
    if kind == "reverse":
        return "reverse"
    fwd = kinds.index(NEWV)
    return "reverse" if kind is None and 2 + suffix > fwd else "forward"


_STEP_SHAPES: dict[Any, StepShape] = {}


def _step_shape(items: tuple[tuple[str, int], ...], lits: list[bytes], kind: str | None) -> StepShape:
    """The (cached) shape of a step: its items, and its access from the plan's kind."""
    # the reverse index holds `(h a1 .. an)`, n >= 2, symbol head: known from the first two constants
    reversible = (len(items) >= 4 and items[0][0] == LIT and items[1][0] == LIT
                  and 3 <= lits[items[0][1]][0] < 0x40 and lits[items[1][1]][0] > 0xC0)
    key = (items, kind, reversible)
    s = _STEP_SHAPES.get(key)
    if s is None:
        if len(_STEP_SHAPES) >= 20_000:
            _STEP_SHAPES.clear()
        s = _STEP_SHAPES[key] = StepShape(items, _access(items, reversible, kind))
    return s


def byte_program(patterns: tuple[Atom, ...], kinds: tuple[str | None, ...]) -> ByteProgram | None:
    """The byte program of patterns run in this order (with each step's planned access), or None when
    some pattern cannot run on bytes (a value without a token, a constant key past the plain size)."""
    key = (patterns, kinds)
    got = _PROGRAMS.get(key, False)
    if got is not False:
        return got  # type: ignore[return-value]
    if len(_PROGRAMS) >= 20_000:
        _PROGRAMS.clear()
    prog = _PROGRAMS[key] = _build_program(patterns, kinds)
    return prog


def _build_program(patterns: tuple[Atom, ...], kinds: tuple[str | None, ...]) -> ByteProgram | None:
    names: dict[Variable, int] = {}
    shapes: list[StepShape] = []
    all_lits: list[list[bytes]] = []
    layouts: list[dict[Variable, int]] = []
    static: list[bytes] = []
    for pat, kind in zip(patterns, kinds):
        try:
            tv = _tokens(pat)
        except (TypeError, ValueError):
            return None
        items, lits, local = _step_items(tv, names)
        s = _step_shape(tuple(items), lits, kind)
        static.append(b"".join(lits[:s.lead]))
        shapes.append(s)
        all_lits.append(lits)
        if local:
            names = {**names, **local}
        layouts.append(names)
    shape_key = tuple(shapes)  # step shapes are cached: identity is equality
    fns = _SHAPE_FNS.get(shape_key)
    if fns is None:  # a new shape: generate and compile its steps, and keep how its constants are made
        fns = []
        for k, s in enumerate(shapes):
            recipe: list[tuple[int, ...]] = []
            src = _step_source(k, s, recipe, k == len(shapes) - 1)
            ns: dict[str, Any] = {"_end": subterm_end, "_rt": reversed_tokens, "_unrev": unreverse_key,
                                  "_sn": same_number_tokens}
            exec(compile(src, f"<byte step {k}>", "exec"), ns)
            fns.append((ns["step"], recipe))
        if len(_SHAPE_FNS) >= 2_000:
            _SHAPE_FNS.clear()
        _SHAPE_FNS[shape_key] = fns
    consts: list[list[bytes]] = []
    for (_, recipe), lits in zip(fns, all_lits):
        c = [b"".join([lits[j] for j in r]) for r in recipe]
        for v in c:
            if len(v) > MAX_KEY:
                return None
        consts.append(c)
    return ByteProgram([f for f, _ in fns], consts, layouts, patterns, shapes, static)

