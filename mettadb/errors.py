"""Exception types; every failure mettadb reports is one of these."""

from __future__ import annotations

__all__ = [
    "DamagedSpaceError",
    "DecodeError",
    "EvaluationError",
    "FormatVersionError",
    "LimitError",
    "MettaDBError",
    "ModuleTextError",
    "ParseError",
    "ReadOnlyError",
    "SpaceFullError",
]


class MettaDBError(Exception):
    """Base of every error mettadb raises on purpose."""


class ParseError(MettaDBError, ValueError):
    """Bad MeTTa text; `str()` is `SOURCE:LINE:COL: message`."""

    def __init__(self, message: str, line: int, column: int, source: str = "<string>") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        super().__init__(f"{source}:{line}:{column}: {message}")


class ModuleTextError(MettaDBError, ValueError):
    """A module file hyperon's parser cannot read; `str()` is hyperon's message (no position)."""


class DecodeError(MettaDBError, ValueError):
    """A byte path that is not a valid encoded atom."""


class FormatVersionError(MettaDBError):
    """The space's on-disk format is not the one this release writes."""


class SpaceFullError(MettaDBError):
    """The disk or the configured size cap is exhausted; nothing was written."""


class DamagedSpaceError(MettaDBError):
    """The space's files are damaged (cut short, overwritten pages): the user's data, not a bug of mettadb.

    `str()` names the space, the damage and what to do (restore a backup); `reason` is the damage alone.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message

    def __reduce__(self) -> tuple[type[DamagedSpaceError], tuple[str, str]]:
        return type(self), (str(self), self.reason)


class ReadOnlyError(MettaDBError):
    """A write was attempted on a space opened read-only."""


class EvaluationError(MettaDBError):
    """A host-level failure while evaluating MeTTa."""


class LimitError(EvaluationError):
    """An evaluation exceeded its step, depth or time limit."""
