"""`repr` and `parse` as hyperon 0.2.10 has them: Python functions of its standard library.

`repr`'s result is a Python string, printed as Python shows it (its `repr` between double quotes,
a `"` escaped); `parse` reads the first atom of its string's Python `repr`.  The property tests
ask hyperon itself, in this process, about random strings of the characters that matter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mettadb
from mettadb.atoms import ReprText, String, show_string

hyperon = pytest.importorskip("hyperon")

_CHARS = ["'", '"', "\\", "\n", "\t", "\r", "\x00", "\x01", "\x1c", "\x7f", "\x80", "\xa0", "\xad", "é", "\u0301",
          "\u088f", "\u200b", "\u2028", "\ufeff", "\U0001f600", "\U000e0001", "\U0010ffff", "a", " ", "(", ")", ";",
          "$", "{", "}", "u", "x", "#", "!", "0", "7"]
_TEXT = st.lists(st.sampled_from(_CHARS), max_size=8).map("".join)
_METTA: list[object] = []


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mettadb.Space]:
    with mettadb.open(tmp_path_factory.mktemp("reprparse") / "space") as sp:
        yield sp


def literal(text: str) -> str:
    """A string literal both read (`\\u{..}` for control characters: hyperon refuses `\\0`)."""
    return '"' + "".join("\\" + c if c in '"\\' else "\\u{%x}" % ord(c) if c < " " or c == "\x7f" else c
                         for c in text) + '"'


def hyperon_prints(script: str) -> list[list[str]]:
    if not _METTA:
        _METTA.append(hyperon.MeTTa(env_builder=hyperon.Environment.custom_env(config_dir="")))
    return [[str(a) for a in r] for r in _METTA[0].run(script)]  # type: ignore[attr-defined]


def mettadb_prints(space: mettadb.Space, script: str) -> list[list[str]]:
    return [[str(a) for a in r] for r in space.run(script)]


def test_repr_text_prints_as_python_shows_it():
    assert show_string(ReprText("\"a'b\"")) == '"\\"a\\\'b\\""'
    assert show_string(ReprText("a\x1cb\u088f")) == '"a\\x1cb\\u088f"'
    assert String(ReprText("x")) == String("x") and hash(String(ReprText("x"))) == hash(String("x"))


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_repr_prints_what_hyperon_prints(space: mettadb.Space, text: str):
    lit = literal(text)
    word = "".join(c for c in text if c not in " \t\n\r\x85\xa0\u2028()\";$#\x00") or "w"
    script = f"!(repr {lit})\n!(repr (f {lit} {word} 'c' 1.5))\n!(repr {word})\n!(let $r (repr {lit}) ($r))\n"
    assert mettadb_prints(space, script) == hyperon_prints(script)


@settings(max_examples=150, deadline=None)
@given(_TEXT.filter(lambda t: "\x00" not in t))  # (hyperon aborts on a NUL in `parse`'s string)
def test_parse_reads_what_hyperon_reads(space: mettadb.Space, text: str):
    script = f"!(collapse (parse {literal(text)}))\n"
    assert mettadb_prints(space, script) == hyperon_prints(script)


def test_read_first_reads_one_atom_as_hyperon_does():
    from mettadb import E, S, V
    from mettadb.errors import ModuleTextError
    from mettadb.modtext import read_first

    assert read_first("") is None and read_first("  ; c\n") is None
    assert read_first("a (") == S("a") and read_first("!(a)") == S("!") and read_first("(f $x;c $)") == E(S("f"), V("x;c"), V(""))
    for bad in ("(a", ")", '"\\0"', "$a#b", "99999999999999999999"):
        with pytest.raises(ModuleTextError):
            read_first(bad)
