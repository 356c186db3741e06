"""Retention: delete what is older than the dedup window, keeping the proof desks were told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitors.store.rows import OutboxStatus
from monitors.store.schema import items, matches, outbox, stories, story_bands
from monitors.store.stories import STORY_LOCK


def prune(engine: Engine, cutoff: datetime) -> dict[str, int]:
    """Delete stories, items, matches and finished alerts older than `cutoff`; counts."""
    old_items = sa.select(items.c.id).where(items.c.detected_at < cutoff)
    old_refs = sa.select(stories.c.story_ref).where(stories.c.last_seen < cutoff)
    live = sa.select(stories.c.story_key)
    with STORY_LOCK, engine.begin() as conn:
        counts = {
            "story_bands": _delete(conn, story_bands, story_bands.c.story_ref.in_(old_refs)),
            "stories": _delete(conn, stories, stories.c.last_seen < cutoff),
            "matches": _delete(conn, matches, matches.c.item_id.in_(old_items)),
            "items": _delete(conn, items, items.c.detected_at < cutoff),
        }
        # An alert row is the proof a desk was told: it goes only together with its story.
        counts["outbox"] = _delete(
            conn,
            outbox,
            outbox.c.status.in_(sorted(OutboxStatus.final())),
            outbox.c.created_at < cutoff,
            outbox.c.story_key.not_in(live),
        )
    return counts


def _delete(conn: Connection, table: sa.Table, *where: Any) -> int:
    return int(conn.execute(table.delete().where(*where)).rowcount or 0)
