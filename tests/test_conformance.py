"""Conformance: every script in tests/conformance/ printed by `mettadb run` as hyperon's `metta` prints it.

`X.metta` is a conformance script when `X.expected` sits beside it: the bytes
hyperon 0.2.10's `metta X.metta` printed (regenerate one with
`cd tests/conformance && metta X.metta > X.expected`).  Output is compared
byte for byte, except the numbers hyperon appends to fresh variables
(`$t#110`) and the addresses in the names of spaces, generators and file handles
(`GroundingSpace-0x55d0...`, `RandomGenerator-0x...`, `FileHandle-0x...`),
which name nothing the user wrote.  Other `.metta` files there
(modules/) are modules the scripts import; modules/fileio.txt is a file
`modules_fileio` reads, and ascii/ holds the files the `load_ascii` scripts read.  A script
whose name starts with `py_` runs with `--allow-python` (it calls Python: `py-atom`, `py-dot`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mettadb.cli.main import cli

import mettadb

hyperon = pytest.importorskip("hyperon")

HERE = Path(__file__).parent / "conformance"
SCRIPTS = sorted(p for p in HERE.glob("*.metta") if p.with_suffix(".expected").exists())

#: scripts whose output does not match hyperon's yet (issue #13), with what is missing
KNOWN_DIFFERENT: dict[str, str] = {}


def canon(text: str) -> str:
    """Output with what names nothing the user wrote made uniform: fresh variables' numbers, space addresses."""
    text = re.sub(r"(\$[^\s()\],]*)#\d+", r"\1#N", text)
    return re.sub(r"(GroundingSpace|RandomGenerator|FileHandle)-0x[0-9a-f]+", r"\1-0xN", text)


def mettadb_run(script: Path, db: Path) -> str:
    """What `mettadb run SCRIPT` prints on stdout, run from the script's directory."""
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(script.parent)
    try:
        python = ["--allow-python"] if script.name.startswith("py_") else []
        res = runner.invoke(cli, ["--db", str(db), "run", *python, script.name], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return res.stdout


@pytest.mark.parametrize("script", [
    pytest.param(p, id=p.stem, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENT[p.stem]))
    if p.stem in KNOWN_DIFFERENT else pytest.param(p, id=p.stem) for p in SCRIPTS])
def test_script_prints_what_hyperon_prints(script: Path, tmp_path: Path) -> None:
    ours = mettadb_run(script, tmp_path / "space")
    assert canon(ours) == canon(script.with_suffix(".expected").read_text())


def fresh_order(text: str) -> list[list[int]]:
    """Per line, the rank of each fresh variable's number among that line's numbers: the order in
    which hyperon numbered them, whatever the numbers are."""
    out = []
    for line in text.splitlines():
        nums = [int(n) for n in re.findall(r"\$[^\s()\],]*#(\d+)", line)]
        rank = {n: i for i, n in enumerate(sorted(set(nums)))}
        out.append([rank[n] for n in nums])
    return out


@pytest.mark.parametrize("script", [p for p in SCRIPTS if p.stem not in KNOWN_DIFFERENT
                                    and len(re.findall(r"#\d+", p.with_suffix(".expected").read_text())) > 1],
                         ids=lambda p: p.stem)
def test_fresh_variables_numbered_in_hyperons_order(script: Path, tmp_path: Path) -> None:
    """Within one printed line, fresh variables' numbers rise in the order hyperon's do (a rule's
    variables numbered as they are written, head first: `(q $z $d#156 $e#157 $c#154)`), and the
    stored atoms one query meets share a variable of one name (`(-> $t#23 $t#23)` in two types)."""
    ours = mettadb_run(script, tmp_path / "space")
    assert fresh_order(ours) == fresh_order(script.with_suffix(".expected").read_text())


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_expected_is_what_hyperon_prints(script: Path) -> None:
    """The stored `.expected` is still hyperon's output (so it cannot drift towards ours).

    hyperon's index of grounded values is a hash map seeded at random per process: a number met in
    another spelling is now and then found by a tag collision (`numbers_by_value` differs in about
    one run in ten), so a script counts as hyperon's when one of up to 8 runs prints `.expected`."""
    want = canon(script.with_suffix(".expected").read_text())
    for _ in range(8):
        got = subprocess.run(["metta", script.name], cwd=script.parent, capture_output=True, text=True, timeout=120)
        if canon(got.stdout) == want:
            break
    assert canon(got.stdout) == want


