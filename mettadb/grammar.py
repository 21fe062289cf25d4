"""The pyparsing grammar of MeTTa, built from `mettadb.tokens`.

A second reading of the syntax, independent of the scanners: tests prove it,
the regex scanner of `mettadb.parser` and the bulk transcoder agree on atoms
and on error positions.  It recurses once per level of nesting (pyparsing), so
no user input goes through it: the REPL's completeness check is the scanner's
(`parser.is_complete`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyparsing as pp

from .atoms import Atom, Expression, String
from .errors import ParseError
from .parser import DANGLING_BANG, word_atom
from .tokens import CLOSE, COMMENT, OPEN, STRING, UNTERMINATED_STRING, WHITESPACE, WHITESPACE_CHARS, WORD, unescape

__all__ = ["parse_with_grammar"]


def _fatal(message: str | Callable[[str, int, Any], tuple[int, str]]) -> Callable[[str, int, Any], None]:
    def action(s: str, loc: int, toks: Any) -> None:
        if callable(message):
            at, msg = message(s, loc, toks)
        else:
            at, msg = loc, message
        raise pp.ParseFatalException(s, at, msg)

    return action


def _build() -> pp.ParserElement:
    def tok(rx: str) -> pp.ParserElement:
        return pp.Regex(rx).leave_whitespace()

    ws = tok(WHITESPACE)
    comment = tok(COMMENT)
    skip = pp.ZeroOrMore(ws | comment).suppress().leave_whitespace()

    def lexeme(e: pp.ParserElement) -> pp.ParserElement:
        return (skip + e).leave_whitespace()

    def word_action(s: str, loc: int, toks: Any) -> Atom:
        return word_atom(toks[0])

    def string_action(s: str, loc: int, toks: Any) -> Atom:
        try:
            return String(unescape(toks[0][1:-1]))
        except ValueError as e:
            offset, msg = e.args
            raise pp.ParseFatalException(s, loc + 1 + offset, msg) from None

    def bad_char(s: str, loc: int, toks: Any) -> None:
        ch = toks[0]
        raise pp.ParseFatalException(s, loc, "NUL byte" if ch == "\0" else f"unexpected character {ch!r}")

    word = tok(WORD).set_parse_action(word_action)
    string = tok(STRING).set_parse_action(string_action)
    badstring = tok(UNTERMINATED_STRING).set_parse_action(_fatal("unterminated string"))
    badchar = tok(f"[^{WHITESPACE_CHARS}()]").set_parse_action(bad_char)
    open_ = tok(OPEN)
    close = tok(CLOSE)
    atom = pp.Forward()
    open_at: list[int] = []

    def mark_open(s: str, loc: int, toks: Any) -> None:
        open_at.append(loc)

    def never_closed(s: str, loc: int, toks: Any) -> None:
        raise pp.ParseFatalException(s, open_at[-1] if open_at else loc, "'(' is never closed")

    def make_expr(s: str, loc: int, toks: Any) -> Atom:
        if open_at:
            open_at.pop()
        return Expression(toks[0].as_list() if hasattr(toks[0], "as_list") else list(toks[0]))

    unclosed = (skip + pp.StringEnd()).leave_whitespace().set_parse_action(never_closed)
    expr = pp.Group(
        open_.copy().set_parse_action(mark_open).suppress()
        + pp.ZeroOrMore(lexeme(atom))
        + (lexeme(close).suppress() | unclosed)
    ).leave_whitespace().set_parse_action(make_expr)
    atom <<= (expr | string | badstring | word | badchar).leave_whitespace()

    bang_at: list[int] = []
    bang = tok(f"!(?![^{WHITESPACE_CHARS}();\\x00])").set_parse_action(lambda s, loc, toks: bang_at.append(loc))
    bang_end = (skip + pp.StringEnd()).leave_whitespace().set_parse_action(
        _fatal(lambda s, loc, toks: (bang_at[-1] if bang_at else loc, DANGLING_BANG)))
    stray = tok(CLOSE).set_parse_action(_fatal("unexpected ')'"))

    def bang_action(s: str, loc: int, toks: Any) -> tuple[bool, Atom]:
        return (True, toks[-1])

    def plain_action(s: str, loc: int, toks: Any) -> tuple[bool, Atom]:
        return (False, toks[0])

    more_bangs = pp.ZeroOrMore(lexeme(tok(f"!(?![^{WHITESPACE_CHARS}();\\x00])"))).suppress()
    banged = (bang.suppress() + more_bangs + (lexeme(atom) | bang_end)).leave_whitespace().set_parse_action(bang_action)
    item = lexeme(banged | atom.copy().set_parse_action(plain_action) | stray)
    program = (pp.ZeroOrMore(item) + skip + pp.StringEnd()).leave_whitespace()
    program.set_parse_action(lambda s, loc, toks: [list(toks)])
    program.parse_with_tabs()  # columns count characters, as the scanner does
    return program


_GRAMMAR: pp.ParserElement | None = None


def parse_with_grammar(text: str, source: str = "<string>") -> list[tuple[bool, Atom]]:
    """Parse a whole script with the pyparsing grammar: `(is_bang, atom)` pairs."""
    global _GRAMMAR
    if _GRAMMAR is None:
        _GRAMMAR = _build()
    try:
        result = _GRAMMAR.parse_string(text, parse_all=True)
    except pp.ParseBaseException as e:
        loc = e.loc
        line = text.count("\n", 0, loc) + 1
        col = loc - text.rfind("\n", 0, loc)
        raise ParseError(e.msg, line, col, source) from None
    return list(result[0])

