"""Numbers of two spellings (`2` and `2.0`, `0.0` and `-0.0`): compared by value as hyperon 0.2.10 does.

hyperon keys its index by a hash of each number's spelling, so a query's number finds another
spelling of its value only while the space holds no atom with its own spelling; unification,
`let`, `case` and `==` always compare numbers by value.  Checked against real hyperon, over a
durable space loaded by `mettadb load` and queried by `mettadb run`, and through `match`/`count`.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mettadb

hyperon = pytest.importorskip("hyperon")

FACTS = "(v 2)\n(v 3)\n(w 3.0)\n(z -0.0)\n(p 7 7.0)\n(p 8 9)\n(v $y)\n(= (f 2) int-rule)\n(= (f $x) (any $x))\n"
QUERIES = """!(match &self (v 2.0) found)
!(match &self (w 3) found)
!(match &self (z 0.0) found)
!(match &self (z 0) found)
!(match &self ($h 3) $h)
!(match &self (p $x $x) $x)
!(f 2.0)
!(f 9.0)
!(unify (v 2.0) (v 2) yes no)
!(remove-atom &self (z 0.0))
!(match &self (z $x) $x)
"""


def texts(results):
    return [[str(a) for a in r] for r in results]


def test_a_durable_space_answers_as_hyperon_does_with_the_facts_in_its_script(run, write):
    """Facts loaded by `mettadb load`, queried by `mettadb run`: hyperon's answers for one script."""
    # hyperon's index is a randomly seeded hash map: about one run in ten it finds another spelling's
    # key anyway (README), so its answer is the one it gives in most of 8 runs
    runs = [texts(hyperon.MeTTa().run(FACTS + QUERIES)) for _ in range(8)]
    theirs = max(runs, key=runs.count)
    assert theirs[0] == ["found", "found"] and theirs[1] == []  # (2.0 is held nowhere; 3 is held by (v 3))
    assert run("load", str(write("facts.metta", FACTS))).exit_code == 0
    r = run("run", str(write("q.metta", QUERIES)))
    assert r.exit_code == 0, r.output
    assert r.stdout == "".join("[" + ", ".join(x) + "]\n" for x in theirs)


def test_match_and_count_find_the_other_spelling(run, write):
    assert run("load", str(write("facts.metta", FACTS))).exit_code == 0
    assert run("match", "(v 2.0)", "found").stdout == "found\nfound\n"  # (v 2) and (v $y)
    assert run("match", "(v 2.0)", "--count").stdout == "2\n"
    assert run("match", "(w 3)", "--count").stdout == "0\n"  # 3 is held by (v 3): as written only
    assert run("match", "(p $x $x)", "$x").stdout == "7\n"
    assert run("match", "(z 0)", "--count").stdout == "1\n"


def test_a_space_that_holds_the_spelling_answers_as_written(tmp_path):
    with mettadb.open(tmp_path / "s") as sp:
        sp.add_all(["(v 2)", "(k 5)"])
        assert sp.count_matches("(v 2.0)") == 1
        sp.add("(other 2.0)")  # now the space holds 2.0: hyperon finds (v 2.0) only as written
        assert sp.count_matches("(v 2.0)") == 0 and list(sp.query("(v 2.0)")) == []
        assert sp.count_matches("(v 2)") == 1


_NUMS = ["0", "0.0", "-0.0", "1", "1.0", "2", "2.0", "2.5"]


@st.composite
def number_programs(draw):
    num = st.sampled_from(_NUMS)
    facts = [f"(v {draw(num)})" for _ in range(draw(st.integers(0, 4)))]
    facts += [f"(u {draw(num)} {draw(num)})" for _ in range(draw(st.integers(0, 3)))]
    facts += [f"(= (f {draw(num)}) r{i})" for i in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        facts.append("(v $any)")
    queries = draw(st.lists(st.sampled_from([
        "!(match &self (v {q}) (got {q}))", "!(match &self (u $a {q}) $a)", "!(match &self (u $x $x) $x)",
        "!(f {q})", "!(unify {q} {r} yes no)", "!(== (v {q}) (v {r}))", "!(match &self ($h {q}) $h)",
    ]), min_size=1, max_size=4))
    lines = facts + [q.format(q=draw(num), r=draw(num)) for q in queries]
    text = "\n".join(lines) + "\n"
    # hyperon's index gives `0` and `0.0` one key (their hashes collide): a space holding both
    # keeps the first's spelling for both, a quirk mettadb does not copy (README)
    stored = " ".join(facts)
    assume(not (" 0)" in stored or " 0 " in stored) or "0.0" not in stored.replace("-0.0", ""))
    return text


@settings(max_examples=60, deadline=None)
@given(number_programs())
def test_random_programs_with_numbers_match_hyperon(tmp_path_factory, program):
    with mettadb.open(tmp_path_factory.mktemp("num") / "space") as sp:
        ours = texts(sp.run(program))
    theirs = texts(hyperon.MeTTa().run(program))
    if ours != theirs:
        # hyperon's own lookup of a spelling's key goes through a randomly seeded hash map whose
        # equality compares numbers by value: rarely, `-0.0` finds the key of `0.0` (a collision of
        # the hash's tag bits), so one run may differ; our answer must still be its usual one
        again = [texts(hyperon.MeTTa().run(program)) for _ in range(5)]
        assert again.count(ours) >= 3, (program, ours, theirs)


def test_a_large_space_is_not_read_whole_for_a_spelling(tmp_path, monkeypatch):
    """Past `HOLDS_SCAN_KEYS` keys the space is taken to hold the query's spelling: numbers match as
    written there (a query must not read 10^8 keys for hyperon's hash quirk)."""
    import mettadb.query

    with mettadb.open(tmp_path / "s") as sp:
        for i in range(20):
            sp.add(f"(k {i})")
        sp.add("(v 2)")
        assert [str(a) for a in sp.match("(v 2.0)", "found")] == ["found"]  # searched: 2.0 is not held
        monkeypatch.setattr(mettadb.query, "HOLDS_SCAN_KEYS", 5)
        sp.add("(x 1)")  # a new version: the search is done again, now past the budget
        assert [str(a) for a in sp.match("(v 2.0)", "found")] == []
