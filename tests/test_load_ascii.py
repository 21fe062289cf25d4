"""`load-ascii`: what the conformance scripts cannot show (hyperon prints a Python traceback for its
failures, or aborts): the file sandbox, refusals of read-only spaces, bad files of every kind, and
the reader against hyperon's own on random text."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import mettadb_cmd, without_root_powers
from hypothesis import given, settings
from hypothesis import strategies as st

import mettadb
from mettadb.asciitext import read_ascii
from mettadb.parallel import evaluate_many


def texts(data: bytes) -> list[str]:
    return [str(a) for a in read_ascii(data)]


# ---------------------------------------------------------------- the reader


def test_words_and_parentheses_only():
    assert texts(b'; c\n(p "a b" $x !y)\n') == [";", "c", '(p "a b" $x !y)']


def test_a_backslash_takes_the_next_byte_into_the_word():
    assert texts(b"(a\\ b \\(c\\) d\\\\e)\n") == ["(a b (c) d\\e)"]


def test_stray_parentheses_at_the_top_level():
    # `)` with none open is skipped inside the word; `(` right after a top-level word is skipped
    assert texts(b"a)b f(x) (g)\n") == ["ab", "f", "x", "(g)"]


def test_what_is_open_at_the_end_is_dropped():
    assert texts(b"(a) last") == ["(a)"]
    assert texts(b"(a) (b (c)") == ["(a)"]
    assert texts(b"(a) tail\\") == ["(a)"]


def test_a_word_ends_at_a_nul_byte_and_an_empty_one_is_left_out():
    assert texts(b"x \0yz (p\0q r) \0 w\n") == ["x", "(p r)", "w"]


@pytest.mark.parametrize("word, shown, kind", [
    ("12", "12", "Integer"), ("-7", "-7", "Integer"), ("1.0", "1", "Integer"), ("12abc", "12", "Integer"),
    ("15e0", "15", "Integer"), ("2.0000000000000000001", "2", "Integer"), ("-0.0", "0", "Integer"),
    ("0xg", "0", "Integer"), ("0e99999999999999999999", "0", "Integer"),
    ("1.5", "1.5", "Float"), ("1e3", "1000.0", "Float"), ("0x10", "16.0", "Float"), ("0x1p3", "8.0", "Float"),
    ("-0x1.8p1", "-3.0", "Float"), ("1e400", "inf", "Float"), ("-1e400", "-inf", "Float"), ("0.00001", "1e-5", "Float"),
    ("9223372036854775808", "9223372036854775808", "Symbol"), ("-", "-", "Symbol"), ("-x", "-x", "Symbol"),
    ("1e5000", "1e5000", "Symbol"), ("1e-5000", "1e-5000", "Symbol"), (".5", ".5", "Symbol"), ("+5", "+5", "Symbol"),
    ("-.5", "-.5", "Symbol"), ("1" * 5000, "1" * 5000, "Symbol"), ("0" * 5000 + "7", "7", "Integer"),
    ("1." + "0" * 5000 + "1", "1", "Integer"), ("1e" + "9" * 5000, "1e" + "9" * 5000, "Symbol"),
], ids=lambda v: v if len(v) < 30 else f"{v[:12]}...({len(v)})")
def test_numbers_as_stoll_and_stold_read_them(word, shown, kind):
    [atom] = read_ascii(word.encode() + b" ")
    assert (str(atom), type(atom).__name__) == (shown, kind)


_STOX = r"""
#include <cstdio>
#include <iostream>
#include <string>
int main() {  // hyperon's test of a word (hyperonpy.cpp's load_ascii), one word a line
    std::string s;
    while (std::getline(std::cin, s)) {
        if (s.empty() || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) { std::cout << "S\n"; continue; }
        try {
            long double ld = std::stold(s);
            long long ll = std::stoll(s);
            if (ll == ld) { std::cout << "I " << ll << "\n"; continue; }
            char buf[64];
            snprintf(buf, sizeof buf, "%.17g", (double)ld);
            std::cout << "F " << buf << "\n";
        } catch (...) { std::cout << "S\n"; }
    }
}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="no C++ compiler")
def test_numbers_as_the_c_library_reads_them(tmp_path):
    """Random words of digits, signs, points, exponents and hex against C++'s own `stoll`/`stold`
    (glibc's: the library hyperon's reader calls)."""
    (tmp_path / "stox.cpp").write_text(_STOX, encoding="utf-8")
    subprocess.run(["g++", "-O1", "-o", str(tmp_path / "stox"), str(tmp_path / "stox.cpp")], check=True, timeout=120)
    rnd = random.Random(13)
    parts = ["0", "1", "5", "9", "-", ".", "e", "E", "+", "x", "p", "a", "f", "g", "00", "999999999", "e-",
             "0x", "4932", "16384", "308", "324", "0000000000000000000", "inf", "nan"]
    words = ["".join(rnd.choice(parts) for _ in range(rnd.randint(1, 8))) for _ in range(20000)]
    words += ["9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.18973149535723176503e4932",
              "3.36210314311209350626e-4932", "1e-4950", "9007199254740993.5", "0x1.00000000000000018p0",
              "2.4703282292062328e-324", "1.797693134862315807e308"]
    theirs = subprocess.run([str(tmp_path / "stox")], input="\n".join(words) + "\n", capture_output=True,
                            text=True, check=True, timeout=120).stdout.splitlines()
    for word, t in zip(words, theirs, strict=True):
        [a] = read_ascii(word.encode() + b" ") or [None]
        kind, _, value = t.partition(" ")
        if kind == "S":
            assert type(a).__name__ == "Symbol", word
        elif kind == "I":
            assert (type(a).__name__, a.value) == ("Integer", int(value)), word
        else:
            assert (type(a).__name__, a.value) == ("Float", float(value)), word


