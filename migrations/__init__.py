"""Numbered format migrations, each run in one write transaction with its version bump."""

from __future__ import annotations

__all__: list[str] = []
