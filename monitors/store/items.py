"""Seen items and their matches: what a poll asks before fetching and writes after matching."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitors.models import NewItem, TopicMatch
from monitors.store.schema import items, matches


def seen_keys(engine: Engine, source_id: str, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` the source already stored."""
    wanted = list(keys)
    if not wanted:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(items.c.item_key).where(
                items.c.source_id == source_id, items.c.item_key.in_(wanted)
            )
        )
        return {row.item_key for row in rows}


def story_for(engine: Engine, fingerprint: str, canonical_url: str) -> str | None:
    """The story an identical text or the same canonical URL already belongs to."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(items.c.story_key)
            .where(
                sa.or_(items.c.fingerprint == fingerprint, items.c.canonical_url == canonical_url)
            )
            .order_by(items.c.id)
            .limit(1)
        ).scalar()


def insert_item(conn: Connection, item: NewItem, found: Sequence[TopicMatch]) -> None:
    """Insert the item and one row per topic it matched."""
    item_id = conn.execute(items.insert().values(**_item_row(item))).inserted_primary_key
    assert item_id is not None
    for match in found:
        conn.execute(matches.insert().values(**_match_row(item_id[0], match)))


def _item_row(item: NewItem) -> dict[str, Any]:
    row = asdict(item)
    row["published_at"] = row.pop("published")
    return row


def _match_row(item_id: int, match: TopicMatch) -> dict[str, Any]:
    evidence = [
        {"text": e.text, "start": e.start, "end": e.end, "highlights": list(e.highlights)}
        for e in match.evidence
    ]
    return {
        "item_id": item_id,
        "topic_id": match.topic,
        "score": match.score,
        "severity": match.severity,
        "evidence_json": json.dumps(evidence, ensure_ascii=False),
    }
