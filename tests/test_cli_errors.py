"""One error path: every failure of every command is one line `Error: ...` on stderr, exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from helpers import without_root_powers
from mettadb.cli.main import cli

import mettadb


def mettadb_cmd(*args: str | bytes) -> list[str | bytes]:
    return [sys.executable, "-c", "from mettadb.cli.main import main; main()", *args]


@pytest.fixture
def family(run, write):
    r = run("load", str(write("family.metta", "(parent Tom Bob)\n(parent Bob Ann)\n")))
    assert r.exit_code == 0
    return write


def test_usage_errors_are_one_line_and_exit_1(run):
    r = run("match")
    assert (r.exit_code, r.stderr) == (1, "Error: Missing argument 'PATTERN' (see 'cli match --help')\n")
    r = run("nosuch")
    assert (r.exit_code, r.stderr) == (1, "Error: No such command 'nosuch' (see 'cli --help')\n")
    r = run("stats", "--bogus")
    assert (r.exit_code, r.stderr) == (1, "Error: No such option '--bogus' (see 'cli stats --help')\n")
    r = run("--mode", "999", "stats")
    assert r.exit_code == 1
    assert r.stderr == "Error: Invalid value for --mode: '999' is not an octal mode such as 600 or 644 (see 'cli --help')\n"


def test_a_directory_where_a_file_is_expected(run, family, tmp_path):
    for argv in (["run", str(tmp_path)], ["batch", str(tmp_path)], ["load", str(tmp_path)],
                 ["dump", "-o", str(tmp_path)], ["export", str(tmp_path)]):
        r = run(*argv)
        assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1, argv
        assert r.stderr.startswith("Error: Invalid value for ") and f"'{tmp_path}' is a directory" in r.stderr, argv


def test_invalid_utf8_in_script_files_and_stdin_names_file_line_column(run, family, write):
    bad = write("bad.metta", b"(a 1)\n(b \xff)\n!(a $x)\n")
    assert run("run", str(bad)).stderr == f"Error: {bad}:2:4: invalid UTF-8 byte 0xff\n"
    assert run("batch", str(bad)).stderr == f"Error: {bad}:2:4: invalid UTF-8 byte 0xff\n"
    r = run("run", "-", input=b"!(+ 1 1)\n(c \xfe)\n")
    assert (r.exit_code, r.stderr) == (1, "Error: <stdin>:2:4: invalid UTF-8 byte 0xfe\n")
    r = run("batch", "-", input=b"\xc3(")
    assert (r.exit_code, r.stderr) == (1, "Error: <stdin>:1:1: invalid UTF-8 byte 0xc3\n")
    assert run("match", "$x", "--count").stdout == "2\n"


def test_undecodable_bytes_in_arguments_are_refused(tmp_path):
    """Through a real process: the shell hands raw bytes to Python as surrogates."""
    db = str(tmp_path / "s")
    assert subprocess.run(mettadb_cmd("--db", db, "load", "-"), input=b"(a 1)\n", capture_output=True).returncode == 0
    for argv, name in (([b"eval", b"(a \xff)"], "EXPR"), ([b"match", b"(a \xff)"], "PATTERN"),
                       ([b"match", b"(a $x)", b"\xfe"], "[TEMPLATE]")):
        out = subprocess.run(mettadb_cmd("--db", db, *argv), capture_output=True)
        assert out.returncode == 1, argv
        assert out.stderr.decode().startswith(f"Error: Invalid value for '{name}': not valid UTF-8 (byte 0x"), out.stderr
        assert b"Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1


def test_cluster_addresses_fail_fast_with_one_line(run, family, write):
    q = write("q.metta", "!(+ 1 1)\n")
    r = run("batch", "--cluster", "nonsense", str(q))
    assert r.exit_code == 1
    assert r.stderr == ("Error: Invalid value for '--cluster': 'nonsense' is not a scheduler address like "
                        "tcp://HOST:PORT (see 'cli batch --help')\n")
    t0 = time.perf_counter()
    r = run("batch", "--cluster", "tcp://127.0.0.1:1", str(q))
    assert time.perf_counter() - t0 < 3
    assert (r.exit_code, r.stderr) == (
        1, "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 5 s: connection refused\n")


def test_the_readme_cluster_address_fails_within_the_connect_timeout(run, family, write):
    """10.0.0.5 is unroutable on most machines (or answered by something that is not Dask)."""
    q = write("q.metta", "!(+ 1 1)\n")
    t0 = time.perf_counter()
    r = run("batch", "--cluster", "tcp://10.0.0.5:8786", "--connect-timeout", "1", str(q))
    assert time.perf_counter() - t0 < 8
    assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(("Error: cannot reach the Dask scheduler at tcp://10.0.0.5:8786 within 1 s",
                                "Error: cannot connect to the Dask scheduler at tcp://10.0.0.5:8786 within 1 s"))


@pytest.mark.parametrize("lock", ["directory", "data.mdb"])
def test_a_space_you_may_not_read_is_permission_denied(tmp_path, lock):
    db = tmp_path / "s"
    assert subprocess.run(mettadb_cmd("--db", str(db), "load", "-"), input=b"(a 1)\n").returncode == 0
    if os.geteuid() == 0:
        prefix = without_root_powers()
        if prefix is None:
            pytest.skip("running as root without setpriv")
    else:
        prefix = []
    target = db if lock == "directory" else db / "data.mdb"
    os.chmod(target, 0)
    try:
        for argv in (["stats"], ["match", "$x"], ["eval", "(+ 1 1)"], ["dump"], ["check"], ["load", "-"], ["run", "-"]):
            out = subprocess.run([*prefix, *mettadb_cmd("--db", str(db), *argv)], input="", capture_output=True, text=True)
            assert (out.returncode, out.stderr) == (1, f"Error: permission denied: {db}\n"), argv
    finally:
        os.chmod(target, 0o700 if lock == "directory" else 0o600)
    with mettadb.open(db, readonly=True) as sp:
        assert len(sp) == 1


def test_a_closed_space_raises_mettadb_error(space):
    space.add("(a 1)")
    space.close()
    for call in (lambda: len(space), lambda: space.add("(b)"), lambda: list(space.query("(a $x)")),
                 lambda: space.eval("(+ 1 1)"), lambda: space.run("!(+ 1 1)"), lambda: space.stats(),
                 lambda: space.load(), lambda: space.check(), lambda: space.evaluate_many(["(+ 1 1)"]),
                 lambda: list(space.atoms())):
        with pytest.raises(mettadb.MettaDBError, match=r"is closed$"):
            call()


def test_a_failure_nobody_expected_is_still_one_line(run, family, monkeypatch):
    def boom(self, *a, **k):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(mettadb.Space, "stats", boom)
    r = run("stats")
    assert r.exit_code == 1
    assert r.stderr == ("Error: internal error: RuntimeError: boom second line "
                        "(please report it; METTADB_TRACEBACK=1 shows where)\n")


def test_no_arguments_prints_the_help(run):
    r = run(db=False)
    assert r.exit_code == 0 and "Usage:" in r.stdout and "Commands:" in r.stdout


def test_a_failed_first_load_into_an_existing_directory_removes_only_the_space(tmp_path, write):
    """`--db .` with a parse error must not delete the user's other files."""
    d = tmp_path / "work"
    d.mkdir()
    (d / "notes.txt").write_text("keep me")
    bad = write("bad.metta", "(a\n")
    r = CliRunner().invoke(cli, ["--db", str(d), "load", str(bad)])
    assert r.exit_code == 1 and r.stderr == f"Error: {bad}:1:1: '(' is never closed\n"
    assert sorted(os.listdir(d)) == ["notes.txt"]