def test_a_durable_space_stores_no_imported_atoms(tmp_path: Path) -> None:
    """`import! &self` into a durable space: the module's atoms stay in the run's module space, never
    stored, so a second run against the same space prints hyperon's output again, and a later run
    without the import sees only the script's own atoms."""
    script = HERE / "import_durable.metta"
    db = tmp_path / "space"
    want = canon(script.with_suffix(".expected").read_text())
    for _ in range(2):
        assert canon(mettadb_run(script, db)) == want
    with mettadb.open(db, readonly=True) as space:
        assert sorted(map(str, space.atoms())) == ["(mine 1)"]
    later = tmp_path / "later.metta"
    later.write_text("!(get-atoms &self)\n!(match &self (val $x) $x)\n!(f 1)\n")
    assert mettadb_run(later, db) == "[(mine 1)]\n[]\n[(f 1)]\n"


# ---------------------------------------------------------------- random programs vs hyperon


def lines(results: list[list[object]], unordered: bool) -> list[list[str]]:
    out = []
    for r in results:
        texts = [canon(str(a)) for a in r]
        out.append(sorted(texts) if unordered else texts)
    return out

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
    # rules whose bodies yield several results: several equations each, nested, through forms
    "multi": ["(= (multi $x) (superpose ($x (+ $x {n}))))", "(= (multi $x) (superpose ((* $x 2) {m})))"],
    "via": ["(= (via $x) (reach (reach $x)))"],
    "letnd": ["(= (letnd $x) (let $y (nd $x) (multi $y)))"],
    "ifnd": ["(= (ifnd $x) (if (> $x {n}) (multi $x) (nd $x)))"],
    "casend": ["(= (casend $x) (case (multi $x) (({n} hit) ($o (nd $o)))))"],
    "col": ["(= (col $x) (collapse (multi $x)))"],
    "kin": ["(= (kin $x) (match &self (edge $x $y) (val-of $y)))"],
    "both": ["(= (both $x) ((nd $x) (multi $x)))"],
    # atoms equal up to the names of their variables: different atoms (hyperon's), one key here
    "same": ["(= (same $x) (+ $x 1))", "(= (same 0) zero)", "(= (same $y) (+ $y 1))"],
    "link": ["(link $p a)", "(link b $q)", "(link $q a)", "(link $p a)"],
}
_QUERIES = [
    "!(f {n})", "!(h {n})", "!(nd {n})", "!(h (nd {n}))", "!(+ (nd {n}) (nd {m}))", "!(reach {s})",
    "!(twohop {s})", "!(size (f {n}))", "!(pick)", "!(f (pick))", "!(val-of {s})", "!(size (val-of {s}))",
    "!(match &self (val $p $v) ($p (f $v)))", "!(match &self (edge $a $b) (twohop $b))",
    "!(let $x (nd {n}) (* $x $x))", "!(case (nd {n}) (({n} same) ($other other)))", "!(== (f {n}) (nd {m}))",
    "!(superpose ({s} (nd {n})))", "!(unify (edge $a {s}) (edge {t} $b) ($a $b) none)",
    "!(multi {n})", "!(via {s})", "!(letnd {n})", "!(ifnd {n})", "!(casend {n})", "!(col {n})", "!(kin {s})",
    "!(both {n})", "!(nd (multi {n}))", "!(multi (nd {n}))", "!(let* (($a (nd {n})) ($b (multi $a))) ($a $b))",
    "!(match &self (edge {s} $y) (multi (nd 1)))", "!(collapse (letnd {n}))", "!(superpose ((multi {n}) (via {s})))",
    "!(same {n})", "!(match &self (link {s} $b) found)", "!(remove-atom &self (link $q a))",
    "!(remove-atom &self (link $p a))", "!(remove-atom &self (= (same $y) (+ $y 1)))",
]
_SYMS = ["a", "b", "c", "d"]


