"""Strings are printed as hyperon 0.2.10 prints them (`atoms.show_string`, `printable`), and read back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mettadb
from mettadb.atoms import String, show_string
from mettadb.interp import format_results


@pytest.mark.parametrize(("value", "shown"), [
    ("plain", '"plain"'),
    ("it's", '"it\'s"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("a\\b", '"a\\\\b"'),
    ("tab\there\nnl\rcr\0nul", '"tab\\there\\nnl\\rcr\\0nul"'),
    ("del\x7f esc\x1b", '"del\\u{7f} esc\\u{1b}"'),
    ("soft\xadhyphen nbsp\xa0", '"soft\\u{ad}hyphen nbsp\\u{a0}"'),
    ("e\u0301 zwj\u200d", '"e\\u{301} zwj\\u{200d}"'),
    ("caf\xe9 \U0001f600", '"caf\xe9 \U0001f600"'),
])
def test_control_and_unprintable_characters_are_escaped_as_in_hyperon(value, shown):
    assert show_string(value) == shown
    assert str(String(value)) == shown


def test_every_code_point_is_shown_as_the_installed_hyperon_shows_it():
    """The probe that made `printable`'s table, repeated against hyperon in this process: every code point
    (300 a string) printed by hyperon and by mettadb."""
    hyperon = pytest.importorskip("hyperon")
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    chunks = [cps[i:i + 300] for i in range(0, len(cps), 300)]
    program = "\n".join('!(id "' + "".join("\\u{%x}" % c for c in ch) + '")' for ch in chunks)
    results = hyperon.MeTTa().run(program)
    assert len(results) == len(chunks)
    wrong = [ch[0] for ch, r in zip(chunks, results, strict=True)
             if str(r[0]) != show_string("".join(map(chr, ch)))]
    assert wrong == []


@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_what_is_shown_reads_back(text):
    atom = mettadb.atom(show_string(text))
    assert type(atom) is String and atom.value == text


def test_a_run_prints_strings_as_hyperon(space):
    assert format_results(space.eval('(id "a\\u{7f}b")')) == '["a\\u{7f}b"]'