def test_a_reader_that_goes_away_stops_the_output_quietly(tmp_path):
    """`mettadb dump | head -1`: no `Error: Broken pipe`, no traceback."""
    db = str(tmp_path / "s")
    facts = "".join(f"(n {i})\n" for i in range(50_000)).encode()
    assert subprocess.run(mettadb_cmd("--db", db, "load", "-"), input=facts, capture_output=True).returncode == 0
    for argv in (["dump"], ["match", "(n $x)"], ["export", "-"]):
        proc = subprocess.Popen(mettadb_cmd("--db", db, *argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b"(n ")
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 1, argv
        assert err == b"", (argv, err)


def test_an_imported_module_with_bad_bytes_is_named(run, write):
    """As in hyperon, the import's error atom, not the run's (its message is hyperon's: a byte offset)."""
    write("lib.metta", b"(y 1)\n(x \xff)\n")
    r = run("run", str(write("main.metta", "!(import! &self lib)\n!(+ 1 1)\n")))
    assert r.exit_code == 0 and "Error" not in r.stderr  # (an error result ends the run, as in hyperon)
    assert r.stdout == ("[(Error (import! ModuleSpace(GroundingSpace-top) lib) "
                        "Input read error at position 9: Bad UTF-8: [255, 41, 10])]\n")


def test_pipes_are_read_like_files(tmp_path):
    """`mettadb load <(zcat kb.metta.gz)`: a path that is a pipe, not a regular file."""
    db = str(tmp_path / "s")
    fifo = tmp_path / "fifo"
    for argv, text, expect in ((["load"], "(a 1)\n", ""), (["run"], "!(match &self (a $x) $x)\n", "[1]\n"),
                               (["batch"], "!(+ 1 1)\n", "[2]\n")):
        os.mkfifo(fifo)
        proc = subprocess.Popen(mettadb_cmd("--db", db, *argv, str(fifo)), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        with open(fifo, "w") as w:
            w.write(text)
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (0, expect), err
        fifo.unlink()


@pytest.mark.parametrize("mode", ["--bulk", "--no-bulk"])
def test_bad_bytes_from_a_pipe_are_named_stdin(tmp_path, mode):
    """A pipe is spooled before the bulk load reads it; its errors still name `<stdin>`, not the spool's fd."""
    db = str(tmp_path / "s")
    out = subprocess.run(mettadb_cmd("--db", db, "load", mode, "-"), input=b"(x 1)\n(x \xc3\x28)\n",
                         capture_output=True, timeout=60)
    assert (out.returncode, out.stderr.decode().splitlines()[-1]) == (1, "Error: <stdin>:2:4: invalid UTF-8 byte 0xc3")


@pytest.mark.parametrize("how", ["path", "stdin", "pipe"])
def test_an_endless_stream_of_nul_bytes_is_refused_at_once(tmp_path, how):
    """`load /dev/zero` used to read (and hold) forever waiting for a newline; a NUL is an error at 1:1."""
    db = str(tmp_path / "s")
    if how == "path":
        proc = subprocess.run(mettadb_cmd("--db", db, "load", "/dev/zero"), capture_output=True, timeout=60)
    elif how == "stdin":
        with open("/dev/zero", "rb") as zero:
            proc = subprocess.run(mettadb_cmd("--db", db, "load", "-"), stdin=zero, capture_output=True, timeout=60)
    else:
        feeder = subprocess.Popen(["cat", "/dev/zero"], stdout=subprocess.PIPE)
        try:
            proc = subprocess.run(mettadb_cmd("--db", db, "load", "-"), stdin=feeder.stdout, capture_output=True,
                                  timeout=60)
        finally:
            feeder.kill()
            feeder.wait()
    name = "/dev/zero" if how == "path" else "<stdin>"
    assert (proc.returncode, proc.stderr.decode().strip().splitlines()[-1]) == (1, f"Error: {name}:1:1: NUL byte")


def test_a_nul_byte_after_a_long_partial_line_is_placed(run, write):
    path = write("z.metta", "(a b)\n(c " + "\x00" * 100_000)
    r = run("load", str(path))
    assert (r.exit_code, r.output.strip().splitlines()[-1]) == (1, f"Error: {path}:2:4: NUL byte")


def test_run_reads_a_script_up_to_its_first_nul_byte_as_hyperon_and_says_so(run, write):
    """`run` follows hyperon (a NUL ends the script: nothing after it is read or added); `load` of
    the same file is the one-line error above."""
    path = write("z.metta", "(f 1)\n!(+ 1 1) \x00 (f 2)\n!(match &self (f $x) $x)\n")
    r = run("run", str(path))
    assert (r.exit_code, r.stdout) == (0, "[2]\n")
    assert f"note: {path}:2:10: NUL byte: the rest of the script is not read" in r.stderr
    assert run("dump").stdout == "(f 1)\n"
    r = run("load", str(path))
    assert (r.exit_code, r.stderr.strip().splitlines()[-1]) == (1, f"Error: {path}:2:10: NUL byte")


def test_a_word_where_a_number_belongs_is_named_plainly(run, family):
    r = run("load", "--jobs", "abc", "x.metta")
    assert (r.exit_code, r.stderr) == (1, "Error: Invalid value for '--jobs': 'abc' is not a valid integer "
                                          "(see 'cli load --help')\n")
    r = run("run", "--timeout", "x", "x.metta")
    assert (r.exit_code, r.stderr) == (1, "Error: Invalid value for '--timeout': 'x' is not a valid number "
                                          "(see 'cli run --help')\n")


def test_load_jobs_0_means_no_workers_as_in_batch(run, family, write):
    r = run("load", "--jobs", "0", str(write("more.metta", "(parent Ann Joe)\n")))
    assert r.exit_code == 0, r.stderr
    assert run("match", "(parent Ann $x)", "$x").stdout == "Joe\n"


def test_load_of_a_jsonl_export_says_what_it_is(run, write, space_path):
    """`export --format jsonl` writes one JSON string per line; read as MeTTa text each line was a string
    atom, silently (found by a stranger run)."""
    f = write("kb.jsonl", '"(a b)"\n')
    r = run("load", str(f))
    assert r.exit_code == 1 and r.stderr == (
        f"Error: {f}: JSON lines are an export format for other tools; load reads MeTTa text and .paths "
        "dumps (--format metta reads the file as MeTTa text)\n")
    assert not space_path.exists()
    assert run("load", "--format", "metta", str(f)).exit_code == 0


@pytest.mark.parametrize("text, where", [
    ('!(+ 1 1)\n(a "\\u{110000}")\n', "2:5: invalid unicode escape '\\u{110000}'"),
    ('(a "\\u{000000041}")\n', "1:5: invalid escape '\\u'"),
    ("(a $x;c)\n(b\n", "2:1: '(' is never closed"),
    ("(a)\n  )\n", "2:3: unexpected ')'"),
    ('(a "open\n', "1:4: unterminated string"),
])
def test_a_script_that_does_not_read_is_one_error_line(tmp_path, text, where):
    """`run` and `load` of text that does not read: one `Error: FILE:LINE:COL: ...` line, exit code 1."""
    script = tmp_path / "bad.metta"
    script.write_text(text, encoding="utf-8")
    for cmd in ("run", "load"):
        out = subprocess.run(mettadb_cmd("--db", str(tmp_path / "space"), cmd, str(script)), capture_output=True,
                             text=True)
        assert (out.returncode, out.stderr.splitlines()[-1:]) == (1, [f"Error: {script}:{where}"]), cmd
        assert [ln for ln in out.stderr.splitlines() if not ln.startswith("note: ")] == [f"Error: {script}:{where}"]
