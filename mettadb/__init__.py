"""mettadb: a persistent MeTTa atom space on LMDB.

>>> import mettadb, tempfile
>>> with mettadb.open(tempfile.mkdtemp()) as space:
...     space.add("(parent Tom Bob)")
...     [str(a) for a in space.match("(parent Tom $x)", "$x")]
['Bob']
"""

from __future__ import annotations

from .atoms import (
    Atom,
    Bool,
    E,
    Expression,
    Float,
    G,
    Grounded,
    Integer,
    S,
    String,
    Symbol,
    V,
    Variable,
    alpha_equal,
)
from .bindings import Bindings
from .encoding import decode, encode
from .errors import (
    DamagedSpaceError,
    DecodeError,
    EvaluationError,
    FormatVersionError,
    LimitError,
    MettaDBError,
    ParseError,
    ReadOnlyError,
    SpaceFullError,
)
from .loading import LoadReport
from .parser import parse, parse_atom, parse_script
from .space import Space, open_space
from .store import DEFAULT_PATH, FORMAT_VERSION
from .unify import unify

__all__ = [
    "DEFAULT_PATH",
    "FORMAT_VERSION",
    "Atom",
    "Bindings",
    "Bool",
    "DamagedSpaceError",
    "DecodeError",
    "E",
    "EvaluationError",
    "Expression",
    "Float",
    "FormatVersionError",
    "G",
    "Grounded",
    "Integer",
    "LimitError",
    "LoadReport",
    "MettaDBError",
    "ParseError",
    "ReadOnlyError",
    "S",
    "Space",
    "SpaceFullError",
    "String",
    "Symbol",
    "V",
    "Variable",
    "alpha_equal",
    "atom",
    "decode",
    "encode",
    "open",
    "parse",
    "parse_atom",
    "parse_script",
    "unify",
]

__version__ = "0.1.0"

open = open_space


def atom(text: str) -> Atom:
    """Parse exactly one atom: `mettadb.atom("(parent Tom Bob)")`."""
    return parse_atom(text)
