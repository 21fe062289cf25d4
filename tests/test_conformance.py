"""Conformance: every script in tests/conformance/ through `mettadb run` and through hyperon.

Each `!` line's results must be equal; for scripts whose name says so (nondet),
as multisets, since the order of nondeterministic results is not specified.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mettadb
from mettadb.interp import format_results

hyperon = pytest.importorskip("hyperon")

SCRIPTS = sorted((Path(__file__).parent / "conformance").glob("*.metta"))


def canon(text: str) -> str:
    return re.sub(r"\$[^\s()\],]*#\d+", "$_", text)


def lines(results, unordered: bool):
    out = []
    for r in results:
        texts = [canon(str(a)) for a in r]
        out.append(sorted(texts) if unordered else texts)
    return out


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_matches_hyperon(script, tmp_path):
    text = script.read_text()
    unordered = "nondet" in script.name
    with mettadb.open(tmp_path / "space") as sp:
        ours = sp.run(text, source=str(script))
    theirs = hyperon.MeTTa().run(text)
    assert lines(ours, unordered) == lines(theirs, unordered)
    if not unordered:
        assert [canon(format_results(r)) for r in ours] == [canon(format_results(r)) for r in theirs]


# ---------------------------------------------------------------- random programs vs hyperon

_RULES = {
    "f": ["(= (f $x) (+ $x {n}))"],
    "g": ["(= (g $x) (* $x {n}))"],
    "h": ["(= (h $x) (f (g $x)))"],
    "nd": ["(= (nd $x) $x)", "(= (nd $x) (+ $x {n}))"],
    "reach": ["(= (reach $x) (match &self (edge $x $y) $y))"],
    "twohop": ["(= (twohop $x) (match &self (, (edge $x $y) (edge $y $z)) $z))"],
    "size": ["(= (size $x) (if (> $x {n}) big small))"],
    "pick": ["(= (pick) (superpose ({n} {m} {n})))"],
    "val-of": ["(= (val-of $p) (match &self (val $p $v) $v))"],
}
_QUERIES = [
    "!(f {n})", "!(h {n})", "!(nd {n})", "!(h (nd {n}))", "!(+ (nd {n}) (nd {m}))", "!(reach {s})",
    "!(twohop {s})", "!(size (f {n}))", "!(pick)", "!(f (pick))", "!(val-of {s})", "!(size (val-of {s}))",
    "!(match &self (val $p $v) ($p (f $v)))", "!(match &self (edge $a $b) (twohop $b))",
    "!(let $x (nd {n}) (* $x $x))", "!(case (nd {n}) (({n} same) ($other other)))", "!(== (f {n}) (nd {m}))",
    "!(superpose ({s} (nd {n})))", "!(unify (edge $a {s}) (edge {t} $b) ($a $b) none)",
]
_SYMS = ["a", "b", "c", "d"]


@st.composite
def programs(draw):
    n = st.integers(-5, 20)
    sym = st.sampled_from(_SYMS)
    lines = [f"(edge {draw(sym)} {draw(sym)})" for _ in range(draw(st.integers(0, 8)))]
    lines += [f"(val {draw(sym)} {draw(n)})" for _ in range(draw(st.integers(0, 4)))]
    for name in draw(st.lists(st.sampled_from(sorted(_RULES)), min_size=1, max_size=6, unique=True)):
        lines += [r.format(n=draw(n), m=draw(n)) for r in _RULES[name]]
    draw(st.randoms()).shuffle(lines)
    lines += [q.format(n=draw(n), m=draw(n), s=draw(sym), t=draw(sym))
              for q in draw(st.lists(st.sampled_from(_QUERIES), min_size=1, max_size=5))]
    return "\n".join(lines) + "\n"


@settings(max_examples=25 if os.environ.get("CI") else 40, deadline=None)
@given(programs())
def test_random_programs_match_hyperon(tmp_path_factory, program):
    """Facts, rules, arithmetic and nondeterminism: the same multiset of results for every `!`."""
    with mettadb.open(tmp_path_factory.mktemp("rnd") / "space") as sp:
        ours = sp.run(program)
    theirs = hyperon.MeTTa().run(program)
    assert lines(ours, True) == lines(theirs, True), program
