"""Build a desk's daily digest from the store's read model: stories, volume, source health."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerts.delivery.policy import SUMMARY_PREFIX
from alerts.digest.assemble import DayFacts, DayWindow, assemble_digest
from alerts.digest.health import source_healths
from alerts.digest.held import QUIET_PREFIX
from alerts.digest.stories import MatchedRow
from alerts.models import Digest, Passage
from monitors.store import DigestReads, MatchedItem, Store, StoryMark
from seeds.models import DeskSpec, SourceSpec, TopicSpec

CHART_DAYS = 14


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
    with store.digest_reads() as reads:
        facts = _read(reads, desk, sources, window)
    return assemble_digest(desk, topics, sources, window, facts)


def _window(day: date, timezone: str) -> DayWindow:
    days = [day - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    start, end = (moment.astimezone(UTC) for moment in day_window(day, timezone))
    chart_start = day_window(days[0], timezone)[0].astimezone(UTC)
    return DayWindow(start, end, chart_start, days, ZoneInfo(timezone))


def _read(
    reads: DigestReads, desk: DeskSpec, sources: Sequence[SourceSpec], window: DayWindow
) -> DayFacts:
    start, end = window.start, window.end
    detections = _marks(reads.detections(desk.topics, window.chart_start, end))
    sent = _marks(reads.sent_alerts(desk.id, end))
    keys = {k for _, k, at in detections + sent if at >= start}
    as_of = reads.data_as_of(end)
    matched = [_matched_row(i) for i in reads.story_items(desk.topics, sorted(keys), end)]
    return DayFacts(
        detections=detections,
        sent=sent,
        over_budget=reads.suppressed(desk.id, start, end),
        rows=sorted(matched, key=lambda r: (r.topic_id, r.order)),
        as_of=as_of,
        health=source_healths(reads, sources, as_of or end),
        held=reads.held_alerts(desk.id, start, end, SUMMARY_PREFIX),
        quiet=reads.quiet_summaries(desk.id, QUIET_PREFIX, start, end),
        waiting=reads.waiting(desk.id, start, end, SUMMARY_PREFIX),
    )


def _matched_row(item: MatchedItem) -> MatchedRow:
    return MatchedRow(
        item_id=item.item_id,
        story_key=item.story_key,
        topic_id=item.topic_id,
        source_id=item.source_id,
        title=item.title,
        outlet=item.outlet,
        url=item.url,
        published=item.published,
        detected_at=item.detected_at,
        score=item.score,
        passages=_passages(item.evidence_json),
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


def _marks(marks: Sequence[StoryMark]) -> list[tuple[str, str, datetime]]:
    return [(m.topic_id, m.story_key, m.at) for m in marks]
