"""Re-key items of GUID-less feeds by the canonical URL.

Items without a GUID used to be keyed by a strict URL normaliser that dropped query parameters
it did not know, so `articleView.html?idxno=1` and `?idxno=2` shared one key and the second
article was taken as seen. Keys are now `monitors.identity.canonical_url(link)`; a row keyed the
old way gets the new key, unless its source already has a row with that key.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from courlan import normalize_url

from monitors.identity import canonical_url

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 1000
_items = sa.table(
    "items",
    sa.column("id", sa.Integer),
    sa.column("source_id", sa.String),
    sa.column("item_key", sa.Text),
    sa.column("url", sa.Text),
)


def legacy_key(url: str) -> str:
    """The item key of a GUID-less entry as the first release computed it (kept verbatim)."""
    raw = url.strip()
    try:
        normalized = normalize_url(raw, strict=True)
    except (ValueError, AttributeError):
        normalized = raw
    return normalized.rstrip("/") if normalized.count("/") > 3 else normalized


def upgrade() -> None:
    """Walk the items in id order, a batch at a time, and re-key the old-style ones."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(_items.c.id, _items.c.source_id, _items.c.item_key, _items.c.url)
            .where(_items.c.id > last)
            .order_by(_items.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        _rekey(conn, rows)


def _rekey(conn: sa.Connection, rows: Sequence[Any]) -> None:
    """Give each old-style row of the batch its new key, skipping keys already taken."""
    wanted = {
        row.id: (row.source_id, canonical_url(row.url))
        for row in rows
        if row.item_key == legacy_key(row.url) and canonical_url(row.url) != row.item_key
    }
    if not wanted:
        return
    taken = {
        (r.source_id, r.item_key)
        for r in conn.execute(
            sa.select(_items.c.source_id, _items.c.item_key).where(
                _items.c.item_key.in_({key for _, key in wanted.values()})
            )
        )
    }
    for row_id, (source_id, key) in wanted.items():
        if (source_id, key) in taken:
            continue
        taken.add((source_id, key))
        conn.execute(_items.update().where(_items.c.id == row_id).values(item_key=key))


def downgrade() -> None:
    """Old keys are not restored: the first release reads the new ones as unseen items."""
