"""Every command, every argument position, hostile values: exit 0 or 1, never a traceback,
a failure is exactly one line `Error: ...`, and the space is unchanged (always for read
commands, and for any command that fails)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from click.testing import CliRunner
from mettadb.cli.main import cli

import mettadb

# argv templates: each {slot} is filled with a hostile value of its kind, the others with a good one
TEMPLATES = [
    "load {file}", "load --format paths {file}", "load --bulk {file}", "load --duplicates {file} {file}",
    "stats", "stats --plot {out}", "stats --json",
    "dump", "dump -o {out}",
    "export {out}", "export --format jsonl {out}", "export --format paths {out}",
    "match {atom}", "match {atom} {atom}", "match {atom} --json", "match {atom} --count", "match {atom} --limit {num}",
    "match {atom} --explain",
    "check", "migrate", "migrate --dry-run", "backup {out}",
    "run {file}", "run --commit-each {file}", "run --fail-on-error {file}", "run --max-steps {num} {file}",
    "run --timeout {num} {file}", "run --allow-import {file} {file}",
    "eval {atom}", "eval --max-steps {num} {atom}", "eval --timeout {num} {atom}",
    "batch {file}", "batch --jobs {num} {file}", "batch --max-steps {num} {file}", "batch --timeout {num} {file}",
    "batch --cluster {cluster} {file}", "batch --cluster tcp://127.0.0.1:1 --connect-timeout {num} {file}",
    "batch --replica {file} {file}",
    "repl",
]
GLOBAL_TEMPLATES = ["--db {db} stats", "--db {db} match $x", "--db {db} load {file}", "--db {db} run {file}",
                    "--db {db} eval $x", "--db {db} batch {file}", "--db {db} check", "--db {db} repl",
                    "--mode {num} load {file}", "--mode {num} stats"]

GOOD = {"file": "good.metta", "atom": "(p $x)", "num": "3", "out": "out.file", "cluster": "tcp://127.0.0.1:1",
        "db": "space"}
HOSTILE = {
    "file": ["badutf8.metta", "dir", "missing.metta", "empty.metta", "huge.metta", "nul.metta", "bang.metta",
             "-", "unclosed.metta", "\udcff.metta"],
    "atom": ["\udcff", "(a \udcfe)", "", "(", ")", "$", "99999999999999999999999999999", "1e999", "-0.0",
             '"open', "!", "(" * 200 + ")" * 200, "$x#1", "(, )", "(,)"],
    "num": ["-1", "0", "99999999999999999999999", "1e999", "nan", "inf", "", "x", "\udcff", "0x10", "-0"],
    "out": ["dir", "missing-dir/x", "", "\udcff"],
    "cluster": ["nonsense", "tcp://", "tcp://:1", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "[::1]:1", "",
                "\udcff:1", "udp://127.0.0.1:1", "tcp://127.0.0.1:1/x"],
    "db": ["missing", "good.metta", "", "dir", "\udcff", "emptydir"],
}
STDIN = b"(a \xff)\n!(a)\n"
GOOD_SCRIPT = "(p 1)\n(p 2)\n(= (f $a) (g $a))\n"


def _fixture_dir(d: Path) -> None:
    (d / "good.metta").write_text(GOOD_SCRIPT)
    (d / "badutf8.metta").write_bytes(b"(p 1)\n(q \xff\xfe)\n!(p $x)\n")
    (d / "dir").mkdir()
    (d / "emptydir").mkdir()
    (d / "empty.metta").write_bytes(b"")
    (d / "huge.metta").write_text("!(+ 99999999999999999999999999999 1e999)\n!(* 1e308 1e308)\n")
    (d / "nul.metta").write_bytes(b"(a \x00 b)\n")
    (d / "bang.metta").write_text("!\n")
    (d / "unclosed.metta").write_text("!(match &self (p $x) $x)\n(p (q\n")
    (d / "\udcff.metta".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_text("(z)\n")


def _snapshot(path: str) -> tuple[list[tuple[str, int]], int]:
    with mettadb.open(path, readonly=True) as sp:
        return sorted((str(a), n) for a, n in sp.items()), sp.generation


def _cases() -> list[tuple[str, list[str]]]:
    """(template, argv) for every template, every slot, every hostile value of that slot's kind."""
    import re

    out = []
    for tmpl in TEMPLATES + GLOBAL_TEMPLATES:
        words = tmpl.split()
        slots = [i for i, w in enumerate(words) if re.fullmatch(r"\{\w+\}", w)]
        for i in slots:
            kind = words[i][1:-1]
            for bad in HOSTILE[kind]:
                argv = [bad if j == i else (GOOD[w[1:-1]] if j in slots else w) for j, w in enumerate(words)]
                out.append((tmpl, argv))
        if not slots:
            out.append((tmpl, words))
    return out


READ_ONLY = {"stats", "dump", "export", "match", "check", "migrate", "backup", "batch"}


def test_every_command_and_argument_position_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.delenv("METTADB_DB", raising=False)
    pristine = tmp_path / "pristine"
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(pristine), "load", "-"], input=GOOD_SCRIPT.encode())
    assert r.exit_code == 0, r.output
    cases = _cases()
    assert len(cases) > 450
    t0 = time.perf_counter()
    seen_errors = set()
    for n, (tmpl, argv) in enumerate(cases):
        case = tmp_path / f"c{n}"
        case.mkdir()
        _fixture_dir(case)
        shutil.copytree(pristine, case / "space")
        monkeypatch.chdir(case)
        before = _snapshot("space")
        full = argv if argv[0].startswith("--") else ["--db", "space", *argv]
        r = runner.invoke(cli, full, input=STDIN)
        what = f"{tmpl!r} as {full!r}: exit {r.exit_code}\nstdout: {r.stdout[:300]!r}\nstderr: {r.stderr[:600]!r}"
        assert r.exit_code in (0, 1), what
        assert r.exception is None or isinstance(r.exception, SystemExit), what + f"\n{r.exception!r}"
        assert "Traceback" not in r.output, what
        assert "internal error" not in r.stderr, what
        err_lines = [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")]
        if r.exit_code == 1:
            assert len(err_lines) == 1 and r.stderr.splitlines()[-1] == err_lines[0], what
            assert all(ln.startswith(("Error:", "note:")) for ln in r.stderr.splitlines()), what
            seen_errors.add(err_lines[0])
        else:
            assert not err_lines, what
        command = argv[0] if full[0] == "--db" and full[1] == "space" and argv[0] != "--db" else ""
        if r.exit_code == 1 or command in READ_ONLY:
            assert _snapshot("space") == before, what
        shutil.rmtree(case)
    assert time.perf_counter() - t0 < 60
    assert len(seen_errors) > 80  # the failures are told apart, not one catch-all message