@st.composite
def programs(draw):
    """Facts, rules and `!` queries, in any order (hyperon's trie order of the stored atoms shows)."""
    n = st.integers(-5, 20)
    sym = st.sampled_from(_SYMS)
    # (each fact once: how a conjunction interleaves the copies of a fact is not this test's subject)
    lines = list(dict.fromkeys(f"(edge {draw(sym)} {draw(sym)})" for _ in range(draw(st.integers(0, 8)))))
    lines += dict.fromkeys(f"(val {draw(sym)} {draw(n)})" for _ in range(draw(st.integers(0, 4))))
    for name in draw(st.lists(st.sampled_from(sorted(_RULES)), min_size=1, max_size=8, unique=True)):
        lines += [r.format(n=draw(n), m=draw(n)) for r in _RULES[name]]
    draw(st.randoms()).shuffle(lines)
    lines += [q.format(n=draw(n), m=draw(n), s=draw(sym), t=draw(sym))
              for q in draw(st.lists(st.sampled_from(_QUERIES), min_size=1, max_size=5))]
    return "\n".join(lines) + "\n"


@settings(max_examples=25 if os.environ.get("CI") else 40, deadline=None)
@given(programs())
def test_random_programs_match_hyperon(tmp_path_factory, program):
    """Facts, rules (several yielding several results), arithmetic and nondeterminism: the same
    results in the same order for every `!`."""
    with mettadb.open(tmp_path_factory.mktemp("rnd") / "space") as sp:
        ours = sp.run(program)
    theirs = hyperon.MeTTa().run(program)
    assert lines(ours, False) == lines(theirs, False), program


# ---------------------------------------------------------------- types, states, spaces, imports: byte for byte

