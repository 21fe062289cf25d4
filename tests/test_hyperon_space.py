"""hyperon with a mettadb space: as a token, as `&self`, across processes, and beyond hyperon's size limit."""

from __future__ import annotations

import subprocess
import sys

import pytest

hyperon = pytest.importorskip("hyperon")

from mettadb.hyperon import DurableSpace  # noqa: E402

_ADD = """
import sys
from hyperon import MeTTa
from mettadb.hyperon import DurableSpace
kb = DurableSpace(sys.argv[1])
m = MeTTa()
m.register_atom("&kb", kb.atom)
print(m.run(sys.argv[2]))
"""


def run_in_new_process(path, program):
    out = subprocess.run([sys.executable, "-c", _ADD, str(path), program], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_changes_persist_across_processes(tmp_path):
    kb = tmp_path / "kb"
    assert run_in_new_process(kb, "!(add-atom &kb (likes Ann Tea))") == "[[()]]"
    assert run_in_new_process(kb, "!(match &kb (likes Ann $x) $x)") == "[[Tea]]"
    assert run_in_new_process(kb, "!(remove-atom &kb (likes Ann Tea)) !(match &kb (likes Ann $x) $x)") == "[[()], []]"


def test_as_the_runners_own_space(tmp_path):
    kb = DurableSpace(tmp_path / "kb")
    metta = hyperon.MeTTa(space=kb.ref)
    out = metta.run("(= (fact $n) (if (== $n 0) 1 (* $n (fact (- $n 1)))))\n(likes Ann Tea)\n"
                    "!(fact 5)\n!(match &self (likes $w Tea) $w)\n!(match &self (, (likes $w $d)) ($w $d))")
    assert [[str(a) for a in r] for r in out] == [["120"], ["Ann"], ["(Ann Tea)"]]
    assert len(kb.space) == 2  # the rule and the fact are durable; hyperon's operations are not stored
    kb.close()


def test_grounded_values_round_trip(tmp_path):
    kb = DurableSpace(tmp_path / "kb")
    metta = hyperon.MeTTa()
    metta.register_atom("&kb", kb.atom)
    metta.run('!(add-atom &kb (v 42 2.5 "s" True))')
    assert [str(a) for a in kb.space.atoms()] == ['(v 42 2.5 "s" True)']
    [[r]] = metta.run("!(match &kb (v $i $f $s $b) ($i $f $s $b))")
    assert str(r) == '(42 2.5 "s" True)'
    [[t]] = metta.run("!(match &kb (v $i $f $s $b) (+ $i 1))")
    assert str(t) == "43"


def test_a_100k_atom_space_answers_correctly_from_hyperon(tmp_path):
    import mettadb

    path = tmp_path / "big"
    f = tmp_path / "big.metta"
    f.write_text("".join(f"(edge N{i} N{(i * 7919) % 100_000})\n" for i in range(100_000)))
    with mettadb.open(path) as sp:
        assert sp.load(f).added == 100_000
    kb = DurableSpace(path)
    metta = hyperon.MeTTa()
    metta.register_atom("&kb", kb.atom)
    out = metta.run("!(match &kb (edge N12345 $x) $x)\n!(match &kb (edge $x N7919) $x)\n"
                    "!(match &kb (, (edge N1 $y) (edge $y $z)) $z)")
    assert [[str(a) for a in r] for r in out] == [[f"N{(12345 * 7919) % 100_000}"], ["N1"],
                                                  [f"N{(7919 * 7919) % 100_000}"]]
    assert kb.atom_count() == 100_000
    kb.close()


def test_changes_inside_a_transaction_commit_together_or_not_at_all(tmp_path):
    kb = DurableSpace(tmp_path / "kb")
    metta = hyperon.MeTTa()
    metta.register_atom("&kb", kb.atom)
    try:
        with kb.transaction():
            metta.run("!(add-atom &kb (a 1)) !(add-atom &kb (a 2))")
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert kb.atom_count() == 0
    with kb.transaction():
        metta.run("!(add-atom &kb (a 1)) !(add-atom &kb (a 2))")
        gen = kb.space.generation
    assert kb.atom_count() == 2 and kb.space.generation == gen + 1  # one commit for both
    kb.close()
