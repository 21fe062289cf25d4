"""`regex:"…"` tokens (hyperon 0.2.10's `RegexMatchableObject`): the readers, the matching (against
hyperon's own class as the oracle), the durable space, the CLI and the hyperon bridge."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from mettadb.cli.main import cli

import mettadb
from mettadb.atoms import Regex, String, Symbol, source_text
from mettadb.errors import EvaluationError, MettaDBError
from mettadb.grammar import parse_with_grammar
from mettadb.modtext import read_module
from mettadb.parser import parse_atom
from mettadb.unify import MATCHED_PATTERN, unify


def test_every_reader_makes_the_token_a_regex_and_only_the_whole_word():
    assert parse_atom('regex:"a.c"') == Regex('regex:"a.c"')
    assert [a for _, a in parse_with_grammar('(p regex:"x")')] == [parse_atom('(p regex:"x")')]
    assert [a for _, a in read_module(b'(p regex:"x")')] == [parse_atom('(p regex:"x")')]
    assert type(parse_atom('(p regex:"x")').children[1]) is Regex  # type: ignore[attr-defined]
    for word in ('regex:"a"b', 'xregex:"a"', 'regex:"a', "regex:a"):
        assert parse_atom(word) == Symbol(word)
    assert parse_atom('regex:""').pattern == '""'  # type: ignore[attr-defined]  # (hyperon keeps the quotes: two quotes)


def test_it_prints_as_the_string_of_its_rewritten_token_and_is_a_string():
    rx = parse_atom("regex:\"it's~[[x]]\"")
    assert rx.value == "regex:\"it's (x)\""  # type: ignore[attr-defined]
    assert str(rx) == "\"regex:\\\"it\\'s (x)\\\"\""  # (Python's repr of the text, as hyperon prints it)
    assert rx.type_name == "String"  # type: ignore[attr-defined]
    assert rx != String(rx.value)  # type: ignore[attr-defined]  # (one atom is not the other; `==` says equal)


@given(st.text("ab[]~^.", min_size=0, max_size=8))
def test_source_text_reads_back_as_the_same_regex(body):
    atom = parse_atom(f'(p regex:"{body}" "s")')
    assert parse_atom(source_text(atom)) == atom
    assert type(parse_atom(source_text(atom)).children[1]) is Regex  # type: ignore[attr-defined]


def test_the_binding_a_match_makes_leaves_with_the_matching():
    rx = parse_atom('regex:"b"')
    b = unify(parse_atom("abc"), rx)
    assert b is not None and MATCHED_PATTERN not in b.links
    assert unify(parse_atom("(p a b)"), parse_atom('(p regex:"a" regex:"b")')) is None
    assert unify(parse_atom("(p a a)"), parse_atom('(p regex:"a" regex:"a")')) is not None


# hyperon's own class is the oracle: its `match_` on the atom hyperon's parser makes of the same text
hyperon = pytest.importorskip("hyperon")
from hyperon import MeTTa  # noqa: E402
from hyperon.stdlib import RegexMatchableObject  # noqa: E402


@pytest.fixture(scope="module")
def hyperon_parser():
    """One hyperon runner for the module's parsing (freed at its end, before hyperon's library is)."""
    return MeTTa()

_WORD = st.text("abcAB12 ", min_size=1, max_size=4).map(lambda s: s.replace(" ", "_"))
_STRING = st.text("abAB1 \t\"\\", max_size=6).map(mettadb.atoms.quote_string)
_LEAF = st.one_of(_WORD, _STRING, st.sampled_from(["1", "-2.5", "True", "$x"]))
_ATOM = st.recursive(_LEAF, lambda kids: st.lists(kids, min_size=1, max_size=3).map(lambda k: f"({' '.join(k)})"),
                     max_leaves=6)
_PATTERN = st.text("abAB1.^$*+?|~\\_\"[]", min_size=1, max_size=5).filter(lambda p: '"' not in p)


def _valid(pattern: str) -> bool:
    try:
        re.compile(pattern.replace("[[", "(").replace("]]", ")").replace("~", " "))
        return True
    except re.error:
        return False


@settings(max_examples=300, deadline=None)
@given(_ATOM.filter(lambda t: t != "$x"), _PATTERN.filter(_valid))  # (a variable binds to it before: matcher's rule)
def test_a_regex_matches_what_hyperons_regex_object_matches(hyperon_parser, text, body):
    token = f'regex:"{body}"'
    theirs = bool(RegexMatchableObject(token).match_(hyperon_parser.parse_single(text)))
    ours = unify(parse_atom(text), parse_atom(token)) is not None
    assert ours == theirs, (text, token)


# ------------------------------------------------------------------ runs, durable spaces, the CLI


def test_an_invalid_regular_expression_stops_the_run_with_one_line(run, write):
    """hyperon's Python exception aborts its process (a Rust panic), printing nothing; mettadb stops
    the run there with one line and keeps what was printed before."""
    bad = write("bad.metta", '(w abc)\n!(+ 1 1)\n!(get-type regex:"[[a")\n!(match &self (w regex:"[[a") y)\n'
                "!(+ 2 2)\n")
    r = run("run", str(bad))
    assert r.exit_code == 1
    assert r.stdout == "[2]\n[String]\n"
    assert r.stderr == (f'Error: {bad}:4: regex:"(a": invalid regular expression (missing ), unterminated subpattern '
                        'at position 0) (in !(match &self (w "regex:\\"(a\\"") y))\n')
    assert run("match", "(w $x)", "$x").stdout == ""  # (the run was rolled back)


def test_atoms_holding_a_regex_live_in_the_session_overlay_and_a_later_process_sees_none(tmp_path):
    db = tmp_path / "db"
    with mettadb.open(db) as sp:
        got = sp.run('(st start)\n(st regex:"^s")\n!(add-atom &self (dyn regex:"z$"))\n!(match &self (st stop) yes)\n'
                     '!(match &self (dyn fizz) yes)\n')
        assert [[str(a) for a in r] for r in got] == [["()"], ["yes"], ["yes"]]
    code = ("import mettadb\n"
            f"sp = mettadb.open({str(db)!r})\n"
            "print([[str(a) for a in r] for r in sp.run('!(get-atoms &self)')])\n")
    later = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert later == "[['(st start)']]\n"


def test_load_stores_the_token_as_the_symbol_it_spells(run, write):
    """`load` reads data: the word is kept as written (a symbol), which a script reads as a regex again."""
    assert run("load", str(write("f.metta", '(st regex:"^s")\n(st start)\n(st Stop)\n'))).exit_code == 0
    assert sorted(run("match", "(st $x)", "$x").stdout.splitlines()) == ["Stop", 'regex:"^s"', "start"]
    assert run("dump").stdout.splitlines()[0] == '(st regex:"^s")'


def test_a_pattern_holding_a_regex_matches_stored_atoms(run, write, tmp_path):
    run("load", str(write("f.metta", "(st start)\n(st Stop)\n(st (s x))\n(st tops)\n")))
    assert run("match", '(st regex:"^st")', "$_").stdout == "$_\n$_\n"
    assert run("match", '(st regex:"^s")', "--count").stdout == "2\n"
    r = run("match", '(, (st regex:"s$") (st $y))', "$y")
    assert r.stdout.splitlines() == ["start", "Stop", "(s x)", "tops"]
    r = run("match", '(st regex:"^s")', "--explain")
    assert r.exit_code == 1 and r.stderr.startswith("Error: a pattern holding a regex")
    with mettadb.open(tmp_path / "q") as sp:
        sp.add(mettadb.atom("(k kite)"))
        assert [str(b.resolve(mettadb.atom("$k"))) for b in sp.query('(, (k regex:"^K") (k $k))')] == ["kite"]
        with pytest.raises(EvaluationError):
            list(sp.query('(k regex:"[[")'))
        with pytest.raises((TypeError, MettaDBError)):
            sp.add(parse_atom('(k regex:"a")'))


def test_a_batch_sends_its_queries_regexes_as_regexes(run, write):
    """`batch` hands each query to its workers as text: a regex goes as its token, not as its printed string."""
    run("load", str(write("f.metta", "(st start)\n(st (s x))\n")))
    r = run("batch", str(write("b.metta", '!(match &self (st regex:"^s") $_)\n!(match &self (st regex:"[[s~x]]") $_)\n')))
    assert r.exit_code == 0, r.output
    assert r.stdout == "[$_]\n[$_]\n"


def test_match_many_sends_an_atoms_regex_as_a_regex(tmp_path):
    with mettadb.open(tmp_path / "db") as sp:
        sp.add(mettadb.atom("(st start)"))
        got = sp.match_many([(parse_atom('(st regex:"^S")'), parse_atom("yes"))], jobs=1)
    assert got.lines == ["[yes]"]


def test_help_names_a_regex_by_its_text(run, write):
    """hyperon's `help!` of a regex lists the docs whose names it finds (as `format-args` writes it)."""
    r = run("run", str(write("h.metta", '!(help! regex:"^SpaceT")\n')))
    assert r.stdout.splitlines() == ['Atom regex:"^SpaceT": String The type of spaces', "[()]"]


