"""The bulk transcoder: MeTTa text straight to byte paths, never building atoms.

One flat ASCII fact per line (the common case) is matched by one `fullmatch`
and split with `bytes.split`; everything else goes through a `findall`
tokenizer with an explicit stack.  On any anomaly it re-reads the input with
the precise scanner (`parser.parse_file`), which names line and column.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import IO

from .encoding import NEW_VAR, arity_token, varref_token, word_token
from .errors import ParseError
from .parser import BLOCK_SIZE, Source, line_blocks, open_binary, parse_file
from .tokens import CLOSE, COMMENT, OPEN, STRING, UNTERMINATED_STRING, WHITESPACE_CHARS, WORD

__all__ = ["FastKeys", "MalformedRange", "Numbered", "Transcoded", "transcode_file", "transcode_range"]

#: where a transcoder puts the keys of the lines it takes in bulk (see `transcode_file`):
#: (primary keys, reverse-index keys, called with how many atoms after each block)
FastKeys = tuple[list[bytes], list[bytes], Callable[[int], None]]


class Numbered:
    """Insertion numbers of a bulk transcode (`keys`), in input order: its atoms get `first`,
    `first + 1`, ...; the primary keys it appends itself end in their number's suffix
    `pack(tag, n)` (`bulk.Numbering`), and `at` is the number of the atom last yielded."""

    __slots__ = ("at", "first", "pack", "tag")

    def __init__(self, pack: Callable[[int, int], bytes], tag: int, first: int) -> None:
        self.pack = pack
        self.tag = tag
        self.first = first
        self.at = first - 1


class Transcoded:
    """Counters of one transcoded input (filled while iterating)."""

    __slots__ = ("atoms", "bangs", "bytes_read", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.atoms = 0
        self.bangs = 0
        self.bytes_read = 0


class _Anomaly(Exception):
    pass


def transcode_file(
    src: Source,
    stats: Transcoded | None = None,
    *,
    block_size: int = BLOCK_SIZE,
    keys: FastKeys | None = None,
    number: Numbered | None = None,
) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    """Stream `(path, variable_names, tokens)` for every non-`!` atom of a file.

    `tokens` is the path cut into nodes (for the store's reverse index) when the
    atom is an expression of arity >= 3 whose head is a symbol, else None.
    `!` expressions are skipped and counted in `stats.bangs`.  With `keys`,
    runs of top-level lines that are flat expressions of 1-5 short words
    (`(parent P1 "Ann")`), or short nested ones of plain words
    (`(Evaluation (Predicate likes) (List P1 P2))`), are not yielded: their primary keys and reverse
    keys are appended to `keys[0]` and `keys[1]` a block at a time, and
    `keys[2](n)` is called after each block with how many.  With `number`
    too, those keys end in their atoms' insertion numbers (see `Numbered`;
    every atom counts, in input order, taken in bulk or yielded).  On bad input the
    file is re-read by the precise scanner and its ParseError is raised; a
    non-seekable stream is spooled to a temporary file first so that can happen.
    """
    stream, name, close = open_binary(src)
    if not close and not _seekable(stream):
        spool = tempfile.TemporaryFile()
        while chunk := stream.read(block_size):
            spool.write(chunk)
            if b"\x00" in chunk:  # an error there: what follows is never read (`load - < /dev/zero`)
                break
        spool.seek(0)
        stream, close = spool, True
    st = stats if stats is not None else Transcoded(name)
    try:
        start = stream.tell()
        try:
            yield from _transcode(stream, name, st, block_size, keys, number)
        except _Anomaly:
            stream.seek(start)
            for _ in parse_file(stream, block_size=block_size, name=name):
                pass
            raise ParseError("malformed input", 1, 1, name) from None
    finally:
        if close:
            stream.close()


class MalformedRange(Exception):
    """A byte range that does not transcode on its own (bad input, or not cut at a top-level atom)."""


class _RangeReader:
    """Reads bytes [start, end) of a file, as a stream."""

    def __init__(self, f: IO[bytes], end: int) -> None:
        self._f = f
        self._left = end - f.tell()

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._f.read(self._left if n < 0 else min(n, self._left))
        self._left -= len(data)
        return data


def transcode_range(
    path: str, start: int, end: int, stats: Transcoded | None = None, *, block_size: int = BLOCK_SIZE,
    keys: FastKeys | None = None, number: Numbered | None = None,
) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    """`transcode_file` over bytes [start, end) of a file, for parallel loads.

    The range must begin and end at top-level atom boundaries; when it does
    not, or the input is bad, MalformedRange is raised (without a position:
    the caller re-reads the whole file with `transcode_file` to report one).
    """
    st = stats if stats is not None else Transcoded(path)
    with open(path, "rb") as f:
        f.seek(start)
        try:
            yield from _transcode(_RangeReader(f, end), path, st, block_size, keys, number)  # type: ignore[arg-type]
        except _Anomaly:
            raise MalformedRange(f"{path}: bytes {start}-{end}") from None


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False


_MAX_CACHE = 100_000
#: blocks of a bulk (`keys`) transcode: its caller checks its memory budget and reports progress after each
_KEYS_BLOCK = 32 << 10
_ARITY = [arity_token(n) for n in range(64)]


def _encode_words(words: list[str], cache: dict[str, bytes], varidx: dict[str, int], varnames: list[str]) -> list[bytes]:
    """Tokens of scanned words; fills variable numbering in place."""
    out = []
    for w in words:
        if w[0] > "@":
            b = w.encode()
            if len(b) < 64:
                out.append(_SYM[len(b)] + b)
                continue
        elif w[0] == "$":
            k = varidx.get(w)
            if k is None:
                varidx[w] = len(varnames)
                varnames.append(w[1:])
                out.append(b"\xc0")
            else:
                out.append(varref_token(k))
            continue
        t = cache.get(w)
        if t is None:
            try:
                t = word_token(w)
            except ValueError:
                raise _Anomaly from None
            assert t is not None
            if w[0] != '"':
                if len(cache) >= _MAX_CACHE:
                    cache.clear()
                cache[w] = t
        out.append(t)
    return out


def _transcode(
    stream: IO[bytes], name: str, st: Transcoded, block_size: int, keys: FastKeys | None = None,
    number: Numbered | None = None,
) -> Iterator[tuple[bytes, list[str] | None, list[bytes] | None]]:
    cache: dict[str, bytes] = {}
    bcache: dict[bytes, bytes] = {}
    simple = _SIMPLE_LINE.fullmatch
    simple_string = _SIMPLE_STRING_LINE.fullmatch
    findall = _FLAT_RE.findall
    sym = _SYM
    arity = _ARITY

    def btok(w: bytes) -> bytes:
        b = bcache.get(w)
        if b is None:
            b = word_token(w.decode())
            if b is None:
                raise _Anomaly
            if len(bcache) >= _MAX_CACHE:
                bcache.clear()
            bcache[w] = b
        return b

    shapes: dict[bytes, tuple[bytes, bytes | None]] = {}  # of nested lines (`_nested_keys`)
    parts: list[bytes] = []  # tokens of the atom being built
    opens: list[int] = []  # index in parts of each open '(' placeholder
    counts: list[int] = []  # children seen so far at each open level
    varnames: list[str] = []
    varidx: dict[str, int] = {}
    bang = False
    pending = ""
    lines_of = _LINES.findall
    e = b""
    if keys is not None:
        block_size = min(block_size, _KEYS_BLOCK)
    # k: the number of the next atom (taken in bulk or yielded), in input order; nb.at: the last yielded
    nb = number if number is not None else Numbered(_no_suffix, 0, 0)
    k = nb.first
    for bblock, last in _byte_blocks(stream, name, block_size):
        st.bytes_read += len(bblock)
        # each with its atom's number
        fast: list[tuple[bytes, bytes, bytes, int]] = []
        fast3: list[tuple[bytes, bytes, bytes, int]] = []
        fast3n: list[tuple[bytes, bytes, bytes, int]] = []
        nested: list[tuple[bytes, int]] = []
        if keys is not None:
            rows: list[tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes]] = lines_of(bblock)
            rows.pop()  # the empty match at the end (a line the per-line path does not see)
        else:
            lines = bblock.split(b"\n")
            if not lines[-1]:
                lines.pop()  # the block ends with a newline
            rows = [(e, e, e, e, e, e, e, e, line) for line in lines]
        for x, y, z, f, b, p, q, nest, line in rows:
            if x or b or p or nest:  # a line taken in bulk (`_fast_keys`, `_nested_keys`)
                if not counts and not pending and not bang:
                    if z:
                        fast3.append((x, y, z, k))
                    elif x:
                        fast3n.append((x, y, f, k))
                    elif nest:
                        nested.append((nest, k))
                    else:
                        fast.append((b, p, q, k))
                    k += 1
                    continue
                if x:
                    body = x + b" " + y + b" " + (z or f)
                elif b or p:
                    body = b or p + b" " + q
                else:
                    body = nest
                line = b"(" + body + b")"
            if not counts and not pending and not bang:
                m = simple(line)
                if m is not None:
                    # the common case: one flat ASCII expression on its own line
                    ws = m[1].split()
                    try:
                        enc = [arity[len(ws)]] + [sym[len(w)] + w if w[0] > 64 else btok(w) for w in ws]
                    except (IndexError, TypeError):
                        pass
                    else:
                        st.atoms += 1
                        nb.at = k
                        k += 1
                        yield b"".join(enc), None, (enc if len(enc) > 3 and enc[1][0] > 0xC0 else None)
                        continue
                elif not line or line.isspace():
                    continue
                else:
                    m = simple_string(line)
                    if m is not None:
                        # one flat line ending in a plain string literal: `(name P1 "Ann")`
                        ws = m[1].split()
                        strtok = m[2]
                        try:
                            enc = [arity[len(ws) + 1]] + [sym[len(w)] + w if w[0] > 64 else btok(w) for w in ws]
                            enc.append(sym[len(strtok)] + strtok)
                        except (IndexError, TypeError):
                            pass
                        else:
                            st.atoms += 1
                            nb.at = k
                            k += 1
                            yield b"".join(enc), None, (enc if len(enc) > 3 and enc[1][0] > 0xC0 else None)
                            continue
            text = line.decode()
            if pending:
                text = pending + "\n" + text
                pending = ""
            items = findall(text)
            if ("", '"') in items or ("", "\x00") in items:
                if ("", "\x00") not in items:
                    pending = text
                    continue
                raise _Anomaly
            for body, tok in items:
                if tok:
                    c = tok[0]
                    if c == "(":
                        if counts:
                            counts[-1] += 1
                        opens.append(len(parts))
                        parts.append(b"")
                        counts.append(0)
                        continue
                    if c == ")":
                        if not opens:
                            raise _Anomaly
                        n = counts.pop()
                        parts[opens.pop()] = arity[n] if n < 64 else arity_token(n)
                        if counts:
                            continue
                    elif c == ";":
                        continue
                    else:
                        if tok == "!" and not counts:
                            bang = True
                            continue
                        parts.extend(_encode_words([tok], cache, varidx, varnames))
                        if counts:
                            counts[-1] += 1
                            continue
                else:
                    # a flat expression: no nested parentheses, strings or comments inside
                    words = body.split()
                    n = len(words)
                    if counts:
                        counts[-1] += 1
                    parts.append(arity[n] if n < 64 else arity_token(n))
                    parts.extend(_encode_words(words, cache, varidx, varnames))
                    if counts:
                        continue
                # a top-level atom is complete
                if bang:
                    st.bangs += 1
                    bang = False
                else:
                    st.atoms += 1
                    nb.at = k
                    k += 1
                    tokens = parts if len(parts) > 3 and 3 <= parts[0][0] < 64 and parts[1][0] > 0xC0 else None
                    yield b"".join(parts), (varnames if varnames else None), tokens
                parts = []
                if varnames:
                    varnames = []
                    varidx = {}
        if fast or fast3 or fast3n or nested:
            assert keys is not None
            t, a3 = _SYM, _ARITY[3]
            if number is not None:
                pack, tag = number.pack, number.tag
                keys[0].extend([b"".join((a3, t[len(x)], x, t[len(y)], y, t[len(z)], z, pack(tag, i)))
                                for x, y, z, i in fast3])
            else:
                keys[0].extend([b"".join((a3, t[len(x)], x, t[len(y)], y, t[len(z)], z)) for x, y, z, _ in fast3])
            keys[1].extend([b"".join((a3, t[len(x)], x, t[len(z)], z, t[len(y)], y)) for x, y, z, _ in fast3])
            if fast3n:
                bget = bcache.get
                three = [(t[len(x)] + x, t[len(y)] + y, bget(f) or btok(f), i) for x, y, f, i in fast3n]
                if number is not None:
                    keys[0].extend([b"".join((a3, x, y, f, pack(tag, i))) for x, y, f, i in three])
                else:
                    keys[0].extend([a3 + x + y + f for x, y, f, _ in three])
                keys[1].extend([a3 + x + f + y for x, y, f, _ in three])
            if nested:
                _nested_keys(nested, keys[0], keys[1], btok, shapes, nb)
            n = _fast_keys(fast, keys[0], keys[1], btok, number) + len(fast3) + len(fast3n) + len(nested)
            st.atoms += n
            keys[2](n)
    if opens or bang or pending:
        raise _Anomaly


def _no_suffix(tag: int, n: int) -> bytes:
    return b""


def _fast_keys(lines: list[tuple[bytes, bytes, bytes, int]], akeys: list[bytes], rkeys: list[bytes],
               btok: Callable[[bytes], bytes], number: Numbered | None = None) -> int:
    """Append the keys of top-level lines (their groups in `_LINES`) to `akeys` and `rkeys`.

    As the per-line path encodes them: a word that starts above `@` or is a
    plain string literal is its length tag and its text; any other (numbers)
    is encoded by `btok`.  Returns how many atoms.  With `number`, each
    primary key ends in its line's number (the last item of each line).
    """
    if not lines:
        return 0
    t, a = _SYM, _ARITY
    toks = [[t[len(w)] + w if w[0] > 64 or w[0] == 34 else btok(w) for w in ws]
            for ws in [b.split() if b else [*p.split(), q] for b, p, q, _ in lines]]
    if number is not None:
        pack, tag = number.pack, number.tag
        akeys += [b"".join((a[len(k)], *k, pack(tag, line[3]))) for k, line in zip(toks, lines)]
    else:
        akeys += [b"".join((a[len(k)], *k)) for k in toks]
    rkeys += [b"".join((a[len(k)], k[0], *k[:0:-1])) for k in toks if len(k) > 2 and k[0][0] > 0xC0]
    return len(toks)


def _nested_keys(lines: list[tuple[bytes, int]], akeys: list[bytes], rkeys: list[bytes],
                 btok: Callable[[bytes], bytes], shapes: dict[bytes, tuple[bytes, bytes | None]], nb: Numbered) -> None:
    """Append the keys of top-level lines with nested expressions (`_NESTED`: `(f (g a) b)`, each
    with its number) to `akeys` and `rkeys`, as the per-line path encodes them.

    A line's shape (its parentheses and spaces, the words deleted) gives templates of its primary
    and reverse keys with a `%s` per word, made once per shape (`shapes`); a word's token is its
    length tag and text when it starts above `@`, else `btok`'s.
    """
    t, pack, tag = _SYM, nb.pack, nb.tag
    get = shapes.get
    tpls = [get(s) or _nested_template(s, shapes) for s in [body.translate(None, _NOT_SHAPE) for body, _ in lines]]
    toks = [tuple([t[len(w)] + w if w[0] > 64 else btok(w) for w in body.translate(_PARENS_TO_SPACE).split()])
            for body, _ in lines]
    akeys += [a % tk + pack(tag, i) for (a, _), tk, (_, i) in zip(tpls, toks, lines)]
    rkeys += [r % (tk[0], *tk[:0:-1]) for (_, r), tk in zip(tpls, toks) if r is not None and tk[0][0] > 0xC0]


def _nested_template(shape: bytes, shapes: dict[bytes, tuple[bytes, bytes | None]]) -> tuple[bytes, bytes | None]:
    """The key templates of a nested line's shape (see `_nested_keys`): the primary key's, and the
    reverse key's when the per-line path would give the atom one (a word for head, >= 3 children;
    the head's token must also be above 0xC0, which the caller checks)."""
    # a word stands at the start unless a `(` does, after each `(`, and after each space not before a `(`
    parts: list[bytes | None] = []  # arity tokens, None for a word
    opens: list[int] = []
    counts = [0]
    expect_word = True
    for c in shape:
        if expect_word and c != 0x28:  # `(`
            parts.append(None)
            counts[-1] += 1
        expect_word = c in (0x20, 0x28)
        if c == 0x28:
            counts[-1] += 1
            opens.append(len(parts))
            parts.append(b"")
            counts.append(0)
        elif c == 0x29:  # `)`
            parts[opens.pop()] = _ARITY[counts.pop()]
    if expect_word:
        parts.append(None)
        counts[-1] += 1
    parts.insert(0, _ARITY[counts[0]])

    def template(ps: list[bytes | None]) -> bytes:
        return b"".join(b"%s" if p is None else p.replace(b"%", b"%%") for p in ps)

    rev = None
    if len(parts) > 3 and 3 <= counts[0] and parts[1] is None:
        rev = template([parts[0], parts[1], *parts[:1:-1]])
    if len(shapes) >= 4096:
        shapes.clear()
    tpl = shapes[shape] = (template(parts), rev)
    return tpl


