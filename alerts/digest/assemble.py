"""Assemble a Digest from the facts read for one desk-local day. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from alerts.digest.stories import (
    MatchedRow,
    average_before_last,
    build_stories,
    daily_volume,
    duplicate_items,
)
from alerts.models import Digest, DigestSource, DigestSummary, DigestTopic, DigestVolumePoint
from monitors.models import SourceStatus
from seeds.models import DeskSpec, SourceKind, SourceSpec, TopicSpec

TRANSCRIPT_KINDS = frozenset({SourceKind.TRANSCRIPT_PAGE, SourceKind.PODCAST})


@dataclass(frozen=True, slots=True)
class DayWindow:
    """The digest day in UTC and the chart's desk-local days (oldest first)."""

    start: datetime
    end: datetime
    chart_start: datetime
    days: list[date]
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class DayFacts:
    """What the store says about the window, read in one connection."""

    detections: list[tuple[str, str, datetime]]  # (topic, story key, detected at), 14 days
    sent: list[tuple[str, str, datetime]]  # (topic, story key, sent at), before the day's end
    over_budget: Counter[str]
    rows: list[MatchedRow]  # every copy of the day's stories, up to the day's end
    as_of: datetime | None
    health: list[DigestSource]


def assemble_digest(
    desk: DeskSpec,
    topics: Sequence[TopicSpec],
    sources: Sequence[SourceSpec],
    window: DayWindow,
    facts: DayFacts,
) -> Digest:
    """The digest of one desk-local day from what the store said about it."""
    transcripts = {s.id for s in sources if s.kind in TRANSCRIPT_KINDS}
    titles = {t.id: t.title for t in topics}
    digest_topics = [
        _topic(topic_id, titles.get(topic_id, topic_id), facts, window, transcripts)
        for topic_id in desk.topics
    ]
    overall = daily_volume(((k, at) for _, k, at in facts.detections), window.days, window.zone)
    return Digest(
        desk_id=desk.id,
        desk_name=desk.name,
        date=window.days[-1],
        timezone=desk.timezone,
        window_start=window.start,
        window_end=window.end,
        data_as_of=facts.as_of,
        summary=_summary(digest_topics, overall, facts, window),
        volume=overall,
        topics=digest_topics,
        sources=facts.health,
    )


def _topic(
    topic_id: str, title: str, facts: DayFacts, window: DayWindow, transcripts: set[str]
) -> DigestTopic:
    """One topic: the day's stories (new copies or alerts sent that day), counts and volume."""
    start = window.start
    rows = [r for r in facts.rows if r.topic_id == topic_id]
    sent = [(k, at) for t, k, at in facts.sent if t == topic_id]
    in_day = {r.story_key for r in rows if r.detected_at >= start} | {
        k for k, at in sent if at >= start
    }
    detections = ((k, at) for t, k, at in facts.detections if t == topic_id)
    volume = daily_volume(detections, window.days, window.zone)
    return DigestTopic(
        topic_id=topic_id,
        title=title,
        stories=build_stories(
            # alerted when any sent row of the desk has the story, whatever the row's topic
            [r for r in rows if r.story_key in in_day],
            {k for _, k, _ in facts.sent},
            transcripts,
        ),
        alerts_sent=sum(at >= start for _, at in sent),
        average_7d=average_before_last(volume),
        volume=volume,
        suppressed_duplicates=len(duplicate_items(rows, start, window.end)),
        suppressed_over_budget=facts.over_budget[topic_id],
    )


def _summary(
    topics: Sequence[DigestTopic],
    overall: Sequence[DigestVolumePoint],
    facts: DayFacts,
    window: DayWindow,
) -> DigestSummary:
    """The top-of-page numbers; stories and items are counted once across topics."""
    start = window.start
    stories = {s.story_key for t in topics for s in t.stories}
    duplicates: set[int] = set()
    for t in topics:
        rows = [r for r in facts.rows if r.topic_id == t.topic_id]
        duplicates |= duplicate_items(rows, start, window.end)
    alerted = {s.story_key for t in topics for s in t.stories if s.alerted}
    return DigestSummary(
        stories=len(stories),
        items=len({r.item_id for r in facts.rows if r.detected_at >= start}),
        alerts_sent=sum(t.alerts_sent for t in topics),
        alerted_stories=len(alerted),
        average_7d=average_before_last(overall),
        suppressed_duplicates=len(duplicates),
        suppressed_over_budget=sum(t.suppressed_over_budget for t in topics),
        sources_failed=sum(s.status is SourceStatus.FAILED for s in facts.health),
        sources_silent=sum(s.status is SourceStatus.SILENT for s in facts.health),
    )
