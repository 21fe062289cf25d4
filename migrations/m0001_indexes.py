"""Format 0 -> 1: build the reverse index, the variable index and the head statistics.

Format 0 (the prototype layout) kept only the primary `atoms` database and the
totals in `meta`; format 1 adds `rev`, `vx` and `heads`, all derived from the
primary, so the step rebuilds them from it.
"""

from __future__ import annotations

from mettadb.store import Store
from mettadb.writer import Writer, rebuild_derived

from . import register


@register(1, "build the reverse index, the variable index and per-head statistics")
def migrate(store: Store, writer: Writer) -> None:
    """Rebuild every derived structure of format 1 from the primary database."""
    rebuild_derived(writer, legacy=True)  # format-1 records: no sequence numbers yet
