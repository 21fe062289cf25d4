"""Crash safety, concurrent use, capacity, format versions and migrations, hostile input."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from mettadb.cli.main import cli

import mettadb
import mettadb.bulk

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_ATOMS = sorted(["(parent Tom Bob)", "(parent Bob Ann)", "(parent Bob Ann)", "(= (f $x) (g $x))",
                        '(name Tom "Tom S")', "(age Tom 42)"])


def contents(path):
    with mettadb.open(path, readonly=True) as sp:
        return sorted((str(a), n) for a, n in sp.items())


def mettadb_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from mettadb.cli.main import main; main()", *args]


# ---------------------------------------------------------------- crash safety


def _kill_20_times(tmp_path, template, argv, after_len, seed, longest):
    """Start the command on a fresh copy of the template space 20 times, SIGKILL it at a random moment,
    and check that the space is sound and holds exactly the old atoms or exactly all the new ones."""
    rng = random.Random(seed)
    before = contents(template)
    # kill within the time an uninterrupted run takes here (so most kills land mid-flight,
    # however fast this machine is today)
    probe = tmp_path / "probe"
    shutil.copytree(template, probe)
    t0 = time.perf_counter()
    subprocess.run(mettadb_cmd("--db", str(probe), *argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    longest = min(longest, max(0.1, 0.9 * (time.perf_counter() - t0)))
    shutil.rmtree(probe)
    mid = 0
    for k in range(20):
        space = tmp_path / f"s{k}"
        shutil.copytree(template, space)
        proc = subprocess.Popen(mettadb_cmd("--db", str(space), *argv), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, longest))
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with mettadb.open(space, readonly=True) as sp:
            assert sp.check() == []
            n = len(sp)
        now = contents(space)
        assert now == before or n == after_len, (k, n)
        if now == before and not finished:
            mid += 1
        shutil.rmtree(space)
    return mid


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_sigkill_of_load_at_20_moments(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("METTADB_BULK_RUN_KEYS", "20000")  # several runs and staged transactions
    big = tmp_path / "big.metta"
    big.write_text("".join(f"(fact P{i} P{i * 7 % 1000} {i})\n" for i in range(150_000)))
    template = tmp_path / "template"
    with mettadb.open(template) as sp:
        sp.add_all(["(before 1)", "(before 2)"])
    mid = _kill_20_times(tmp_path, template, ["load", mode, str(big)], 150_002, seed=20, longest=2.0)
    assert mid >= 5  # most kills really hit a load in flight


def test_sigkill_of_run_with_writes_at_20_moments(tmp_path):
    script = tmp_path / "w.metta"
    script.write_text("".join(f"!(add-atom &self (written {i}))\n" for i in range(3000)) + "(plain fact)\n")
    template = tmp_path / "template"
    with mettadb.open(template) as sp:
        sp.add("(before)")
    mid = _kill_20_times(tmp_path, template, ["run", str(script)], 3002, seed=21, longest=1.5)
    assert mid >= 5


# ---------------------------------------------------------------- concurrency


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_two_concurrent_loads_both_land(tmp_path, mode):
    space = tmp_path / "space"
    files = []
    for k in range(2):
        f = tmp_path / f"part{k}.metta"
        f.write_text("".join(f"(p{k} {i})\n" for i in range(20_000)))
        files.append(f)
    mettadb.open(space).close()
    procs = [subprocess.Popen(mettadb_cmd("--db", str(space), "load", mode, str(f)), stderr=subprocess.PIPE)
             for f in files]
    for p in procs:
        assert p.wait() == 0, p.stderr.read() if p.stderr else ""
    with mettadb.open(space, readonly=True) as sp:
        assert len(sp) == 40_000 and sp.check() == []
        assert sum(1 for _ in sp.query("(p0 $x)")) == 20_000


_READER = """
import sys, time, mettadb
seen = set()
with mettadb.open(sys.argv[1], readonly=True) as sp:
    deadline = time.time() + float(sys.argv[2])
    while time.time() < deadline:
        seen.add(sum(1 for _ in sp.query("(n $x)")))
        if 30000 in seen:
            break
