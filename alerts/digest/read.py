"""Build a desk's daily digest from the store (read-only SQL): stories, volume, source health."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerts.digest.assemble import DayFacts, DayWindow, assemble_digest
from alerts.digest.health import LOOKBACK, SourceCheck, source_health
from alerts.digest.stories import MatchedRow
from alerts.models import Digest, DigestSource, Passage
from monitors.store import Store, items, matches, outbox, source_state, utc
from seeds.models import DeskSpec, SourceSpec, TopicSpec

CHART_DAYS = 14
_CHUNK = 500  # bound the IN (...) lists


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def build_digest(
    store: Store,
    desk: DeskSpec,
    topics: Sequence[TopicSpec],
    sources: Sequence[SourceSpec],
    day: date,
) -> Digest:
    """Everything the desk's topics saw on its local `day`; the same store gives the same digest."""
    window = _window(day, desk.timezone)
    with store.engine.connect() as conn:
        facts = _read(conn, desk, sources, window)
    return assemble_digest(desk, topics, sources, window, facts)


def _window(day: date, timezone: str) -> DayWindow:
    days = [day - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    start, end = (moment.astimezone(UTC) for moment in day_window(day, timezone))
    chart_start = day_window(days[0], timezone)[0].astimezone(UTC)
    return DayWindow(start, end, chart_start, days, ZoneInfo(timezone))


def _read(
    conn: Connection, desk: DeskSpec, sources: Sequence[SourceSpec], window: DayWindow
) -> DayFacts:
    start, end = window.start, window.end
    detections = _detections(conn, desk.topics, window.chart_start, end)
    sent = _sent_alerts(conn, desk.id, end)
    keys = {k for _, k, at in detections + sent if at >= start}
    as_of = _data_as_of(conn, end)
    return DayFacts(
        detections=detections,
        sent=sent,
        over_budget=_suppressed(conn, desk.id, start, end),
        rows=_story_rows(conn, desk.topics, sorted(keys), end),
        as_of=as_of,
        health=_health(conn, sources, as_of or end),
    )


# --- reads (all read-only) -------------------------------------------------------------------


def _detections(
    conn: Connection, topic_ids: Sequence[str], start: datetime, end: datetime
) -> list[tuple[str, str, datetime]]:
    """(topic, story key, detected at) of every matched item in [start, end)."""
    query = (
        sa.select(matches.c.topic_id, items.c.story_key, items.c.detected_at)
        .join(matches, matches.c.item_id == items.c.id)
        .where(
            matches.c.topic_id.in_(list(topic_ids)),
            items.c.detected_at >= start,
            items.c.detected_at < end,
        )
    )
    return [(r.topic_id, r.story_key, _aware(r.detected_at)) for r in conn.execute(query)]


def _sent_alerts(conn: Connection, desk_id: str, end: datetime) -> list[tuple[str, str, datetime]]:
    """(topic, story key, sent at) of the desk's alerts sent before `end`."""
    query = sa.select(outbox.c.topic_id, outbox.c.story_key, outbox.c.sent_at).where(
        outbox.c.desk_id == desk_id,
        outbox.c.status == "sent",
        outbox.c.sent_at < end,
    )
    return [(r.topic_id, r.story_key, _aware(r.sent_at)) for r in conn.execute(query)]


def _suppressed(conn: Connection, desk_id: str, start: datetime, end: datetime) -> Counter[str]:
    """Outbox rows per topic that a budget suppressed during the day (status `suppressed`)."""
    query = (
        sa.select(outbox.c.topic_id, sa.func.count())
        .where(
            outbox.c.desk_id == desk_id,
            outbox.c.status == "suppressed",
            outbox.c.created_at >= start,
            outbox.c.created_at < end,
        )
        .group_by(outbox.c.topic_id)
    )
    return Counter({topic: int(count) for topic, count in conn.execute(query)})


def _story_rows(
    conn: Connection, topic_ids: Sequence[str], keys: Sequence[str], end: datetime
) -> list[MatchedRow]:
    """Every copy of these stories matched to these topics and detected before `end`."""
    rows: list[MatchedRow] = []
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
        rows.extend(_matched_row(r) for r in conn.execute(query).mappings())
    return sorted(rows, key=lambda r: (r.topic_id, r.order))


def _matched_row(row: Any) -> MatchedRow:
    return MatchedRow(
        item_id=row["id"],
        story_key=row["story_key"],
        topic_id=row["topic_id"],
        source_id=row["source_id"],
        title=row["title"],
        outlet=row["outlet"],
        url=row["url"],
        published=utc(row["published_at"]),
        detected_at=_aware(row["detected_at"]),
        score=float(row["score"]),
        passages=_passages(row["evidence_json"]),
    )


def _passages(evidence_json: str) -> tuple[Passage, ...]:
    """The stored evidence as passages; unreadable evidence shows no passage, not an error."""
    try:
        evidence = json.loads(evidence_json)
        return tuple(
            Passage(text=e["text"], highlights=[(int(a), int(b)) for a, b in e["highlights"]])
            for e in evidence
        )
    except (ValueError, TypeError, KeyError):
        return ()


def _data_as_of(conn: Connection, end: datetime) -> datetime | None:
    """The latest check, item or alert in the store, capped at `end`; None when all empty."""
    latest = [
        conn.execute(sa.select(sa.func.max(column))).scalar()
        for column in (source_state.c.last_checked_at, items.c.detected_at, outbox.c.sent_at)
    ]
    moments = [_aware(m) for m in latest if m is not None]
    return min(max(moments), end) if moments else None


def _health(conn: Connection, sources: Sequence[SourceSpec], now: datetime) -> list[DigestSource]:
    """Every enabled source, failed and silent ones marked, as of `now`."""
    checks = {
        r.source_id: SourceCheck(
            status=r.last_status,
            reason=r.last_reason,
            detail=r.last_detail,
            checked_at=utc(r.last_checked_at),
            ok_at=utc(r.last_ok_at),
            consecutive_failures=r.consecutive_failures or 0,
        )
        for r in conn.execute(sa.select(source_state))
    }
    latest = (
        sa.select(items.c.source_id, sa.func.max(items.c.detected_at))
        .where(items.c.detected_at <= now)
        .group_by(items.c.source_id)
    )
    last_item = {source_id: utc(at) for source_id, at in conn.execute(latest)}
    recent: dict[str, list[datetime]] = defaultdict(list)
    query = sa.select(items.c.source_id, items.c.detected_at).where(
        items.c.detected_at > now - LOOKBACK, items.c.detected_at <= now
    )
    for source_id, detected_at in conn.execute(query):
        recent[source_id].append(_aware(detected_at))
    return [
        source_health(s, checks.get(s.id), last_item.get(s.id), recent[s.id], now)
        for s in sources
        if s.enabled
    ]


def _aware(value: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite returns naive ones)."""
    moment = utc(value)
    assert moment is not None
    return moment


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for index in range(0, len(values), _CHUNK):
        yield values[index : index + _CHUNK]
