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


_NO_LIMIT = "or None (0 or None: no limit)"


@pytest.mark.parametrize("options, error, message", [
    ({"timeout": "x"}, TypeError, f"timeout must be a number of seconds, 0 or more, {_NO_LIMIT}, not 'x'"),
    ({"timeout": -1}, ValueError, f"timeout must be a number of seconds, 0 or more, {_NO_LIMIT}, not -1"),
    ({"timeout": float("nan")}, TypeError, f"timeout must be a number of seconds, 0 or more, {_NO_LIMIT}, not nan"),
    ({"timeout": True}, TypeError, f"timeout must be a number of seconds, 0 or more, {_NO_LIMIT}, not True"),
    ({"max_steps": "x"}, TypeError, "max_steps must be a number of steps, 0 or more, or None (no limit), not 'x'"),
    ({"max_steps": 1.5}, TypeError, "max_steps must be a number of steps, 0 or more, or None (no limit), not 1.5"),
    ({"max_steps": -1}, ValueError, "max_steps must be a number of steps, 0 or more, or None (no limit), not -1"),
    ({"max_memory": -5}, ValueError, f"max_memory must be a number of bytes, 0 or more, {_NO_LIMIT}, not -5"),
    ({"max_depth": 0}, ValueError, "max_depth must be a depth of 1 or more, not 0"),
    ({"allow_python": "yes"}, TypeError, "allow_python must be True or False, not 'yes'"),
    ({"readonly": 1}, TypeError, "readonly must be True or False, not 1"),
    ({"allow_import": "/tmp"}, TypeError, "allow_import must be a list of directories (str or os.PathLike), not a "
                                          "single str; pass [path] for one directory"),
    ({"allow_import": 5}, TypeError, "allow_import must be a list of directories (str or os.PathLike), not int"),
    ({"allow_import": [None]}, TypeError, "allow_import's item 0 is NoneType, not a directory (str or os.PathLike)"),
    ({"base_dir": 5}, TypeError, "base_dir must be a directory (str or os.PathLike) or None, not int"),
])
def test_evaluation_refuses_limits_the_cli_refuses(space, options, error, message):
    calls = [lambda: space.eval("(+ 1 1)", **options), lambda: space.run("!(+ 1 1)", **options),
             lambda: space.interpreter(**options)]
    if "readonly" not in options and "allow_python" not in options:  # (batches refuse allow_python themselves)
        calls.append(lambda: space.evaluate_many(["(+ 1 1)"], jobs=0, **options))
    for call in calls:
        with pytest.raises(error) as e:
            call()
        assert str(e.value) == message
    assert space.count("(a 1)") == 1 and len(space) == 2  # nothing ran


def test_evaluation_takes_the_limits_it_documents(space, tmp_path):
    assert space.eval("(+ 1 1)", timeout=0, max_steps=None, max_memory=0, allow_python=False) == [mettadb.G(2)]
    assert space.eval("(+ 1 1)", timeout=2.5, max_steps=1000, allow_import=iter([tmp_path])) == [mettadb.G(2)]


def test_open_refuses_flags_that_are_not_bools(tmp_path):
    for kwargs, message in [({"readonly": "no"}, "readonly must be True or False, not 'no'"),
                            ({"create": 0}, "create must be True or False, not 0"),
                            ({"map_size": "1G"}, "map_size must be a number of bytes or None, not '1G'")]:
        with pytest.raises(TypeError) as e:
            mettadb.open(tmp_path / "kb.db", **kwargs)
        assert str(e.value) == message
    assert not (tmp_path / "kb.db").exists()