def _byte_blocks(stream: IO[bytes], source: str, block_size: int) -> Iterator[tuple[bytes, bool]]:
    """Raw blocks of whole lines, checked to be UTF-8 (errors re-raised by the precise path)."""
    for buf, last in line_blocks(stream, block_size):
        try:
            buf.decode("utf-8")
        except UnicodeDecodeError:
            raise _Anomaly from None
        yield buf, last


_SIMPLE_LINE = re.compile(rb"[ \t\r]*\(([^()\";$\x00\x80-\xff]*)\)[ \t\r]*")
_SIMPLE_STRING_LINE = re.compile(rb'[ \t\r]*\(([^()";$\x00\x80-\xff]*[ \t])("[^"\\\x00-\x1f\x7f-\xff]*")[ \t]*\)[ \t\r]*')
_SYM = [bytes((0xC0 | n,)) for n in range(64)]
# a top-level line the bulk path takes whole: `(` and `)\n` around at most 63 bytes of words
# (so < 64 bytes each, < 32 of them) separated by spaces, without `$`, `;`, parentheses or
# non-ASCII, the first word right after `(`; the last word may be a string literal without
# escapes (groups: the words, or the words before the string and the string)
_WORDS = rb"[^()\";$\x00\x80-\xff\s][^()\";$\x00\x80-\xff\t\n\r\x0b\x0c]*"
_STRING = rb'"[^"\\\x00-\x1f\x7f-\xff]*"'
_LINE_BODY = rb"\((?=[^\n]{1,63}\)\n)(?:(" + _WORDS + rb")|(" + _WORDS + rb") (" + _STRING + rb"))\)\n"
# a word whose token is its length tag and its text: a plain symbol, a canonical integer or a
# plain string, < 64 bytes
_WORD3 = (rb'[\x41-\x7f][^\s()";$\x00\x80-\xff]{0,62}+|(?:0|-?[1-9][0-9]{0,60}+)(?=[ )])|"[^"\\\x00-\x1f\x7f-\xff]{0,61}+"')
# a word that `btok` encodes (a float, a non-canonical integer, `-`, ...), < 64 bytes
_NUMBER = rb'[-+.0-9][^\s()";$\x00\x80-\xff]{0,62}+'
# a top-level line with nested expressions, taken whole (group 8 of `_LINES`): `(` and `)\n` around at
# most 62 bytes (so every word is < 64 bytes and every expression has < 32 children) of words and
# parenthesised runs of words (`(Evaluation (Predicate likes) (List P2 P8)))`), one space between
# any two, without strings, comments, variables, empty expressions, control or non-ASCII bytes
_NWORD = rb'[^\x00-\x20()";$\x7f-\xff]++'
_NITEM = rb"(?:" + _NWORD + rb"|\(" + _NWORD + rb"(?: " + _NWORD + rb")*\))"
_NESTED = rb"\((?=[^\n]{1,62}\)\n)(" + _NITEM + rb"(?: " + _NITEM + rb")*)\)\n"
# what `_nested_keys` keeps of a line to name its shape, and how it splits the words
_NOT_SHAPE = bytes(c for c in range(256) if c not in b"() ")
_PARENS_TO_SPACE = bytes.maketrans(b"()", b"  ")
# (repeats are possessive where what must follow is outside their class: sre then keeps no
# backtracking state, ~10% of the `findall`)
#: every line of a block: `(head w1 w2)` of such words (groups 1-3; the common case, encoded without
#: splitting), or with a last word `btok` encodes (group 4 for group 3), one `_LINE_BODY` (groups 5-7),
#: or a nested line (group 8, `_NESTED`), or any other line (group 9, without its newline)
_LINES = re.compile(rb"\(([\x41-\x7f][^\s()\";$\x00\x80-\xff]{0,62}+) (" + _WORD3 + rb") (?:(" + _WORD3 + rb")|("
                    + _NUMBER + rb"))\)\n|"
                    + _LINE_BODY + rb"|" + _NESTED + rb"|([^\n]*+)(?:\n|\Z)")
# (a flat expression's words are cut by `str.split`, which also cuts at `\x1c`..`\x1f`: word characters
# for the scanner, so such a body is read token by token)
_FLAT_RE = re.compile(
    f"[{WHITESPACE_CHARS}]*+" + r"(?:\(([^()\";\x00\x1c-\x1f]*)\)|("
    + "|".join((OPEN, CLOSE, STRING, WORD, COMMENT, UNTERMINATED_STRING, r"\x00")) + "))"
)


assert NEW_VAR == 0xC0