print(sorted(seen))
"""


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_readers_see_old_or_new_never_a_mix(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("METTADB_BULK_RUN_KEYS", "3000")  # a bulk load spills runs and stages several commits
    space = tmp_path / "space"
    with mettadb.open(space) as sp:
        sp.add_all(f"(n {i})" for i in range(1000))
    f = tmp_path / "more.metta"
    f.write_text("".join(f"(n {i})\n" for i in range(1000, 30_000)))
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(space), "30"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert subprocess.run(mettadb_cmd("--db", str(space), "load", mode, str(f))).returncode == 0
    out, _ = reader.communicate(timeout=60)
    seen = eval(out)  # a list of ints printed by our own reader
    assert set(seen) <= {1000, 30_000} and 30_000 in seen


def test_reader_opened_before_the_map_grows(tmp_path):
    space = tmp_path / "space"
    with mettadb.open(space, map_size=1 << 16) as sp:
        sp.add("(first)")
    code = (
        "import sys, time, mettadb\n"
        "sp = mettadb.open(sys.argv[1], readonly=True)\n"
        "print(len(sp), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(len(sp), sum(1 for _ in sp.query('(g $x $y)')), flush=True)\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", code, str(space)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert reader.stdout.readline().strip() == "1"
    with mettadb.open(space) as sp:
        sp.add_all(f"(g {i} {'w' * 100})" for i in range(30_000))
        assert sp.env.info()["map_size"] > 1 << 16
    out, _ = reader.communicate("go\n", timeout=60)
    assert out.split() == ["30001", "30000"]


# ---------------------------------------------------------------- versions and migrations


def test_migrating_the_format_0_fixture(tmp_path):
    space = tmp_path / "old"
    shutil.copytree(FIXTURES / "format-0", space)
    with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate`"):
        mettadb.open(space)
    with pytest.raises(mettadb.FormatVersionError, match="migrate"):
        mettadb.open(space, readonly=True)
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(space), "migrate", "--dry-run"])
    assert r.exit_code == 0 and r.stdout.splitlines() == [
        "would migrate to format 1: build the reverse index, the variable index and per-head statistics",
        "would migrate to format 2: add a second database slot for staged bulk loads"]
    r = runner.invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout.startswith("migrated to format 1")
    with mettadb.open(space) as sp:
        assert sp.format_version == 2 and sp.check() == []
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS
        assert [str(a) for a in sp.match("(parent $x Ann)", "$x")] == ["Bob", "Bob"]
    assert runner.invoke(cli, ["--db", str(space), "migrate"]).stdout == "already at format version 2\n"


def test_format_1_reads_and_migrates_for_writing(tmp_path):
    space = tmp_path / "v1"
    shutil.copytree(FIXTURES / "format-1", space)
    with mettadb.open(space, readonly=True) as sp:
        assert sp.format_version == 1
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS and sp.check() == []
    with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate` to upgrade it to 2"):
        mettadb.open(space)
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout == "migrated to format 2: add a second database slot for staged bulk loads\n"
    with mettadb.open(space) as sp:
        sp.add("(parent Ann Cid)")
        assert sp.check() == [] and len(sp) == len(FIXTURE_ATOMS) + 1


def test_current_format_fixture_still_reads(tmp_path):
    space = tmp_path / "cur"
    shutil.copytree(FIXTURES / "format-2", space)
    with mettadb.open(space, readonly=True) as sp:
        assert sp.format_version == mettadb.FORMAT_VERSION
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS and sp.check() == []


def test_newer_format_is_refused(space_path):
    with mettadb.open(space_path) as sp:
        with sp.env.begin(write=True) as txn:
            txn.put(b"format_version", b"\x63", db=sp.dbs.meta)
    with pytest.raises(mettadb.FormatVersionError, match="newer than this mettadb understands"):
        mettadb.open(space_path)
    r = CliRunner().invoke(cli, ["--db", str(space_path), "stats"])
    assert r.exit_code == 1 and "newer than this mettadb understands" in r.stderr


def test_check_finds_corruption(space_path):
    with mettadb.open(space_path) as sp:
        sp.add_all(["(a 1)", "(a 2)", "(b $x)"])
        with sp.env.begin(write=True) as txn:
            txn.put(b"\x7fgarbage", b"\x01", db=sp.dbs.atoms)  # a key that is no encoded atom
    with mettadb.open(space_path, readonly=True) as sp:
        problems = sp.check()
    assert any("does not decode" in p for p in problems)
    r = CliRunner().invoke(cli, ["--db", str(space_path), "check"])
    assert r.exit_code == 1 and r.stderr == f"Error: 1 problem found in {space_path}\n"


# ---------------------------------------------------------------- hostile input


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_fuzzed_files_load_or_fail_cleanly(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("fz")
    f = d / "in.metta"
    f.write_bytes(data)
    with mettadb.open(d / "space") as sp:
        try:
            sp.load(f)
        except mettadb.ParseError as e:
            assert str(e).startswith(f"{f}:") and len(sp) == 0
        assert sp.check() == []


_cli_words = st.sampled_from(["load", "match", "stats", "dump", "eval", "run", "check", "--count", "--limit", "-1",
                              "(a $x)", "$x", "(", ")", "--json", "x.metta", "--explain", "!", "--db", "/nonexistent"])


@settings(max_examples=60)
@given(st.lists(_cli_words, max_size=5))
def test_fuzzed_command_lines_never_crash(tmp_path_factory, words):
    d = tmp_path_factory.mktemp("cl")
    r = CliRunner().invoke(cli, ["--db", str(d / "space"), *words])
    assert r.exit_code in (0, 1, 2), r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


def test_corrupted_keys_decode_or_fail_cleanly():
    rng = random.Random(5)
    base = mettadb.encode(mettadb.atom('(Evaluation (Predicate likes) (List P1 "s" 42 $x))'))
    for _ in range(2000):
        b = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            mettadb.decode(bytes(b))
        except mettadb.DecodeError:
            pass


def test_new_space_mode_option(tmp_path):
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "shared"), "--mode", "644", "load", "-"], input=b"(a)\n")
    assert r.exit_code == 0
    assert oct(os.stat(tmp_path / "shared" / "data.mdb").st_mode & 0o777) == "0o644"


def test_a_space_you_may_only_read_opens_read_only_with_a_note(tmp_path):
    """A read-only bind mount makes the space unwritable even for root (the test runs as root here and in CI)."""
    space = tmp_path / "shared"
    r = CliRunner().invoke(cli, ["--db", str(space), "load", "-"], input=b"(fact 1)\n(fact 2)\n")
    assert r.exit_code == 0
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(space), str(ro)], capture_output=True).returncode == 0
    if not mounted or subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True).returncode:
        if mounted:
            subprocess.run(["umount", str(ro)])
        pytest.skip("cannot make a read-only bind mount here")
    try:
        out = subprocess.run(mettadb_cmd("--db", str(ro), "match", "(fact $x)", "$x"), capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert sorted(out.stdout.split()) == ["1", "2"]
        assert "opened read-only" in out.stderr
        out = subprocess.run(mettadb_cmd("--db", str(ro), "load", "-"), input="(fact 3)\n", capture_output=True,
                             text=True)
        assert out.returncode == 1 and "read-only" in out.stderr
    finally:
        subprocess.run(["umount", str(ro)])
    assert contents(space) == [("(fact 1)", 1), ("(fact 2)", 1)]


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_a_full_disk_is_a_clear_error_and_changes_nothing(tmp_path, mode):
    """A 4 MiB tmpfs holds the space; a load that needs more fails cleanly (root only: it mounts)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        space = mnt / "space"
        with mettadb.open(space) as sp:
            sp.add_all(["(keep 1)", "(keep 2)"])
        big = tmp_path / "big.metta"
        big.write_text("".join(f"(fact {i} {'x' * 60})\n" for i in range(100_000)))
        r = CliRunner().invoke(cli, ["--db", str(space), "load", mode, str(big)])
        assert r.exit_code == 1
        assert r.stderr.startswith("Error: ") and ("no space left" in r.stderr or "size cap" in r.stderr)
        assert len(r.stderr.splitlines()) == 1
        with mettadb.open(space, readonly=True) as sp:
            assert sp.check() == []
            assert sorted(map(str, sp.atoms())) == ["(keep 1)", "(keep 2)"]
    finally:
        subprocess.run(["umount", str(mnt)])


