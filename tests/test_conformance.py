"""Conformance: every script in tests/conformance/ through `mettadb run` and through hyperon.

Each `!` line's results must be equal; for scripts whose name says so (nondet),
as multisets, since the order of nondeterministic results is not specified.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mettadb
from mettadb.eval import format_results

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