_DECLS = {
    "nat": ["(: Nat Type)", "(: Z Nat)", "(: S (-> Nat Nat))"],
    "bool2": ["(: B Type)", "(: T B)", "(: F B)", "(: not2 (-> B B))", "(= (not2 T) F)", "(= (not2 F) T)"],
    "twice": ["(: apply-twice (-> (-> $t $t) $t $t))", "(= (apply-twice $f $x) ($f ($f $x)))"],
    "compose": ["(: compose (-> (-> $b $c) (-> $a $b) (-> $a $c)))", "(= ((compose $f $g) $x) ($f ($g $x)))"],
    "vec": ["(: Vec (-> Type Number Type))", "(: Nil (Vec $t 0))", "(: Cons (-> $t (Vec $t $n) (Vec $t (+ $n 1))))"],
    "pair": ["(: (A B) PairAB)"],
    "num": ["(: inc (-> Number Number))", "(= (inc $x) (+ $x 1))"],
    "quoted": ["(: keep (-> Atom Atom))", "(= (keep $x) $x)"],
}
# (not here: `(keep (+ 1 2))` as new-state's argument, which hyperon evaluates on to 3 and mettadb leaves
# as returned by the Atom-typed `keep`: a known difference of issue #13)
_TERMS = [
    "Z", "(S Z)", "(S (S Z))", "(S T)", "(S 1)", "T", "(not2 T)", "(not2 (not2 F))", "(not2 Z)", "(apply-twice S Z)",
    "(apply-twice not2 T)", "(apply-twice S)", "(apply-twice S T)", "((compose S S) Z)", "((compose not2 not2) T)",
    "(compose S S)", "(Cons 1 Nil)", "(Cons 1 (Cons 2 Nil))", "(Cons T Nil)", "Nil", "(A B)", "(+ 1 2)", "(+ 1)",
    "(+ 1 T)", "(== Z Z)", "(== 5 \"s\")", "(== (S Z) (S Z))", "(inc 4)", "(inc (inc 1))", "(inc Z)",
    "(keep (S Z))", "{n}", "\"str\"", "unknown", "(unknown 1)", "(S Z Z)", "(inc)",
]
_STEPS = [
    "!(get-type {t})", "!{t}", "!(get-type {t})",
    "!(bind! &s (new-state {t}))\n!(get-type &s)\n!(change-state! &s {u})\n!(get-state &s)",
    "!(bind! &kb (new-space))\n!(add-atom &kb (fact {t}))\n!(add-atom &self (holds &kb))\n"
    "!(match &self (holds $k) (match $k (fact $x) $x))",
    "!(let $s (new-state {t}) (add-atom &self (lamp $s)))\n!(match &self (lamp $s) (get-state $s))",
    "!(add-atom &self (stored {t}))\n!(match &self (stored $x) (quote $x))",
    "!(import! &self modules:m1)\n!(import! &self modules:m1)\n!(match &self (val $x) $x)",
    "!(import! &mod modules:m1)\n!(match &mod (val $x) $x)",
    "!(import! &self modules:m1)\n!(get-atoms &self)\n!(mval {t})",
    "!(import! &self modules:m1)\n!(remove-atom &self (val 102))\n!(match &self (, (val $x) (mval $x)) $x)",
    "!(match &self (: {t} $t) (quote $t))",
    # (assertIncludes is left to its conformance script: hyperon 0.2.10 reports an expected item
    # whose evaluation fails as `(Error (item) IncorrectNumberOfArguments)`, a quirk not copied)
    "!(assertEqual {t} {u})",
    "!(switch-minimal {t} (({t} {u})))", "!(capture {t})",
]


@st.composite
def typed_programs(draw):
    term = st.sampled_from(_TERMS)
    n = draw(st.integers(-3, 9))
    out = ["!(pragma! type-check auto)"] if draw(st.booleans()) and draw(st.booleans()) else []
    for name in draw(st.lists(st.sampled_from(sorted(_DECLS)), min_size=1, max_size=5, unique=True)):
        out += _DECLS[name]
    for k, step in enumerate(draw(st.lists(st.sampled_from(_STEPS), min_size=1, max_size=4))):
        # each step's facts get a head of their own: the order of several facts under one
        # head (insertion order in hyperon, key order here) is issue #13's rule_order script
        step = step.replace("stored", f"stored{k}").replace("(lamp", f"(lamp{k}").replace("holds", f"holds{k}")
        out.append(step.format(t=draw(term), u=draw(term)).replace("{n}", str(n)))
    return "\n".join(out).replace("{n}", str(n)) + "\n"


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@settings(max_examples=15 if os.environ.get("CI") else 40, deadline=None)
@given(typed_programs())
def test_typed_programs_print_what_hyperon_prints(tmp_path_factory, program):
    """Types, states, spaces inside atoms and imports: `mettadb run` prints hyperon's bytes."""
    d = tmp_path_factory.mktemp("typed")
    (d / "modules").mkdir()
    (d / "modules" / "m1.metta").write_text("(val 102)\n(= (mval $x) (got $x))\n(: mval (-> Number Number))\n")
    (d / "p.metta").write_text(program)
    theirs = subprocess.run(["metta", "p.metta"], cwd=d, capture_output=True, text=True, timeout=120)
    assume(theirs.returncode == 0 and "Traceback" not in theirs.stdout)  # hyperon itself failed: nothing to compare
    ours = mettadb_run(d / "p.metta", d / "space")
    assert canon(ours) == canon(theirs.stdout), program


# ---------------------------------------------------------------- side effects among alternatives: byte for byte

