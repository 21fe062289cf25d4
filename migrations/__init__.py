"""Numbered format migrations.

Each step upgrades a space from format N-1 to N.  `mettadb migrate` runs the
pending steps in order, each inside one write transaction together with its
version bump, so an interrupted migration leaves the space at a whole version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mettadb.errors import FormatVersionError
from mettadb.layout import pack_value
from mettadb.store import FORMAT_VERSION, PathLike, Store
from mettadb.writer import Writer

__all__ = ["MIGRATIONS", "Migration", "migrate", "pending", "register"]


@dataclass(frozen=True)
class Migration:
    """Upgrades a space from `target - 1` to `target` inside the given write transaction."""

    target: int
    description: str
    apply: Callable[[Store, Writer], None]


MIGRATIONS: dict[int, Migration] = {}


Step = Callable[[Store, Writer], None]


def register(target: int, description: str) -> Callable[[Step], Step]:
    """Decorator registering the step that produces format `target`."""

    def deco(fn: Step) -> Step:
        if target in MIGRATIONS:
            raise ValueError(f"two migrations to format {target}")
        MIGRATIONS[target] = Migration(target, description, fn)
        return fn

    return deco


def pending(current: int, latest: int) -> list[Migration]:
    """The steps from `current` to `latest`, in order (KeyError if one is missing)."""
    return [MIGRATIONS[v] for v in range(current + 1, latest + 1)]


def migrate(path: PathLike, *, dry_run: bool = False) -> list[tuple[int, str]]:
    """Upgrade the space at `path` to FORMAT_VERSION; returns the steps (run, or planned with dry_run).

    Each step runs in its own write transaction with its version bump.
    """
    # a dry run opens the space read-only: opening it for writing would create missing databases
    with Store(path, create=False, readonly=dry_run, for_migration=True) as store:
        current = store.format_version
        if current > FORMAT_VERSION:
            raise FormatVersionError(
                f"{store.path} has format version {current}, newer than this mettadb understands ({FORMAT_VERSION})")
        done = []
        for step in pending(current, FORMAT_VERSION):
            done.append((step.target, step.description))
            if dry_run:
                continue

            def run(w: Writer, step: Migration = step) -> None:
                step.apply(store, w)
                w.changed = True
                w.txn.put(b"format_version", pack_value(step.target), db=w.meta)
                if w.txn.get(b"generation", db=w.meta) is None:
                    w.txn.put(b"generation", pack_value(0), db=w.meta)

            store.write(run)
        return done


from . import m0001_indexes, m0002_slots, m0003_order, m0004_variants  # noqa: E402,F401  (register themselves)
