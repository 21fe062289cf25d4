"""The library refuses bad arguments with TypeError or ValueError saying what it wants, as the CLI does:
a string where a list of queries belongs, a non-text query, a `jobs` the CLI would refuse, a path that is
None, not text, a file, or under a directory that does not exist."""

from __future__ import annotations

import pytest

import mettadb
from mettadb.hyperon import DurableSpace


@pytest.fixture
def space(tmp_path):
    with mettadb.open(tmp_path / "kb.db") as sp:
        sp.run("(a 1)\n(a 2)\n")
        yield sp


@pytest.mark.parametrize("queries, message", [
    ("(+ 1 1)", "queries must be an iterable of queries (MeTTa texts or atoms), not a single str; pass [query] "
                "for one query"),
    (b"(+ 1 1)", "not a single bytes"),
    (mettadb.atom("(+ 1 1)"), "not a single Expression"),
    (5, "queries must be an iterable of MeTTa texts or atoms, not int"),
    ([None], "query 0 is NoneType, not MeTTa text or an Atom"),
    (["(+ 1 1)", 3], "query 1 is int, not MeTTa text or an Atom"),
])
def test_evaluate_many_refuses_what_is_not_a_list_of_queries(space, queries, message):
    with pytest.raises(TypeError) as e:
        space.evaluate_many(queries, jobs=0)
    assert message in str(e.value)


def test_evaluate_many_takes_texts_atoms_and_generators(space):
    queries = ["(+ 1 1)", mettadb.atom("(match &self (a $x) $x)")]
    assert space.evaluate_many(iter(queries), jobs=0).lines == ["[2]", "[1, 2]"]


@pytest.mark.parametrize("jobs, error, message", [
    (-1, ValueError, "jobs must be between 0 (in-process) and 1024, not -1"),
    (1025, ValueError, "jobs must be between 0 (in-process) and 1024, not 1025"),
    (True, TypeError, "jobs must be a number of worker processes or 'auto', not True"),
    ("2", TypeError, "jobs must be a number of worker processes or 'auto', not '2'"),
    (1.5, TypeError, "jobs must be a number of worker processes or 'auto', not 1.5"),
])
def test_evaluate_many_refuses_a_jobs_the_cli_refuses(space, jobs, error, message):
    with pytest.raises(error) as e:
        space.evaluate_many(["(+ 1 1)"], jobs=jobs)
    assert str(e.value) == message


def test_match_many_refuses_what_is_not_a_list_of_pairs(space):
    for patterns, message in [("(a $x)", "patterns must be an iterable of (pattern, template) pairs, not one str"),
                              ([("(a $x)",)], "pair 0 is not a (pattern, template) pair: ('(a $x)',)"),
                              ([("(a $x)", None)], "pair 0 holds NoneType, not MeTTa text or an Atom")]:
        with pytest.raises(TypeError) as e:
            space.match_many(patterns, jobs=0)
        assert str(e.value) == message
    assert space.match_many([("(a $x)", "$x")], jobs=0).lines == ["[1, 2]"]


def test_open_refuses_paths_that_are_not_a_space_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for path, error, message in [
        (None, TypeError, "the path is None (mettadb.open() with no path opens $METTADB_DB, else ./metta.db)"),
        (b"kb.db", TypeError, "a space's path is text (str or os.PathLike), not bytes"),
        (5, TypeError, "a space's path is text (str or os.PathLike), not int"),
        (afile, mettadb.MettaDBError, f"{afile} is not a directory"),
        (afile / "x.db", mettadb.MettaDBError, f"cannot create {afile}/x.db: {afile} is not a directory"),
        (tmp_path / "no" / "dir2" / "x.db", mettadb.MettaDBError,
         f"cannot create {tmp_path}/no/dir2/x.db: {tmp_path}/no/dir2 does not exist"),
    ]:
        with pytest.raises(error) as e:
            mettadb.open(path)
        assert str(e.value) == message, path
    assert not (tmp_path / "no").exists() and not (tmp_path / "metta.db").exists()
    with pytest.raises(TypeError, match="DurableSpace needs the space's path"):
        DurableSpace(None)  # type: ignore[arg-type]
    with mettadb.open() as sp:  # no path at all: ./metta.db, as documented
        assert sp.path == str(tmp_path / "metta.db")


def test_the_cli_creates_only_the_space_directory_too(tmp_path):
    from click.testing import CliRunner
    from mettadb.cli.main import cli

    facts = tmp_path / "f.metta"
    facts.write_text("(a 1)\n")
    db = tmp_path / "no" / "x.db"
    r = CliRunner().invoke(cli, ["--db", str(db), "load", str(facts)])
    assert (r.exit_code, r.output) == (1, f"Error: cannot create {db}: {tmp_path}/no does not exist\n")
    assert not (tmp_path / "no").exists()
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "load", str(facts)])
    assert r.exit_code == 0


def test_load_refuses_what_is_not_a_path_or_a_binary_stream(space, tmp_path):
    import io

    facts = tmp_path / "f.metta"
    facts.write_text("(b 1)\n")
    for args, kwargs, error, message in [
        ((None,), {}, TypeError, "a source is a path or a binary stream, not NoneType"),
        ((5,), {}, TypeError, "a source is a path or a binary stream, not int"),
        ((io.StringIO("(b 2)"),), {}, TypeError, "<stream> is a text stream: open it in binary mode ('rb')"),
        ((facts,), {"jobs": -1}, ValueError, "jobs must be 0 or more (0 or 1: this process only), not -1"),
        ((facts,), {"jobs": "2"}, TypeError, "jobs must be a number of processes (or None: the cores), not '2'"),
    ]:
        for load in (space.load, space.load_paths):
            with pytest.raises(error) as e:
                load(*args, **kwargs)
            assert str(e.value) == message, (load, args, kwargs)
    assert space.load(io.BytesIO(b"(b 2)\n"), facts, jobs=0).added == 2
