"""Atoms whose MeTTa text does not read back (hyperon's `S("a b")`, `S("1")`, `V("a b")`): the library
and the bridge keep them, as hyperon does; `dump` and `export --format metta` refuse them with one line
naming the atom, rather than write text that `load` reads as other atoms or refuses."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms

import mettadb
from mettadb import E, Float, S, V
from mettadb.atoms import Variable, iter_atoms, unwritable
from mettadb.errors import ParseError
from mettadb.interchange import metta_line
from mettadb.parser import parse_atom, parse_script

#: the stranger's names (f12), and their kin
UNWRITABLE = [S("a b"), S("("), S(")"), S('"q'), S("x;y"), S("1"), S("-2.5"), S("True"), S("$notvar"),
              S("a\tb"), S("a\x00b"), V("a b"), V("x(y"), Float(math.nan), Float(math.inf)]


def reads_back(a) -> bool:
    """Whether the text of `(k a)` parses to `(k a)` itself."""
    try:
        return parse_atom(f"(k {a})") == E(S("k"), a)
    except (ParseError, ValueError):
        return False


@pytest.mark.parametrize("part", UNWRITABLE, ids=repr)
def test_names_text_cannot_express_are_found(part):
    assert unwritable(E(S("k"), E(part))) is not None
    assert not reads_back(part)


def test_a_lone_bang_at_the_top_is_unwritable_inside_it_is_not():
    assert unwritable(S("!")) is not None and list(parse_script("!\n(a b)\n")) == [(True, E(S("a"), S("b")))]
    assert unwritable(E(S("k"), S("!"))) is None and reads_back(S("!"))


@given(st.text(min_size=1, max_size=6, alphabet=st.sampled_from('ab1.-+$";() \t\x00#!éTrue\u00a0\u2028\x1c')))
def test_a_symbol_or_variable_is_writable_exactly_when_its_text_reads_back(name):
    assert (unwritable(S(name)) is None or name == "!") == reads_back(S(name))
    assert (unwritable(V(name)) is None) == reads_back(V(name))


@given(atoms())
def test_the_text_of_a_writable_atom_reads_back(a):
    if unwritable(a) is None:
        assert parse_atom(str(a)) == a


def test_metta_line_names_the_atom_and_its_part():
    assert metta_line(E(S("k"), V("")), 1) == "(k $)"
    with pytest.raises(mettadb.MettaDBError) as e:
        metta_line(E(S("k"), S("a b")), 12_345)
    assert str(e.value) == ("atom 12,345 in insertion order, (k a b), has no MeTTa text that reads back as it "
                            "(the symbol 'a b'); `export --format paths` writes every atom")


@pytest.fixture
def stranger(space_path):
    """The stranger's space (f12): atoms hyperon's API makes, which the library keeps."""
    with mettadb.open(space_path) as sp:
        sp.add(E(S("k"), S("ok")))
        sp.add(E(S("k"), V("")))
        for part in UNWRITABLE:
            sp.add(E(S("k"), part))
        assert len(sp) == 2 + len(UNWRITABLE) and sp.check() == []
    return space_path


def test_dump_and_export_refuse_an_atom_text_cannot_express(stranger, run, tmp_path):
    for argv, out in ((["dump", "-o"], tmp_path / "d.metta"), (["export"], tmp_path / "e.metta"),
                      (["dump"], None), (["export", "-"], None)):
        r = run(*argv, *([str(out)] if out else []))
        assert r.exit_code == 1
        assert r.stderr.splitlines()[-1] == (
            "Error: atom 3 in insertion order, (k a b), has no MeTTa text that reads back as it (the symbol 'a b'); "
            "`export --format paths` writes every atom")
        assert "Traceback" not in r.output
        if out is not None:
            assert not out.exists()
        else:
            assert r.stdout == "(k ok)\n(k $)\n"
    # JSON lines are hyperon's printed text for other tools; .paths keeps every atom
    assert run("export", "--format", "jsonl", str(tmp_path / "e.jsonl")).exit_code == 0
    assert run("export", "--format", "paths", str(tmp_path / "e.paths")).exit_code == 0
    again = tmp_path / "again.db"
    r = run("--db", str(again), "load", "--duplicates", str(tmp_path / "e.paths"), db=False)
    assert r.exit_code == 0, r.output
    with mettadb.open(stranger, readonly=True) as a, mettadb.open(again, readonly=True) as b:
        assert len(b) == len(a) and b.check() == []
        ground = [sorted(repr(x) for x in sp if not any(type(y) is Variable for y in iter_atoms(x))) for sp in (a, b)]
        assert ground[0] == ground[1] and len(ground[0]) == len(a) - 3  # (a path keeps no variable names)


def test_a_space_without_such_atoms_dumps_text_that_loads_back(run, write, tmp_path):
    text = '(k $)\n(k "a b")\n(k !)\n(k ١٢)\n(= (f $x) (g $x 1.5 -7 True))\n(k x#y)\n'
    assert run("load", "--duplicates", str(write("kb.metta", text))).exit_code == 0
    dumped = run("dump").stdout
    again = tmp_path / "again.db"
    assert run("--db", str(again), "load", "--duplicates", str(write("d.metta", dumped)), db=False).exit_code == 0
    r = subprocess.run([sys.executable, "-c", "from mettadb.cli.main import main; main()", "--db", str(again), "dump"],
                       capture_output=True, text=True, check=True)
    assert r.stdout == dumped == text


_BRIDGE = r"""
import sys
from hyperon import E, MeTTa, S, V
from mettadb.hyperon import DurableSpace
kb = DurableSpace(sys.argv[1])
for part in (S("a b"), S("1"), S("("), V("a b")):
    kb.ref.add_atom(E(S("k"), part))
m = MeTTa(space=kb.ref)
print(m.run("!(match &self (k $x) $x)"))
"""


def test_the_bridge_keeps_what_hyperon_names(space_path, run):
    pytest.importorskip("hyperon")
    p = subprocess.run([sys.executable, "-c", _BRIDGE, str(space_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout == "[[$x, a b, 1, (]]\n"  # (what hyperon prints over its own space)
    r = run("dump")
    assert r.exit_code == 1 and r.stderr.startswith("Error: atom 1 in insertion order, (k a b), has no MeTTa text")


def test_a_refused_dump_through_a_link_leaves_the_link(stranger, run, tmp_path):
    target = tmp_path / "target.metta"
    target.write_text("old\n")
    link = tmp_path / "link.metta"
    link.symlink_to(target)
    r = run("dump", "-o", str(link))
    assert r.exit_code == 1 and r.stderr.startswith("Error: atom 3 in insertion order")
    assert link.is_symlink() and target.read_text() == "(k ok)\n(k $)\n"
