"""Build a desk's daily digest from the store: stories per topic, alerts sent, source health."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alerts.models import Digest, DigestSource, DigestStory, DigestTopic, OtherOutlet, Passage
from monitors.store import SourceState, Store, outbox, utc
from seeds.models import DeskSpec, SourceSpec, TopicSpec


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
    generated_at: datetime,
) -> Digest:
    """Everything matched for the desk's topics on its local `day`, grouped into stories."""
    start, end = day_window(day, desk.timezone)
    rows = store.matched_items(desk.topics, start, end)
    alerted = _alerted_stories(store, desk.id)
    titles = {t.id: t.title for t in topics if t.id in desk.topics}
    states = store.source_states()
    digest_topics = [
        DigestTopic(topic_id=topic_id, title=title, stories=_stories(rows, topic_id, alerted))
        for topic_id, title in titles.items()
    ]
    return Digest(
        desk_id=desk.id,
        desk_name=desk.name,
        date=day,
        timezone=desk.timezone,
        generated_at=generated_at,
        topics=digest_topics,
        sources=[_source_health(s, states.get(s.id)) for s in sources],
        alerts_sent=_alerts_sent(store, desk.id, start, end),
    )


def _stories(
    rows: Sequence[Mapping[str, Any]], topic_id: str, alerted: set[tuple[str, str]]
) -> list[DigestStory]:
    """One story per story key: the best-scoring copy leads, the others are 'also reported by'."""
    by_story: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["topic_id"] == topic_id:
            by_story.setdefault(row["story_key"], []).append(row)
    stories: list[DigestStory] = []
    for story_key, copies in by_story.items():
        lead = max(copies, key=lambda r: (r["score"], -r["id"]))
        evidence = json.loads(lead["evidence_json"])
        stories.append(
            DigestStory(
                headline=lead["title"],
                url=lead["url"],
                outlet=lead["outlet"],
                published=utc(lead["published_at"]),
                score=lead["score"],
                passages=[
                    Passage(text=e["text"], highlights=[tuple(h) for h in e["highlights"]])
                    for e in evidence
                ],
                also_reported_by=[
                    OtherOutlet(outlet=c["outlet"], url=c["url"]) for c in copies if c is not lead
                ],
                alerted=(topic_id, story_key) in alerted,
            )
        )
    return sorted(stories, key=lambda s: (-len(s.also_reported_by), -s.score, s.headline))


def _alerted_stories(store: Store, desk_id: str) -> set[tuple[str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.topic_id, outbox.c.story_key).where(
                outbox.c.desk_id == desk_id, outbox.c.status == "sent"
            )
        ).all()
    return {(row.topic_id, row.story_key) for row in rows}


def _alerts_sent(store: Store, desk_id: str, start: datetime, end: datetime) -> int:
    with store.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(
                outbox.c.desk_id == desk_id,
                outbox.c.status == "sent",
                outbox.c.sent_at >= start,
                outbox.c.sent_at < end,
            )
        ).scalar()
    return int(count or 0)


def _source_health(source: SourceSpec, state: SourceState | None) -> DigestSource:
    if state is None:
        return DigestSource(source_id=source.id, name=source.name, status="never-checked")
    return DigestSource(
        source_id=source.id,
        name=source.name,
        status=state.last_status or "never-checked",
        reason=(state.last_reason or "") if state.last_status == "failed" else "",
        last_ok_at=state.last_ok_at,
    )
