"""Pure digest decisions: matched items into ranked stories, transcript timestamps, daily volume."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from urllib.parse import urlsplit, urlunsplit

from alerts.models import (
    DigestCopy,
    DigestPassage,
    DigestStory,
    DigestTag,
    DigestVolumePoint,
    Passage,
)
from monitors.extract import transcript_timestamp_at
from monitors.transcripts import TIMESTAMP_MARKER
from seeds.models import Severity


@dataclass(frozen=True, slots=True)
class MatchedRow:
    """One item matched to one topic, as read from the store."""

    item_id: int
    story_key: str
    topic_id: str
    source_id: str
    title: str
    outlet: str
    url: str
    published: datetime | None
    detected_at: datetime
    score: float
    passages: tuple[Passage, ...]

    @property
    def order(self) -> tuple[datetime, int]:
        """Detection order: time first, then insertion order."""
        return (self.detected_at, self.item_id)


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """What the digest needs of a desk topic to tag stories and pick the leading one."""

    topic_id: str
    title: str
    severity: Severity


def build_stories(
    rows: Sequence[MatchedRow],
    alerted: set[str],
    transcripts: set[str],
    topics: Sequence[TopicInfo],
) -> list[DigestStory]:
    """Rows (of any of the desk's `topics`, in desk order) as stories, each once, ranked."""
    by_story: dict[str, list[MatchedRow]] = defaultdict(list)
    for row in rows:
        by_story[row.story_key].append(row)
    stories = [
        make_story(copies, key in alerted, transcripts, topics) for key, copies in by_story.items()
    ]
    return sorted(stories, key=rank_key)


def rank_key(story: DigestStory) -> tuple[float, int, bool, datetime, str]:
    """Best score first, then more outlets, then alerted, then the earliest seen."""
    return (-story.score, -story.outlets, not story.alerted, story.first_seen_at, story.headline)


def topic_tags(copies: Sequence[MatchedRow], topics: Sequence[TopicInfo]) -> list[DigestTag]:
    """The topics the copies matched, leading first: highest severity, highest score, desk order."""
    best: dict[str, float] = {}
    for copy in copies:
        best[copy.topic_id] = max(best.get(copy.topic_id, copy.score), copy.score)
    order = {t.topic_id: n for n, t in enumerate(topics)}
    tags = [
        DigestTag(topic_id=t.topic_id, title=t.title, severity=t.severity, score=best[t.topic_id])
        for t in topics
        if t.topic_id in best
    ]
    return sorted(tags, key=lambda t: (-t.severity.rank, -t.score, order[t.topic_id]))


def make_story(
    copies: Sequence[MatchedRow], alerted: bool, transcripts: set[str], topics: Sequence[TopicInfo]
) -> DigestStory:
    """A story from its copies: the leading topic's best-scoring (then earliest) copy leads."""
    tags = topic_tags(copies, topics)
    leading = [c for c in copies if c.topic_id == tags[0].topic_id] if tags else list(copies)
    lead = min(leading, key=lambda r: (-r.score, r.order))
    distinct = {c.item_id: c for c in copies}  # one row per topic it matched: one copy
    others: dict[str, MatchedRow] = {}
    for copy in sorted(distinct.values(), key=lambda r: r.order):
        if copy.outlet != lead.outlet and copy.outlet not in others:
            others[copy.outlet] = copy
    return DigestStory(
        story_key=lead.story_key,
        headline=lead.title,
        url=lead.url,
        outlet=lead.outlet,
        source_id=lead.source_id,
        published=lead.published,
        detected_at=lead.detected_at,
        first_seen_at=min(c.detected_at for c in copies),
        score=lead.score,
        outlets=1 + len(others),
        items=len(distinct),
        transcript=lead.source_id in transcripts,
        topics=tags,
        passages=[timestamp_passage(p, lead.url) for p in _distinct(lead.passages)],
        also_reported_by=[
            DigestCopy(
                outlet=c.outlet,
                url=c.url,
                headline=c.title,
                published=c.published,
                detected_at=c.detected_at,
            )
            for c in others.values()
        ],
        alerted=alerted,
    )


def _distinct(passages: Sequence[Passage]) -> list[Passage]:
    """Passages with the same text shown once (a title repeated as the feed summary)."""
    seen: set[str] = set()
    kept = []
    for passage in passages:
        key = " ".join(passage.text.split())
        if key not in seen:
            seen.add(key)
            kept.append(passage)
    return kept


def duplicate_items(rows: Iterable[MatchedRow], start: datetime, end: datetime) -> set[int]:
    """Items detected in [start, end) whose story already had an earlier item (among `rows`)."""
    earliest: dict[str, tuple[datetime, int]] = {}
    window: list[MatchedRow] = []
    for row in rows:
        if row.story_key not in earliest or row.order < earliest[row.story_key]:
            earliest[row.story_key] = row.order
        if start <= row.detected_at < end:
            window.append(row)
    return {row.item_id for row in window if row.order != earliest[row.story_key]}


def timestamp_passage(passage: Passage, url: str) -> DigestPassage:
    """The passage without `Starting point is` markers, and the marked time as a link."""
    first = min((s for s, _ in passage.highlights), default=len(passage.text))
    stamp = transcript_timestamp_at(passage.text, first + 1) or _first_marker(passage.text)
    if stamp is None:
        return DigestPassage(text=passage.text, highlights=list(passage.highlights))
    text, highlights = strip_markers(passage.text, passage.highlights)
    return DigestPassage(
        text=text, highlights=highlights, timestamp=stamp, timestamp_url=_at_time(url, stamp)
    )


def strip_markers(
    text: str, highlights: Sequence[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]]:
    """Remove the markers from `text`, moving the highlight spans along with the words."""
    cuts = [(m.start(), m.end()) for m in TIMESTAMP_MARKER.finditer(text)]

    def moved(offset: int) -> int:
        shift = sum(min(end, offset) - cut for cut, end in cuts if cut < offset)
        return offset - shift

    kept = "".join(text[a:b] for a, b in _gaps(cuts, len(text)))
    spans = [(moved(s), moved(e)) for s, e in highlights]
    return kept, [(s, e) for s, e in spans if s < e]


def _gaps(cuts: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for start, end in cuts:
        spans.append((pos, start))
        pos = end
    spans.append((pos, length))
    return spans


def _first_marker(text: str) -> str | None:
    found = TIMESTAMP_MARKER.search(text)
    return found.group(1) if found else None


def _at_time(url: str, stamp: str) -> str:
    """`url#t=HH:MM:SS` (any fragment replaced)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return urlunsplit(parts._replace(fragment=f"t={stamp}"))


def daily_volume(
    detections: Iterable[tuple[str, datetime]], days: Sequence[date], zone: tzinfo
) -> list[DigestVolumePoint]:
    """Distinct story keys with a detection on each desk-local day."""
    per_day: dict[date, set[str]] = {day: set() for day in days}
    for story_key, detected_at in detections:
        local = detected_at.astimezone(zone).date()
        if local in per_day:
            per_day[local].add(story_key)
    return [DigestVolumePoint(date=day, stories=len(per_day[day])) for day in days]


def average_before_last(points: Sequence[DigestVolumePoint], span: int = 7) -> float:
    """Mean stories per day over the `span` days before the last point, rounded to 0.01."""
    previous = [p.stories for p in points[:-1]][-span:]
    return round(sum(previous) / len(previous), 2) if previous else 0.0
