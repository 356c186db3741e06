"""The digest's read model: read-only queries over items, matches, outbox and source state."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitors.store.engine import aware, utc
from monitors.store.rows import (
    HeldAlert,
    MatchedItem,
    OutboxStatus,
    QuietSummary,
    SourceState,
    StoryMark,
)
from monitors.store.schema import items, matches, outbox, source_state
from monitors.store.sources import read_source_states

_CHUNK = 500  # bound the IN (...) lists


class DigestReads:
    """The reads one digest needs, all in one read-only connection (a consistent-enough view)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def detections(
        self, topic_ids: Sequence[str], start: datetime, end: datetime
    ) -> list[StoryMark]:
        """Every matched item of these topics detected in [start, end)."""
        query = (
            sa.select(matches.c.topic_id, items.c.story_key, items.c.detected_at)
            .join(matches, matches.c.item_id == items.c.id)
            .where(
                matches.c.topic_id.in_(list(topic_ids)),
                items.c.detected_at >= start,
                items.c.detected_at < end,
            )
        )
        rows = self._conn.execute(query)
        return [StoryMark(r.topic_id, r.story_key, aware(r.detected_at)) for r in rows]

    def sent_alerts(self, desk_id: str, end: datetime) -> list[StoryMark]:
        """The desk's alerts sent before `end`, by topic, story and time sent."""
        query = sa.select(outbox.c.topic_id, outbox.c.story_key, outbox.c.sent_at).where(
            outbox.c.desk_id == desk_id,
            outbox.c.status == OutboxStatus.SENT,
            outbox.c.sent_at < end,
        )
        rows = self._conn.execute(query)
        return [StoryMark(r.topic_id, r.story_key, aware(r.sent_at)) for r in rows]

    def suppressed(self, desk_id: str, start: datetime, end: datetime) -> Counter[str]:
        """Outbox rows per topic that a budget suppressed during [start, end)."""
        query = (
            sa.select(outbox.c.topic_id, sa.func.count())
            .where(
                outbox.c.desk_id == desk_id,
                outbox.c.status == OutboxStatus.SUPPRESSED,
                outbox.c.created_at >= start,
                outbox.c.created_at < end,
            )
            .group_by(outbox.c.topic_id)
        )
        return Counter({topic: int(count) for topic, count in self._conn.execute(query)})

    def held_alerts(
        self, desk_id: str, start: datetime, end: datetime, skip_prefix: str
    ) -> list[HeldAlert]:
        """The desk's alerts created in [start, end) and held for quiet hours (`summarized`)."""
        query = sa.select(outbox.c.channel, outbox.c.story_key, outbox.c.created_at).where(
            outbox.c.desk_id == desk_id,
            outbox.c.status == OutboxStatus.SUMMARIZED,
            outbox.c.created_at >= start,
            outbox.c.created_at < end,
            sa.not_(outbox.c.story_key.startswith(skip_prefix)),
        )
        rows = self._conn.execute(query)
        return [HeldAlert(r.channel, r.story_key, aware(r.created_at)) for r in rows]

    def quiet_summaries(
        self, desk_id: str, prefix: str, since: datetime, end: datetime
    ) -> list[QuietSummary]:
        """The desk's summary rows keyed `prefix…`, begun before `end` and due from `since` on."""
        query = sa.select(
            outbox.c.channel, outbox.c.status, outbox.c.next_attempt_at, outbox.c.sent_at
        ).where(
            outbox.c.desk_id == desk_id,
            outbox.c.story_key.startswith(prefix),
            outbox.c.created_at < end,
            outbox.c.next_attempt_at >= since,
        )
        return [
            QuietSummary(
                r.channel, OutboxStatus(r.status), aware(r.next_attempt_at), utc(r.sent_at)
            )
            for r in self._conn.execute(query)
        ]

    def waiting(self, desk_id: str, start: datetime, end: datetime, skip_prefix: str) -> int:
        """The desk's alerts created in [start, end) still pending, being sent, or failed."""
        query = sa.select(sa.func.count()).where(
            outbox.c.desk_id == desk_id,
            outbox.c.status.in_((OutboxStatus.PENDING, OutboxStatus.CLAIMED, OutboxStatus.FAILED)),
            outbox.c.created_at >= start,
            outbox.c.created_at < end,
            sa.not_(outbox.c.story_key.startswith(skip_prefix)),
        )
        return int(self._conn.execute(query).scalar() or 0)

    def story_items(
        self, topic_ids: Sequence[str], keys: Sequence[str], end: datetime
    ) -> list[MatchedItem]:
        """Every copy of these stories matched to these topics and detected before `end`."""
        found: list[MatchedItem] = []
        for chunk in _chunks(keys):
            query = (
                sa.select(
                    items.c.id,
                    items.c.story_key,
                    items.c.source_id,
                    items.c.title,
                    items.c.outlet,
                    items.c.url,
                    items.c.published_at,
                    items.c.detected_at,
                    matches.c.topic_id,
                    matches.c.score,
                    matches.c.evidence_json,
                )
                .join(matches, matches.c.item_id == items.c.id)
                .where(
                    matches.c.topic_id.in_(list(topic_ids)),
                    items.c.story_key.in_(chunk),
                    items.c.detected_at < end,
                )
            )
            found.extend(_matched_item(r) for r in self._conn.execute(query).mappings())
        return found

    def data_as_of(self, end: datetime) -> datetime | None:
        """The latest check, item or alert in the store, capped at `end`; None when all empty."""
        latest = [
            self._conn.execute(sa.select(sa.func.max(column))).scalar()
            for column in (source_state.c.last_checked_at, items.c.detected_at, outbox.c.sent_at)
        ]
        moments = [aware(m) for m in latest if m is not None]
        return min(max(moments), end) if moments else None

    def source_states(self) -> dict[str, SourceState]:
        """Every source's stored state, by source id."""
        return read_source_states(self._conn)

    def last_item_at(self, now: datetime) -> dict[str, datetime | None]:
        """Each source's latest item detected by `now`."""
        latest = (
            sa.select(items.c.source_id, sa.func.max(items.c.detected_at))
            .where(items.c.detected_at <= now)
            .group_by(items.c.source_id)
        )
        return {source_id: utc(at) for source_id, at in self._conn.execute(latest)}

    def recent_items(self, since: datetime, now: datetime) -> dict[str, list[datetime]]:
        """Detection times per source in (since, now]."""
        recent: dict[str, list[datetime]] = defaultdict(list)
        query = sa.select(items.c.source_id, items.c.detected_at).where(
            items.c.detected_at > since, items.c.detected_at <= now
        )
        for source_id, detected_at in self._conn.execute(query):
            recent[source_id].append(aware(detected_at))
        return recent


@contextmanager
def digest_reads(engine: Engine) -> Iterator[DigestReads]:
    """DigestReads on one connection, closed afterwards."""
    with engine.connect() as conn:
        yield DigestReads(conn)


def _matched_item(row: Any) -> MatchedItem:
    return MatchedItem(
        item_id=row["id"],
        story_key=row["story_key"],
        topic_id=row["topic_id"],
        source_id=row["source_id"],
        title=row["title"],
        outlet=row["outlet"],
        url=row["url"],
        published=utc(row["published_at"]),
        detected_at=aware(row["detected_at"]),
        score=float(row["score"]),
        evidence_json=row["evidence_json"],
    )


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for index in range(0, len(values), _CHUNK):
        yield values[index : index + _CHUNK]
