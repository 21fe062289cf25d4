"""The MeTTa token definitions: the single source for every scanner and grammar.

The regex scanner (`mettadb.parser`) and the pyparsing grammar
(`mettadb.grammar`) are both built from these strings, so they cannot drift.
"""

from __future__ import annotations

import re

__all__ = [
    "BAD_CHAR",
    "BOOL",
    "CLOSE",
    "COMMENT",
    "ESCAPE",
    "FAST_TOKEN_RE",
    "FLOAT",
    "FLOAT_RE",
    "INTEGER",
    "INTEGER_RE",
    "OPEN",
    "REGEX",
    "REGEX_RE",
    "STRING",
    "TOKEN_RE",
    "UNICODE_ESCAPE",
    "UNTERMINATED_STRING",
    "VARIABLE",
    "WHITESPACE",
    "WHITESPACE_CHARS",
    "WORD",
    "classify_word",
    "symbol_reads_back",
    "unescape",
    "variable_reads_back",
]

#: the whitespace of hyperon's parser, Rust's `char::is_whitespace` (Python's `\s` and `str.isspace`
#: also take `\x1c`..`\x1f`, which are word characters there): the inside of a character class
WHITESPACE_CHARS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
WHITESPACE = f"[{WHITESPACE_CHARS}]+"
COMMENT = r";[^\n]*"
OPEN = r"\("
CLOSE = r"\)"
#: a complete string literal; escapes are checked by `unescape`
STRING = r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"'
UNTERMINATED_STRING = r'"'
#: a variable runs up to whitespace or a parenthesis (`$x;c` is the variable `x;c`, a lone `$` the
#: variable of the empty name), as in hyperon's parser; a NUL is never part of one
VARIABLE = f"\\$[^{WHITESPACE_CHARS}()\\x00]*"
#: variables, and symbols, numbers and booleans: no space, no parenthesis, no `;`;
#: a `"` may appear inside a word but not start one; only a lone `!` word marks
#: evaluation (hyperon reads `!foo` as a symbol)
WORD = f'{VARIABLE}|[^{WHITESPACE_CHARS}()";\\x00$][^{WHITESPACE_CHARS}();\\x00]*'
#: anything else (NUL, and stray characters such as a lone backslash never reach here)
BAD_CHAR = r"[\s\S]"

#: a word that is hyperon's regex token (its Python library's `type_tokens`), matched whole
REGEX = r'regex:"[^"]*"'
REGEX_RE = re.compile(REGEX)

INTEGER = r"[-+]?[0-9]+"
FLOAT = r"[-+]?[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
BOOL = r"True|False"
#: `\u{..}` as hyperon reads it: up to 8 hex digits, a `{` skipped wherever it stands (`\u{}` is NUL)
UNICODE_ESCAPE = r"u\{\{*(?:[0-9a-fA-F]\{*){0,8}\}"
ESCAPE = r'\\(?:x[0-9a-fA-F]{2}|' + UNICODE_ESCAPE + r'|[nrt0\\"\'])'

#: the precise scanner: one group per token kind, positions kept
TOKEN_RE = re.compile(
    "|".join(
        f"(?P<{name}>{rx})"
        for name, rx in (
            ("ws", WHITESPACE),
            ("comment", COMMENT),
            ("open", OPEN),
            ("close", CLOSE),
            ("string", STRING),
            ("badstring", UNTERMINATED_STRING),
            ("word", WORD),
            ("bad", BAD_CHAR),
        )
    )
)

#: the bulk scanner: same tokens, whitespace skipped, no groups (findall gives strings)
FAST_TOKEN_RE = re.compile("|".join((OPEN, CLOSE, STRING, WORD, COMMENT, UNTERMINATED_STRING, r"\x00")))

INTEGER_RE = re.compile(INTEGER)
FLOAT_RE = re.compile(FLOAT)
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|" + UNICODE_ESCAPE + r"|[\s\S])")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def unescape(body: str) -> str:
    """Decode the escapes of a string literal's body; raises ValueError with the offset."""
    if "\\" not in body:
        return body
    out: list[str] = []
    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        out.append(body[pos : m.start()])
        code = m.group(1)
        if code in _SIMPLE:
            out.append(_SIMPLE[code])
        elif code[0] == "x" and len(code) == 3:
            out.append(chr(int(code[1:], 16)))
        elif code[0] == "u" and len(code) > 1:
            cp = int(code[2:-1].replace("{", "") or "0", 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                raise ValueError(m.start(), f"invalid unicode escape '\\{code}'")
            out.append(chr(cp))
        else:
            raise ValueError(m.start(), f"invalid escape '\\{code}'")
        pos = m.end()
    out.append(body[pos:])
    return "".join(out)


_SYMBOL_WORD_RE = re.compile(f'[^{WHITESPACE_CHARS}()";\\x00$][^{WHITESPACE_CHARS}();\\x00]*')
_VARIABLE_NAME_RE = re.compile(f"[^{WHITESPACE_CHARS}()\\x00]*")


def symbol_reads_back(name: str) -> bool:
    """Whether a symbol's name, written as text, reads back as that symbol: one word that is not a
    number, a bool, a variable or a string (hyperon's `S("a b")`, `S("1")` do not)."""
    return _SYMBOL_WORD_RE.fullmatch(name) is not None and classify_word(name) == "symbol"


def variable_reads_back(name: str) -> bool:
    """Whether `$` and a variable's name read back as that variable (`V("a b")` does not)."""
    return _VARIABLE_NAME_RE.fullmatch(name) is not None


def classify_word(word: str) -> str:
    """`variable`, `integer`, `float`, `bool` or `symbol`."""
    c = word[0]
    if c == "$":
        return "variable"
    if c.isdigit() or (c in "+-" and len(word) > 1 and word[1].isdigit()):
        if INTEGER_RE.fullmatch(word):
            return "integer"
        if FLOAT_RE.fullmatch(word):
            return "float"
    elif word == "True" or word == "False":
        return "bool"
    return "symbol"