@pytest.mark.parametrize("make, message", [
    (lambda: mettadb.V(5), "a variable's name must be a str, not int"),
    (lambda: mettadb.Variable(None), "a variable's name must be a str, not NoneType"),
    (lambda: mettadb.S(5), "a symbol's name must be a str, not int"),
    (lambda: mettadb.S(None), "a symbol's name must be a str, not NoneType"),
    (lambda: mettadb.Symbol(b"a"), "a symbol's name must be a str, not bytes"),
    (lambda: mettadb.E(None), "cannot make a grounded atom from NoneType"),
    (lambda: mettadb.Expression(5), "an expression's children must be an iterable of atoms, not int"),
    (lambda: mettadb.Expression([5]), "expression children must be atoms, not int"),
    (lambda: mettadb.Integer("5"), "Integer needs an int, not str"),
    (lambda: mettadb.Float("1.5"), "Float needs a float (or an int), not str"),
    (lambda: mettadb.Float(True), "Float needs a float (or an int), not bool"),
    (lambda: mettadb.String(5), "String needs a str, not int"),
    (lambda: mettadb.Bool("no"), "Bool needs True or False, not 'no'"),
    (lambda: mettadb.G(None), "cannot make a grounded atom from NoneType"),
    (lambda: mettadb.atom(5), "MeTTa text must be a str, not int"),
    (lambda: mettadb.atom(b"(a)"), "MeTTa text must be a str, not bytes"),
    (lambda: mettadb.parse_atom(None), "MeTTa text must be a str, not NoneType"),
])
def test_atom_constructors_want_the_right_kind(make, message):
    with pytest.raises(TypeError) as e:
        make()
    assert str(e.value) == message


def test_atom_constructors_still_take_what_they_document():
    assert mettadb.V("$x") == mettadb.V("x") == mettadb.Variable("x")
    assert mettadb.S("a").name == "a" and mettadb.Float(2) == mettadb.Float(2.0)
    with pytest.raises(ValueError, match="a symbol needs a non-empty name"):
        mettadb.S("")


def _session_atoms(space):
    """An atom holding each kind of session-only object, made by the space's own evaluation."""
    from mettadb.atoms import Regex

    state, = space.eval("(new-state 1)")
    new_space, = space.eval("(new-space)")
    py, = space.eval("(py-atom len)", allow_python=True)
    return [('regex:"…" token', mettadb.atom('(tag regex:"^p")')), ('regex:"…" token', mettadb.E("tag", Regex('regex:"x"'))),
            ("state", mettadb.E("tag", state)), ("space", mettadb.E("tag", new_space)), ("Python object", mettadb.E("tag", py))]


def test_session_objects_cannot_be_stored_through_the_library(space):
    for kind, atom in _session_atoms(space):
        message = (f"a {kind} lives only in a run's session (Space.run, Space.eval, the REPL) and cannot be "
                   "stored or looked up through the library")
        for call in (space.add, space.remove, space.count, lambda a: a in space, lambda a: space.add_all([a]),
                     lambda a: space.replace("(a 1)", a)):
            with pytest.raises(TypeError) as e:
                call(atom)
            assert str(e.value) == message, atom
    assert sorted(map(str, space)) == ["(a 1)", "(a 2)"]
    assert list(space.match('(a regex:"1")', "yes")) == [mettadb.S("yes")]  # a pattern may hold one


def test_a_dropped_read_only_space_does_not_block_a_writer(tmp_path):
    import gc

    path = tmp_path / "kb.db"
    mettadb.open(path).close()
    reader = mettadb.open(path, readonly=True)
    with pytest.raises(mettadb.MettaDBError) as e:
        mettadb.open(path)
    assert str(e.value) == (f"{path} is already open read-only in this process: close() that space (or leave its "
                            "`with` block) before opening it to write")
    assert reader.count("(a 1)") == 0
    del reader
    gc.collect()
    with mettadb.open(path) as writer:  # the dropped reader gave its handle back
        writer.add("(a 1)")
    other = mettadb.open(path, readonly=True)
    keep = mettadb.open(path, readonly=True)
    del other
    gc.collect()
    assert keep.count("(a 1)") == 1  # one dropped handle leaves the environment open for the others
    keep.close()
    keep.close()  # a second close is harmless
