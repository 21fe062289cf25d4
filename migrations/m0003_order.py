"""Format 2 -> 3: every stored atom gets an insertion sequence number (hyperon's order).

Format 3 puts the number in the primary record (`layout.Record`): a ground
atom with a plain key stored once is its bare number, other records gain it
as their second field; `meta.seq` holds the next number.  The insertion
order of older spaces is not known, so the step numbers their atoms in key
order: they keep coming back in the order they did before.
"""

from __future__ import annotations

from mettadb.layout import FIRST_SEQ, Record, pack_value
from mettadb.store import Store
from mettadb.writer import Writer

from . import register

#: records rewritten per pass of the cursor (a cursor is not moved while its database is written)
_BATCH = 100_000


@register(3, "number every stored atom in insertion order (existing atoms in key order)")
def migrate(store: Store, writer: Writer) -> None:
    """Rewrite every record of the live slot with a sequence number, in key order; set `meta.seq`."""
    txn = writer.txn
    seq = FIRST_SEQ
    after: bytes | None = None
    while True:
        cur = txn.cursor(db=writer.atoms)
        if not (cur.set_range(after) if after is not None else cur.first()):
            break
        batch: list[tuple[bytes, bytes]] = []
        for key, raw in cur:
            if key == after:
                continue
            rec = Record.legacy(key, raw)
            batch.append((key, Record.pack(rec.count, seq, rec.names, rec.path if rec.path is not key else None)))
            seq += 1
            if len(batch) >= _BATCH:
                break
        if not batch:
            break
        for key, value in batch:
            txn.put(key, value, db=writer.atoms)
        after = batch[-1][0]
    txn.put(b"seq", pack_value(seq), db=writer.meta)