_EFFECT_RULES = {
    "say": ["(= (say $x) (println! (Say $x)))", "(= (say $x) (println! (Again $x)))"],
    "nd": ["(= (nd $x) $x)", "(= (nd $x) (+ $x {n}))"],
    "log": ["(= (log $x) (superpose ((println! (L1 $x)) (println! (L2 $x)) $x)))"],
    "note": ["(= (note $x) (add-atom &self (noted $x)))"],
    "seen": ["(= (seen) (match &self (noted $x) (println! (Seen $x))))"],
    "each": ["(= (each $x) (match &self (edge $x $y) (say $y)))"],
    "mix": ["(= (mix $x) (superpose ((note $x) (seen) (say $x))))"],
    "tick": ["(= (tick $x) (let $old (get-state &c) (change-state! &c (+ $old $x))))"],
}
_EFFECT_QUERIES = [
    "!(say {n})", "!(log (nd {n}))", "!(say (nd {n}))", "!(let $x (nd {n}) (log $x))",
    "!(superpose ((say {n}) (note {m}) (seen)))", "!(mix {n})", "!(each {s})", "!(seen)",
    "!(match &self (edge $a $b) (println! (E $a $b)))", "!(collapse (mix {n}))",
    "!(case (nd {n}) (({n} (say same)) ($o (log $o))))", "!(switch (nd {n}) (({n} (say same)) ($o (log $o))))",
    "!(let* (($a (nd {n})) ($b (log $a))) (say $b))", "!(+ (log {n}) (nd {m}))",
    "!(if (> (nd {n}) 3) (say big) (log small))", "!((say {n}) (log {m}))", "!(unify (nd {n}) {n} (say yes) (say no))",
    "!(tick (nd {n}))", "!(superpose ((tick {n}) (println! (get-state &c)) (tick {m})))", "!(get-state &c)",
    "!(match &self (edge {s} $y) (superpose ((note $y) (seen))))", "!(collapse (each {s}))",
]


@st.composite
def effect_programs(draw):
    """Rules and queries whose alternatives print, add atoms and change a state."""
    n = st.integers(-3, 9)
    sym = st.sampled_from(_SYMS)
    lines = list(dict.fromkeys(f"(edge {draw(sym)} {draw(sym)})" for _ in range(draw(st.integers(0, 5)))))
    for name in draw(st.lists(st.sampled_from(sorted(_EFFECT_RULES)), min_size=1, max_size=8, unique=True)):
        lines += [r.format(n=draw(n)) for r in _EFFECT_RULES[name]]
    draw(st.randoms()).shuffle(lines)
    lines.insert(0, "!(bind! &c (new-state 0))")
    lines += [q.format(n=draw(n), m=draw(n), s=draw(sym))
              for q in draw(st.lists(st.sampled_from(_EFFECT_QUERIES), min_size=1, max_size=5))]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@settings(max_examples=15 if os.environ.get("CI") else 40, deadline=None)
@given(effect_programs())
def test_side_effects_happen_in_hyperons_order(tmp_path_factory, program):
    """What alternatives print, add and change, in hyperon's order (and what later ones see of it):
    `mettadb run` prints hyperon's bytes."""
    d = tmp_path_factory.mktemp("effects")
    (d / "p.metta").write_text(program)
    theirs = subprocess.run(["metta", "p.metta"], cwd=d, capture_output=True, text=True, timeout=120)
    assume(theirs.returncode == 0 and "Traceback" not in theirs.stdout)  # hyperon itself failed: nothing to compare
    ours = mettadb_run(d / "p.metta", d / "space")
    assert canon(ours) == canon(theirs.stdout), program


# ---------------------------------------------------------------- names of variables that meet variables

_NAME_VARS = ["$a", "$b", "$c", "$d"]
_STORED_VARS = ["$p", "$q", "$r"]
#: how often each `!` is repeated in hyperon's run: its choice among equal variables can follow the
#: order of a hash map seeded afresh for each evaluation, so one run samples it that many times
_NAME_SAMPLES = 24