def test_a_full_disk_while_a_bulk_load_spills_its_runs(tmp_path, monkeypatch):
    """The sorted runs live beside the space: no room for them is the same clear error, space unchanged."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 5000)
        space = mnt / "space"
        with mettadb.open(space) as sp:
            sp.add_all(["(keep 1)", "(keep 2)"])
        big = tmp_path / "big.metta"
        big.write_text("".join(f"(fact {i} {'x' * 60})\n" for i in range(100_000)))
        r = CliRunner().invoke(cli, ["--db", str(space), "load", "--bulk", str(big)])
        assert r.exit_code == 1
        assert r.stderr == (f"Error: no space left on the device holding {space} for the load's sorted runs; "
                            "the space is unchanged\n")
        assert not [n for n in os.listdir(space) if n.startswith(".load-")]
        with mettadb.open(space, readonly=True) as sp:
            assert sp.check() == []
            assert sorted(map(str, sp.atoms())) == ["(keep 1)", "(keep 2)"]
    finally:
        subprocess.run(["umount", str(mnt)])


def test_fast_load_lands_like_a_durable_one(tmp_path):
    f = tmp_path / "f.metta"
    f.write_text("".join(f"(n {i})\n" for i in range(1000)))
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s"), "load", "--fast", str(f)])
    assert r.exit_code == 0
    with mettadb.open(tmp_path / "s", readonly=True) as sp:
        assert len(sp) == 1000 and sp.check() == []
