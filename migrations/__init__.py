"""Numbered format migrations.

Each step upgrades a space from format N-1 to N.  `mettadb migrate` runs the
pending steps in order, each inside one write transaction together with its
version bump, so an interrupted migration leaves the space at a whole version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MIGRATIONS", "Migration", "pending", "register"]


@dataclass(frozen=True)
class Migration:
    """Upgrades a space from `target - 1` to `target` inside the given write transaction."""

    target: int
    description: str
    apply: Callable[[Any, Any], None]  # (space, writer) -> None


MIGRATIONS: dict[int, Migration] = {}


def register(target: int, description: str) -> Callable[[Callable[[Any, Any], None]], Callable[[Any, Any], None]]:
    """Decorator registering the step that produces format `target`."""

    def deco(fn: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        if target in MIGRATIONS:
            raise ValueError(f"two migrations to format {target}")
        MIGRATIONS[target] = Migration(target, description, fn)
        return fn

    return deco


def pending(current: int, latest: int) -> list[Migration]:
    """The steps from `current` to `latest`, in order (KeyError if one is missing)."""
    return [MIGRATIONS[v] for v in range(current + 1, latest + 1)]


from . import m0001_indexes, m0002_slots  # noqa: E402,F401  (register themselves)