def test_a_symbol_that_is_not_utf8_names_its_byte():
    with pytest.raises(UnicodeError, match=r"\(the word at byte 5\)"):
        read_ascii(b"(ok) a\xffb ")


def test_bytes_that_are_not_utf8_are_harmless_where_no_symbol_is_made():
    assert texts(b"12\xff (a) tail\xff") == ["12", "(a)"]


def test_deep_nesting_and_a_long_word_need_no_recursion():
    depth = 200_000
    [atom] = read_ascii(b"(" * depth + b"x" + b")" * depth + b"\n")
    assert str(atom).count("(") == depth
    [word] = read_ascii(b"w" * 3_000_000 + b"\n")
    assert len(str(word)) == 3_000_000


def _reference(data: bytes) -> list[str]:
    """hyperon's loop, byte by byte (its C++ in `hyperonpy.cpp`), for words of letters: the
    printed atoms it adds (a word starting with NUL left out, as mettadb leaves it out)."""
    out: list[str] = []
    stack: list[list[str]] = []
    children: list[str] = []
    word = b""
    escape = False
    for c in data + b"\xff":  # (C's EOF, a byte appended to the last word)
        ch = bytes([c])
        if escape:
            word += ch
            escape = False
            continue
        if ch in b" \t\n\x0b\x0c\r()":
            if ch == b")" and not stack:
                continue
            if word:
                name = word.split(b"\0", 1)[0].decode()
                word = b""
                if not stack:
                    if name:
                        out.append(name)
                    continue
                if name:
                    children.append(name)
            if ch == b"(":
                stack.append(children)
                children = []
            elif ch == b")":
                expr = "(" + " ".join(children) + ")"
                children = stack.pop()
                (children if stack else out).append(expr)
        elif ch == b"\\":
            escape = True
        else:
            word += ch
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"bc", b" ", b"\t", b"\n", b"(", b")", b"\\", b"\0", b"\r"]),
                max_size=60).map(b"".join))
