"""Format 1 -> 2: a second slot of databases, so bulk loads can be staged.

Format 2 keeps `atoms`, `rev`, `vx` and `heads` twice (the second set named
with a `~1` suffix) and records in `meta` which set is active (`slot`).  The
step only records slot 0 as active: opening the space for the migration
already created the empty second set.  A format-1 reader would ignore `slot`,
so the version bump keeps older releases from reading a flipped space.
"""

from __future__ import annotations

from mettadb.layout import pack_value
from mettadb.store import Store
from mettadb.writer import Writer

from . import register


@register(2, "add a second database slot for staged bulk loads")
def migrate(store: Store, writer: Writer) -> None:
    """Record slot 0 (the format-1 databases) as the active one."""
    writer.txn.put(b"slot", pack_value(0), db=writer.meta)
