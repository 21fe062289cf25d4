"""`help!` without an argument, the library's documentation and the optional modules' spaces.

hyperon 0.2.10's texts are its own and are not copied: what is compared with its
output here is the structure (which names, in which order, how laid out).  The
scripts whose output does not depend on those texts are conformance scripts
(`tests/conformance/docs_*.metta`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mettadb.atoms import Expression, String
from mettadb.interp.stdlib_docs import corelib_docs, module_atoms

needs_metta = pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")


def _listing(text: str) -> tuple[list[str], list[str]]:
    """The names and the description lines of a `help-space!` listing (descriptions start with a tab)."""
    lines = text.splitlines()
    names = [line for line in lines if not line.startswith(("\t", "[", "  ", "Possible pragmas"))]
    return names, [line for line in lines if line.startswith("\t")]


def _hyperon(script: Path) -> str:
    return subprocess.run(["metta", script.name], cwd=script.parent, capture_output=True, text=True,
                          timeout=120).stdout


def test_help_without_an_argument_lists_the_library(run, write):
    r = run("run", str(write("h.metta", "!(help!)\n!(help! corelib)\n")))
    assert r.exit_code == 0, r.output
    assert r.stdout.endswith("[()]\n[()]\n")  # (the listings, then the results, as `metta` prints them)
    both = r.stdout[:-len("[()]\n[()]\n")]
    first = both[:len(both) // 2]
    assert both == first * 2
    lines = first.splitlines()
    assert len(lines) == 300 and all(line.startswith("\t") == (i % 2 == 1) for i, line in enumerate(lines))
    names, descs = _listing(first)
    assert names[:5] == ["(@kind atom)", "(@kind function)", "SpaceType", "ErrorType", "git-module!"]
    assert names[-3:] == ["BadArgType", "BadType", "="] and len(names) == len(set(names)) == 150
    assert "\tThe type of spaces" in descs  # (mettadb's own words)


@needs_metta
def test_help_lists_what_hyperon_lists_in_its_order(run, write):
    """Same names, same order, one description line each (hyperon's `pragma!` text runs over
    several lines; mettadb's texts are one line each)."""
    script = write("h.metta", "!(help!)\n")
    names, descs = _listing(run("run", str(script)).stdout)
    theirs, their_descs = _listing(_hyperon(script))
    assert names == theirs and len(descs) == len(their_descs) == 150
    assert not set(descs) & set(their_descs)  # the texts are not hyperon's


@needs_metta
def test_help_of_an_optional_module_lists_its_names_as_hyperon(run, write):
    script = write("m.metta", "!(help! json)\n!(help! random)\n!(help! fileio)\n")
    names, descs = _listing(run("run", str(script)).stdout)
    theirs, their_descs = _listing(_hyperon(script))
    assert names == theirs and len(descs) == len(their_descs) == 17
    assert not set(descs) & set(their_descs)


def test_the_library_documents_each_name_once_in_mettadb_words():
    docs = list(corelib_docs().atoms())
    names = [str(d.children[1]) for d in docs if isinstance(d, Expression)]
    assert len(names) == len(set(names)) == 150
    short = [n for n, d in zip(names, docs) if len(d.children) == 3]  # type: ignore[attr-defined]
    assert short == ["ErrorType", "SpaceType", "(@kind function)", "(@kind atom)"]
    for d in docs:  # every description, parameter and result is a non-empty string
        texts = re.findall(r'"([^"]*)"', str(d))
        assert texts and all(texts)
        assert isinstance(d.children[2].children[1], String)  # type: ignore[attr-defined]


def test_an_optional_module_token_names_its_docs_and_declarations(run, write):
    """hyperon also lists json's three rules (its code): mettadb's space has its docs and declarations."""
    r = run("run", str(write("j.metta", "!(import! &j json)\n!(get-atoms &j)\n!(import! &f fileio)\n"
                                        "!(let $c (collapse (get-atoms &f)) (size-atom $c))\n")))
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    got = out[1]
    heads = re.findall(r"\((@doc|:) ([^ ]+)", got)
    assert heads == [("@doc", "get-value"), ("@doc", "get-keys"), ("@doc", "dict-space"), ("@doc", "json-encode"),
                     ("@doc", "json-decode"), (":", "get-value"), (":", "get-keys"), (":", "dict-space")]
    assert "(: get-keys (-> Grounded Atom))" in got and "(= " not in got
    assert out[3] == "[6]"
    assert [str(a) for a in module_atoms("json")][-1] == "(: dict-space (-> Expression Grounded))"


def test_help_helpers_take_any_argument_without_a_traceback(run, write):
    names = ["help!", "help-internal!", "help-space!", "help-param!", "get-doc", "get-doc-single-atom",
             "get-doc-atom", "get-doc-function", "get-doc-params", "undefined-doc-function-type", "@doc", "@desc",
             "@param", "@params", "@return", "@item", "@type", "@doc-formal"]
    args = ["", "1", '"s"', "$x", "foo", "(a b)", "()", "&self", "(new-space)", "&self $x", "$x $y",
            "&self foo (-> Number)", '() (@return "r") (A)', "1 2 3 4 5 6 7", "corelib", "json", "nosuchmodule",
            "(@param (@type $t) (@desc $d))"]
    script = "".join(f"!(collapse ({n} {a}))\n" for n in names for a in args)
    r = run("run", str(write("f.metta", script)))
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert sum(line.startswith("[") for line in r.stdout.splitlines()) == len(names) * len(args)


def test_help_of_a_symbol_names_the_library_entry_in_mettadb_words(run, write):
    r = run("run", str(write("n.metta", "!(help! not)\n!(help! switch-minimal)\n!(get-doc &self (@kind atom))\n")))
    out = r.stdout.splitlines()
    assert out[0] == "Function not: (-> Bool Bool) Negates a Bool"
    assert "No documentation found for switch-minimal" in out
    assert out[-1].startswith("[(@doc-formal (@item (@kind atom)) (@kind atom) (@type DocKindAtom) (@desc ")