# ------------------------------------------------------------------ the hyperon bridge


def test_the_bridge_keeps_a_regex_from_hyperon_in_memory_as_hyperon_matches_it(tmp_path):
    """(In a child process, as tests/test_hyperon_bridge.py runs hyperon over a durable space.)"""
    code = f"""
from hyperon import MeTTa
from hyperon.stdlib import RegexMatchableObject
from mettadb.hyperon import DurableSpace
kb = DurableSpace({str(tmp_path / "kb")!r})
m = MeTTa(space=kb.ref)
got = m.run('(st regex:"^s")\\n(st tops)\\n!(match &self (st start) yes)\\n!(match &self (st regex:"s$") $x)\\n'
            '!(get-type regex:"a")\\n!(match &self (st $r) $r)')
print([[str(a) for a in r] for r in got])
print(type(got[3][0].get_object()) is RegexMatchableObject)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[['yes'], ['$x'], ['String'], ['\"regex:\\\\\"^s\\\\\"\"', 'tops']]\nTrue\n"
    with mettadb.open(tmp_path / "kb", readonly=True) as sp:
        assert [str(a) for a in sp.atoms()] == ["(st tops)"]


# ------------------------------------------------------------------ random programs against `metta`

_ARGS = ["a", "Ab", "bc", '"a b"', '"Bc"', "1", "2.5", "True", "(a b)", "(c (a))", "$v", "$w"]
_REGEXES = ['regex:"a"', 'regex:"^a"', 'regex:"b$"', 'regex:"A~B"', 'regex:"[[a"', 'regex:"\\[[a"', 'regex:"1|c"',
            'regex:"^$"', 'regex:""', 'regex:"t"']
_QUERIES = ["!(match &self ({h} $x) $x)", "!(match &self ({h} {r}) yes)", "!(match &self ({h} {r} $y) $y)",
            "!(match &self ({h} $y {r}) $y)", "!(match &self (, ({h} {r}) ({h} $z)) $z)", "!(get-atoms &self)",
            "!(unify {a} {r} yes no)", "!(unify {r} {a} yes no)", "!(case {a} (({r} yes) ($_ no)))",
            "!(unify {a} {r} $matched_pattern no)", "!(match &self ({h} {r}) $matched_pattern)"]


@st.composite
def regex_programs(draw):
    """Facts under two heads, some holding regexes (plain atoms and `add-atom`), removals, then queries
    with regexes in their patterns, `unify` and `case`."""
    head = st.sampled_from(["p", "q"])
    regex = st.sampled_from([r for r in _REGEXES if "[[a" not in r or "\\" in r])
    out, facts = [], []
    for _ in range(draw(st.integers(2, 10))):
        args = draw(st.lists(st.sampled_from(_ARGS + [draw(regex)]), min_size=1, max_size=2))
        if ("$v" in args and "$w" in args) or len(set(args)) < len(args):
            continue  # (which of two query variables names a result follows a hash order in hyperon)
        fact = f"({draw(head)} {' '.join(args)})"
        kind = draw(st.sampled_from(["plain", "add", "drop"]))
        if kind == "drop" and facts:
            out.append(f"!(remove-atom &self {draw(st.sampled_from(facts))})")
        elif fact not in facts:
            facts.append(fact)
            out.append(fact if kind == "plain" else f"!(add-atom &self {fact})")
    for q in draw(st.lists(st.sampled_from(_QUERIES), min_size=1, max_size=4)):
        out.append(q.replace("{h}", draw(head)).replace("{r}", draw(regex)).replace("{a}", draw(st.sampled_from(_ARGS[:-2]))))
    return "\n".join(out) + "\n"


def canon(text: str) -> str:
    """Fresh variables' numbers made uniform (they name nothing the user wrote)."""
    return re.sub(r"(\$[^\s()\],]*)#\d+", r"\1#N", text)


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@settings(max_examples=int(os.environ.get("REGEX_EXAMPLES", "25")), deadline=None)
@given(regex_programs())
def test_regex_programs_print_what_hyperon_prints(tmp_path_factory, program):
    d = tmp_path_factory.mktemp("regex")
    (d / "p.metta").write_text(program)
    theirs = subprocess.run(["metta", "p.metta"], cwd=d, capture_output=True, text=True, timeout=120)
    assert theirs.returncode == 0, program
    ours = CliRunner().invoke(cli, ["--db", str(d / "space"), "run", str(d / "p.metta")], catch_exceptions=False)
    assert canon(ours.stdout) == canon(theirs.stdout), program
