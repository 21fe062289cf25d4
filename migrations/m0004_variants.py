"""Format 3 -> 4: a key may hold atoms that differ only in the names of their variables.

Format 4 adds one shape of the primary record (`layout.Record`): `[count, seq,
names, path or nil, variants]`, written only when a second atom equal up to
variable names to a stored one is added (hyperon keeps both).  Every format-3
record is a valid format-4 record with one variant, so the step rewrites
nothing: it only raises the version, so that a release that would misread the
new shape refuses the space.
"""

from __future__ import annotations

from mettadb.store import Store
from mettadb.writer import Writer

from . import register


@register(4, "atoms equal up to variable names kept apart (no record rewritten)")
def migrate(store: Store, writer: Writer) -> None:
    """Nothing to rewrite: format-3 records are format-4 records."""
    del store, writer
