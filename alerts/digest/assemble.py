"""Assemble a Digest from the facts read for one desk-local day. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from alerts.digest.held import quiet_releases
from alerts.digest.stories import (
    MatchedRow,
    TopicInfo,
    average_before_last,
    build_stories,
    daily_volume,
    duplicate_items,
)
from alerts.models import (
    Digest,
    DigestSource,
    DigestStory,
    DigestSummary,
    DigestTopic,
    DigestVolumePoint,
)
from monitors.models import SourceStatus
from monitors.store.rows import HeldAlert, QuietSummary
from seeds.models import DeskSpec, Severity, SourceKind, SourceSpec, TopicSpec

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
    # (topic, story key, sent at): every sent row of the desk before the day's end, one per
    # message; summaries included (their story keys start with `summary:`)
    sent: list[tuple[str, str, datetime]]
    over_budget: Counter[str]
    rows: list[MatchedRow]  # every copy of the day's stories, up to the day's end
    as_of: datetime | None
    health: list[DigestSource]
    held: list[HeldAlert] = field(default_factory=list)  # created during the day
    quiet: list[QuietSummary] = field(default_factory=list)  # the desk's quiet-hours summaries
    waiting: int = 0  # created during the day, still pending or failed


def assemble_digest(
    desk: DeskSpec,
    topics: Sequence[TopicSpec],
    sources: Sequence[SourceSpec],
    window: DayWindow,
    facts: DayFacts,
) -> Digest:
    """The digest of one desk-local day from what the store said about it."""
    transcripts = {s.id for s in sources if s.kind in TRANSCRIPT_KINDS}
    infos = topic_infos(desk, topics)
    start = window.start
    in_day = {r.story_key for r in facts.rows if r.detected_at >= start}
    in_day |= {k for _, k, at in facts.sent if at >= start}
    # A story is alerted when any sent row of the desk has its key, whatever the row's topic.
    alerted = {k for _, k, _ in facts.sent}
    day_rows = [r for r in facts.rows if r.story_key in in_day]
    listed = build_stories(day_rows, alerted, transcripts, infos)
    digest_topics = [_topic(info, listed, facts, window) for info in infos]
    overall = daily_volume(((k, at) for _, k, at in facts.detections), window.days, window.zone)
    return Digest(
        desk_id=desk.id,
        desk_name=desk.name,
        date=window.days[-1],
        timezone=desk.timezone,
        window_start=window.start,
        window_end=window.end,
        data_as_of=facts.as_of,
        summary=_summary(desk, listed, digest_topics, overall, facts, window),
        volume=overall,
        topics=digest_topics,
        sources=facts.health,
    )


def topic_infos(desk: DeskSpec, topics: Sequence[TopicSpec]) -> list[TopicInfo]:
    """The desk's topics in desk order; one missing from topics.yaml keeps its id as title."""
    specs = {t.id: t for t in topics}
    return [
        TopicInfo(t, specs[t].title, specs[t].severity)
        if t in specs
        else TopicInfo(t, t, Severity.MEDIUM)
        for t in desk.topics
    ]


def _topic(
    info: TopicInfo, listed: Sequence[DigestStory], facts: DayFacts, window: DayWindow
) -> DigestTopic:
    """One topic: the stories it leads, the stories it tags, counts and volume."""
    start = window.start
    rows = [r for r in facts.rows if r.topic_id == info.topic_id]
    detections = ((k, at) for t, k, at in facts.detections if t == info.topic_id)
    volume = daily_volume(detections, window.days, window.zone)
    return DigestTopic(
        topic_id=info.topic_id,
        title=info.title,
        severity=info.severity,
        stories=[s for s in listed if s.topics and s.topics[0].topic_id == info.topic_id],
        matched_stories=sum(any(t.topic_id == info.topic_id for t in s.topics) for s in listed),
        alerts_sent=sum(t == info.topic_id and at >= start for t, _, at in facts.sent),
        average_7d=average_before_last(volume),
        volume=volume,
        suppressed_duplicates=len(duplicate_items(rows, start, window.end)),
        suppressed_over_budget=facts.over_budget[info.topic_id],
    )


def _summary(
    desk: DeskSpec,
    listed: Sequence[DigestStory],
    topics: Sequence[DigestTopic],
    overall: Sequence[DigestVolumePoint],
    facts: DayFacts,
    window: DayWindow,
) -> DigestSummary:
    """The top-of-page numbers: stories, items and messages are counted once."""
    start = window.start
    duplicates: set[int] = set()
    for t in topics:
        rows = [r for r in facts.rows if r.topic_id == t.topic_id]
        duplicates |= duplicate_items(rows, start, window.end)
    return DigestSummary(
        stories=len(listed),
        items=len({r.item_id for r in facts.rows if r.detected_at >= start}),
        alerts_sent=sum(at >= start for _, _, at in facts.sent),
        alerted_stories=sum(s.alerted for s in listed),
        average_7d=average_before_last(overall),
        suppressed_duplicates=len(duplicates),
        suppressed_over_budget=sum(facts.over_budget.values()),
        held_for_quiet_hours=len(facts.held),
        quiet_releases=quiet_releases(facts.held, facts.quiet),
        alerts_waiting=facts.waiting,
        digest_only=desk.mode == "digest-only",
        sources_failed=sum(s.status is SourceStatus.FAILED for s in facts.health),
        sources_silent=sum(s.status is SourceStatus.SILENT for s in facts.health),
    )