def test_the_reader_is_hyperons_loop(data):
    assert texts(data) == _reference(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_atoms_or_a_unicode_error(data):
    try:
        read_ascii(data)
    except UnicodeError:
        assert any(b >= 0x80 for b in data)


# ---------------------------------------------------------------- the operation in `mettadb run`


def test_a_file_outside_the_script_directory_needs_allow_import(run, tmp_path, outside):
    outside.write_text("(secret 1)\n", encoding="utf-8")
    sub = tmp_path / "scripts"
    sub.mkdir()
    script = sub / "s.metta"
    script.write_text(f"!(load-ascii &self {outside})\n!(match &self (secret $x) $x)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0 and r.stdout == (
        f'[(Error (load-ascii ModuleSpace(GroundingSpace-top) {outside}) "load-ascii may only read files '
        f'under {sub} (use --allow-import PATH)")]\n')
    r = run("run", "--allow-import", str(tmp_path.parent), str(script))
    assert r.stdout == "[()]\n[1]\n"


def test_a_link_out_of_the_script_directory_is_refused(run, link_out):
    script = link_out.parent / "s.metta"
    script.write_text(f"!(load-ascii &self {link_out})\n", encoding="utf-8")
    assert "load-ascii may only read files under" in run("run", str(script)).stdout


def _run_in(run, directory: Path, script: str):
    """`mettadb run` of a script written in `directory`, from there (relative names are the
    working directory's, as in hyperon)."""
    (directory / "s.metta").write_text(script, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        return run("run", "s.metta")
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("content, message", [
    (None, "load-ascii cannot read f.txt: No such file or directory"),
    (b"(fine 1)\n(p \x00\x9f\x92\x96 \xc3\x28)\n", "load-ascii cannot read f.txt: a symbol that is not UTF-8 (the word at byte 17)"),
    (bytes(range(256)) * 40, "load-ascii cannot read f.txt: a symbol that is not UTF-8 (the word at byte 42)"),
])
def test_a_failure_is_an_error_atom_that_stops_the_script_and_adds_nothing(run, tmp_path, space_path, content, message):
    if content is not None:
        (tmp_path / "f.txt").write_bytes(content)
    r = _run_in(run, tmp_path, "(mine 0)\n!(load-ascii &self f.txt)\n!(get-atoms &self)\n")
    assert r.exit_code == 0 and "Traceback" not in r.output
    assert r.stdout == f'[(Error (load-ascii ModuleSpace(GroundingSpace-top) f.txt) "{message}")]\n'
    with mettadb.open(space_path, readonly=True) as sp:
        assert [str(a) for a in sp.atoms()] == ["(mine 0)"]


@pytest.mark.parametrize("call, message", [
    ("(load-ascii &self)", "IncorrectNumberOfArguments"),
    ("(load-ascii &self f.txt more)", "IncorrectNumberOfArguments"),
    ("(load-ascii nowhere f.txt)", "load-ascii expects a space as the first argument"),
    ('(load-ascii &self "f.txt")', "load-ascii expects a file name (a symbol) as the second argument"),
    ("(load-ascii &self (f.txt))", "load-ascii expects a file name (a symbol) as the second argument"),
    ("(load-ascii &self 7)", "load-ascii expects a file name (a symbol) as the second argument"),
])
def test_arguments_of_another_kind(run, tmp_path, call, message):
    (tmp_path / "f.txt").write_text("(a)\n", encoding="utf-8")
    r = _run_in(run, tmp_path, f"!{call}\n")
    assert r.exit_code == 0 and r.stdout.endswith(f" {message})]\n") and r.stdout.startswith("[(Error (load-ascii ")


@pytest.mark.parametrize("name", ["x" * 5000, "a/" * 3000 + "b", "no/such/dir/f.txt", "f.txt/inside", "$v"])
def test_names_that_are_no_readable_path_are_error_atoms(run, tmp_path, name):
    (tmp_path / "f.txt").write_text("(a)\n", encoding="utf-8")
    r = _run_in(run, tmp_path, f"!(load-ascii &self {name})\n")
    assert r.exit_code == 0 and "Traceback" not in r.output
    assert r.stdout.startswith("[(Error (load-ascii ") and "load-ascii cannot read " in r.stdout


def test_a_variable_names_the_file_of_its_name(run, tmp_path):
    (tmp_path / "v").write_text("(from v)\n", encoding="utf-8")
    r = _run_in(run, tmp_path, "!(load-ascii &self $v)\n!(get-atoms &self)\n")
    assert r.stdout == "[()]\n[(from v)]\n"


def test_a_directory_adds_nothing(run, tmp_path):
    (tmp_path / "d").mkdir()
    assert _run_in(run, tmp_path, "!(load-ascii &self d)\n!(get-atoms &self)\n").stdout == "[()]\n[]\n"


def test_a_fifo_is_refused_rather_than_waited_on(run, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    r = _run_in(run, tmp_path, "!(load-ascii &self pipe)\n")
    assert r.stdout == ('[(Error (load-ascii ModuleSpace(GroundingSpace-top) pipe) '
                        '"load-ascii cannot read pipe: not a regular file")]\n')


def test_an_unreadable_file_is_an_error_atom(tmp_path):
    """(as root, run without the power to ignore file permissions)"""
    prefix: list[str] | None = []
    if os.geteuid() == 0:
        prefix = without_root_powers()
        if prefix is None:
            pytest.skip("running as root without setpriv")
    f = tmp_path / "f.txt"
    f.write_text("(a)\n", encoding="utf-8")
    f.chmod(0)
    (tmp_path / "s.metta").write_text("!(load-ascii &self f.txt)\n", encoding="utf-8")
    r = subprocess.run([*prefix, *mettadb_cmd("--db", str(tmp_path / "db"), "run", "s.metta")], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "load-ascii cannot read f.txt: Permission denied" in r.stdout


def test_the_atoms_are_stored_and_a_later_process_sees_them(run, tmp_path, space_path):
    (tmp_path / "f.txt").write_text("(edge a b) (edge b c) (weight 2.5)\n", encoding="utf-8")
    r = _run_in(run, tmp_path, "!(load-ascii &self f.txt)\n!(match &self (edge $x $y) $y)\n")
    assert r.stdout == "[()]\n[b, c]\n"
    code = (f"import mettadb\nsp = mettadb.open({str(space_path)!r}, readonly=True)\n"
            "print(sorted(str(a) for a in sp.atoms()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "['(edge a b)', '(edge b c)', '(weight 2.5)']\n"


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    """A space holding `(seed)` and, in the working directory, `f.txt` of `(a 1)`; its path."""
    (tmp_path / "f.txt").write_text("(a 1)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with mettadb.open(tmp_path / "db") as sp:
        sp.add("(seed)")
    return tmp_path / "db"


def test_a_space_opened_read_only_refuses_but_a_new_space_takes_them(seeded):
    with mettadb.open(seeded, readonly=True) as sp:
        with pytest.raises(mettadb.ReadOnlyError, match="cannot write to the space"):
            sp.eval("(load-ascii &self f.txt)")
        got = sp.eval("(let $s (new-space) (let $u (load-ascii $s f.txt) (get-atoms $s)))")
        assert [str(a) for a in got] == ["(a 1)"]
        assert [str(a) for a in sp.atoms()] == ["(seed)"]


def test_a_batch_worker_refuses_like_add_atom(seeded):
    with mettadb.open(seeded, readonly=True) as sp:
        got = evaluate_many(sp, ["(load-ascii &self f.txt)", "(+ 1 2)"], jobs=0)
    assert "cannot write to the space" in got.lines[0] and got.lines[1] == "[3]"


# ---------------------------------------------------------------- against hyperon's own reader

_ALPHABET = st.sampled_from(list("ab1-0.e5x() \t\n\\;\"$!'") + ["0x", "1e9", "foo", "12", "True"])


@pytest.fixture(scope="module")
def hyperon_runner():
    """One hyperon runner for every example (making one takes a while)."""
    hyperon = pytest.importorskip("hyperon")
    runner = hyperon.MeTTa()
    yield runner
    del runner


@settings(max_examples=60, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_random_text_reads_as_hyperon_reads_it(tmp_path_factory, hyperon_runner, text):
    """The atoms of random text (ASCII: hyperon aborts on a symbol that is not UTF-8), listed by
    `get-atoms` of a new space, in hyperon's order, byte for byte."""
    d = tmp_path_factory.mktemp("ascii")
    (d / "f.txt").write_text(text, encoding="ascii")
    program = "!(let $s (new-space) (let $u (load-ascii $s f.txt) (collapse (get-atoms $s))))\n"
    cwd = os.getcwd()
    os.chdir(d)
    try:
        theirs = [[str(a) for a in r] for r in hyperon_runner.run(program)]
        with mettadb.open(d / "db") as sp:
            ours = [[str(a) for a in r] for r in sp.run(program)]
    finally:
        os.chdir(cwd)
    assert ours == theirs, text