@st.composite
def _var_term(draw, names: list[str], depth: int = 0) -> str:
    k = draw(st.integers(0, 19))
    if depth < 2 and k < 5:
        return "(" + " ".join(draw(_var_term(names, depth + 1)) for _ in range(draw(st.integers(1, 3)))) + ")"
    return draw(st.sampled_from(["x", "y"])) if k > 16 else draw(st.sampled_from(names))


@st.composite
def naming_programs(draw):
    """Atoms with variables meeting variables in `unify`, `let`, `let*`, `case`, `match` over stored
    atoms with variables (one pattern or a conjunction) and rule heads: (facts, queries)."""
    facts: list[str] = []
    queries: list[str] = []
    res = "(" + " ".join(_NAME_VARS) + ")"
    for i in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 3))

        def tup(names: list[str] = _NAME_VARS, size: int = n) -> str:
            return "(" + " ".join(draw(_var_term(names, 1)) for _ in range(size)) + ")"
        kind = draw(st.sampled_from(["unify", "let", "case", "let*", "match", "conj", "rule", "nested"]))
        if kind == "unify":
            queries.append(f"!(unify {tup()} {tup()} {res} none)")
        elif kind == "let":
            queries.append(f"!(let {tup()} {tup()} {res})")
        elif kind == "case":
            queries.append(f"!(case {tup()} (({tup()} {res})))")
        elif kind == "let*":
            queries.append(f"!(let* (({tup()} {tup()}) ({tup(size=2)} {tup(size=2)})) {res})")
        elif kind == "match":
            facts.append(f"(s{i} {tup(_STORED_VARS)})")
            queries.append(f"!(match &self (s{i} {tup()}) {res})")
        elif kind == "conj":
            facts += [f"(s{i} {tup(_STORED_VARS)})", f"(t{i} {tup(_STORED_VARS, 2)})"]
            queries.append(f"!(match &self (, (s{i} {tup()}) (t{i} {tup(size=2)})) {res})")
        elif kind == "rule":
            facts.append(f"(= (f{i} {tup(_STORED_VARS)}) (r{i} $p $q $r))")
            queries.append(f"!(f{i} {tup()})")
        else:
            queries.append(f"!(let {tup()} {tup()} (let {tup(size=2)} {tup(size=2)} {res}))")
    return facts, queries


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@settings(max_examples=15 if os.environ.get("CI") else 40, deadline=None)
@given(naming_programs())
def test_variables_are_named_as_hyperon_names_them(tmp_path_factory, program):
    """When variables meet variables, the result carries a name hyperon gives it: the one it always
    gives, or (where its choice follows a hash order) one of those it gives."""
    facts, queries = program
    d = tmp_path_factory.mktemp("names")
    (d / "h.metta").write_text("\n".join(facts + [q for q in queries for _ in range(_NAME_SAMPLES)]) + "\n")
    theirs = subprocess.run(["metta", "h.metta"], cwd=d, capture_output=True, text=True, timeout=120)
    # (hyperon 0.2.10 now and then aborts in `Bindings::merge` on nested variable loops)
    assume(theirs.returncode == 0)
    samples = canon(theirs.stdout).splitlines()
    assert len(samples) == len(queries) * _NAME_SAMPLES, theirs.stdout
    (d / "p.metta").write_text("\n".join(facts + queries) + "\n")
    ours = canon(mettadb_run(d / "p.metta", d / "space")).splitlines()
    assert len(ours) == len(queries), ours
    for i, q in enumerate(queries):
        seen = set(samples[i * _NAME_SAMPLES:(i + 1) * _NAME_SAMPLES])
        assert ours[i] in seen, (facts, q, ours[i], seen)


# ---------------------------------------------------------------- session objects among stored atoms: byte for byte

