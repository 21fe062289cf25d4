"""MeTTa evaluation: the interpreter and its parts.

`core` (vocabulary and the special-form registry), `inference` (how hyperon infers
types) < `grounded` (operations),
`rules` (body templates) < `types` (the type checker) < `forms` (special
forms) < `driver` (the `Interpreter`).
"""

from __future__ import annotations

from .core import UNIT, error, format_results, is_error
from .driver import Interpreter, check_options

__all__ = ["UNIT", "Interpreter", "check_options", "error", "format_results", "is_error"]
