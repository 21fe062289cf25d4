"""Shared fixtures: real LMDB spaces in temporary directories, the real CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from mettadb.cli.main import cli

import mettadb

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def space_path(tmp_path: Path) -> Path:
    return tmp_path / "space.db"


@pytest.fixture
def space(space_path: Path) -> Iterator[mettadb.Space]:
    with mettadb.open(space_path) as sp:
        yield sp


@pytest.fixture
def write(tmp_path: Path):
    def _write(name: str, text: str | bytes) -> Path:
        p = tmp_path / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        return p

    return _write


@pytest.fixture
def run(space_path: Path):
    """Invoke the real CLI against the test's space; returns the click Result."""
    runner = CliRunner()

    def _run(*args: str, input: str | bytes | None = None, db: bool = True):
        argv = (["--db", str(space_path)] if db else []) + list(args)
        return runner.invoke(cli, argv, input=input, catch_exceptions=False)

    return _run


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A path beside the test's directory (outside a script's sandbox under it), removed afterwards."""
    path = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def link_out(tmp_path: Path, outside: Path) -> Path:
    """`scripts/link.txt` under the test's directory: a link to `outside`, a file of `(secret 1)`."""
    outside.write_text("(secret 1)\n", encoding="utf-8")
    (tmp_path / "scripts").mkdir()
    link = tmp_path / "scripts" / "link.txt"
    link.symlink_to(outside)
    return link