_ARGS = ["a", "b", "1", "(x a)", "(x b)", "$v", "(x $w)"]
_OBJECTS = ["&s1", "&s2", "&sp", "$s", "(x $s)", "(x &s1)"]
_OVERLAY_QUERIES = [
    "!(match &self ({h} $y) (quote $y))", "!(match &self ({h} $y $z) (quote ($y $z)))",
    "!(match &self ($h $y) (quote ($h $y)))", "!(match &self ({h} (x $y)) (quote $y))",
    "!(match &self ({h} a $z) (quote $z))", "!(match &self ({h} &s1) yes)",
    "!(match &self (, ({h} $y) ({h} $z)) (quote ($y $z)))", "!(match &self (, ({h} &s1) ($h $y)) (quote ($h $y)))",
    "!(get-atoms &self)",
    # a space inside an atom matches by a query of the space (`&sp` holds `a` and `(x b)`)
    "!(match &self (, ({h} $y) ({h} $y)) (quote $y))", "!(match &self ({h} a) yes)", "!(match &self ({h} &sp) yes)",
    "!(match &self ({h} (x $y)) (quote $y))",
]


@st.composite
def overlay_programs(draw):
    """Stored facts and atoms holding states and spaces (a durable space's session overlay) under shared
    heads, in any order, with removals of both kinds, then matches and `get-atoms`."""
    head = st.sampled_from(["p", "q"])
    out = ["!(bind! &s1 (new-state one))", "!(bind! &s2 (new-state two))", "!(bind! &sp (new-space))",
           "!(add-atom &sp a)", "!(add-atom &sp (x b))"]
    stored: set[str] = set()
    objects: list[str] = []
    for _ in range(draw(st.integers(2, 12))):
        kind = draw(st.sampled_from(["fact", "fact", "object", "object", "drop"]))
        if kind == "fact":
            # (no variable twice: which of two query variables names a result then follows a hash order in hyperon)
            fact = f"({draw(head)} {' '.join(draw(st.lists(st.sampled_from(_ARGS), min_size=1, max_size=2, unique=True)))})"
            if fact not in stored:  # (each fact once; two atoms equal up to variable names are one here)
                stored.add(fact)
                out.append(fact)
        elif kind == "object":
            args = draw(st.lists(st.sampled_from(_ARGS), max_size=1))
            obj = draw(st.sampled_from(_OBJECTS))
            pos = draw(st.integers(0, len(args)))
            atom = f"({draw(head)} {' '.join(args[:pos] + [obj] + args[pos:])})"
            objects.append(atom)
            out.append(f"!(let $s (new-state {draw(st.sampled_from(['one', 'three']))}) (add-atom &self {atom}))"
                       if "$s" in atom else f"!(add-atom &self {atom})")
        else:
            choices = sorted(stored) + [o for o in objects if "$s" not in o]
            if choices:
                out.append(f"!(remove-atom &self {draw(st.sampled_from(choices))})")
    for q in draw(st.lists(st.sampled_from(_OVERLAY_QUERIES), min_size=1, max_size=4)):
        out.append(q.replace("{h}", draw(head)))
    return "\n".join(out) + "\n"


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@settings(max_examples=15 if os.environ.get("CI") else int(os.environ.get("OVERLAY_EXAMPLES", "30")), deadline=None)
@given(overlay_programs())
def test_session_objects_among_stored_atoms_print_what_hyperon_prints(tmp_path_factory, program):
    """A durable space's stored atoms and its session overlay's (states, spaces) come in hyperon's order,
    one trie's, through additions and removals of both: `mettadb run` prints hyperon's bytes."""
    d = tmp_path_factory.mktemp("overlay")
    (d / "p.metta").write_text(program)
    theirs = subprocess.run(["metta", "p.metta"], cwd=d, capture_output=True, text=True, timeout=120)
    assume(theirs.returncode == 0)  # (hyperon 0.2.10 now and then crashes on a space among the atoms)
    ours = mettadb_run(d / "p.metta", d / "space")
    assert canon(ours) == canon(theirs.stdout), program
