"""Words and numbers shared by the digest's Markdown, HTML and email renderings. Pure."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.delivery.render import one_line
from alerts.models import (
    Digest,
    DigestRelease,
    DigestSource,
    DigestStory,
    DigestTopic,
    DigestVolumePoint,
)
from monitors.models import SourceStatus

_BARS = "▁▂▃▄▅▆▇█"


def zone_of(d: Digest) -> tzinfo | None:
    """The desk's time zone, or None to show times as stored rather than fail the digest."""
    try:
        return ZoneInfo(d.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(moment: datetime | None, zone: tzinfo | None, day: date | None = None) -> str:
    """`2024-12-18 10:15 KST` in the desk's zone; just `10:15 KST` on the digest's own day."""
    if moment is None:
        return "time unknown"
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    name = moment.tzname() or ""
    text = moment.strftime("%H:%M") if moment.date() == day else moment.strftime("%Y-%m-%d %H:%M")
    return f"{text} {name}".rstrip()


def zone_line(d: Digest, zone: tzinfo | None) -> str:
    """`times in KST, UTC+09:00`; both names and offsets when the day changes them (DST)."""
    if zone is None:
        return "times in UTC, UTC+00:00"
    ends = [d.window_start.astimezone(zone), (d.window_end - timedelta(seconds=1)).astimezone(zone)]
    names = list(dict.fromkeys(m.tzname() or d.timezone for m in ends))
    offsets = list(dict.fromkeys(_offset(m) for m in ends))
    return f"times in {'/'.join(names)}, UTC{'/'.join(offsets)}"


def _offset(moment: datetime) -> str:
    """`+09:00`, `-03:30`, `+00:00`."""
    delta = moment.utcoffset() or timedelta(0)
    sign = "-" if delta < timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def as_of(d: Digest, zone: tzinfo | None) -> str:
    """How much of the day the data covers: `the whole day`, `data as of 10:00 KST`."""
    if d.data_as_of is None:
        return "no data yet"
    if d.data_as_of >= d.window_end:
        return "the whole day"
    return f"data as of {when(d.data_as_of, zone, d.date)}"


def title(d: Digest) -> str:
    """`Korea desk — digest for 2024-12-18`."""
    return f"{one_line(d.desk_name)} — digest for {d.date.isoformat()}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 story`, `2 stories`."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def stories(count: int) -> str:
    """`1 story`, `3 stories`."""
    return plural(count, "story", "stories")


def change(today: int, average: float) -> str:
    """Today against the 7-day average: `+150%`, `−40%`, `±0%`, `new` or `—`."""
    if average <= 0:
        return "new" if today else "—"
    percent = round((today - average) / average * 100)
    if percent == 0:
        return "±0%"
    return f"+{percent}%" if percent > 0 else f"−{-percent}%"


def sparkline(points: list[DigestVolumePoint]) -> str:
    """Fourteen days as block characters, scaled to the busiest day."""
    peak = max((p.stories for p in points), default=0)
    if peak == 0:
        return _BARS[0] * len(points)
    return "".join(_BARS[round(p.stories / peak * (len(_BARS) - 1))] for p in points)


TABLE_NOTE = (
    "Stories per topic count every story tagged with the topic; a story matching several "
    "topics is listed once, under its leading topic (highest severity, then score)."
)


def topic_count(topic: DigestTopic) -> str:
    """`2 stories`, or `2 stories (and 1 listed under another topic)`."""
    elsewhere = topic.matched_stories - len(topic.stories)
    text = stories(len(topic.stories))
    if elsewhere > 0:
        text += f" (and {elsewhere} listed under another topic)"
    return text


def today(topic: DigestTopic) -> int:
    """The day's stories tagged with the topic, those listed under another topic included."""
    return topic.matched_stories


def summary_line(d: Digest) -> str:
    """`6 stories (7-day average 1.4 a day, +329%) · 9 alerts sent · 2 sources need attention.`"""
    s = d.summary
    avg = f"7-day average {s.average_7d:g} a day, {change(s.stories, s.average_7d)}"
    parts = [f"{stories(s.stories)} ({avg})", alerts_phrase(d)]
    problems = len(problem_sources(d))
    parts.append(
        f"{plural(problems, 'source')} {'needs' if problems == 1 else 'need'} attention"
        if problems
        else "all sources healthy"
    )
    return " · ".join(parts) + "."


def alerts_phrase(d: Digest) -> str:
    """`9 alerts sent about 5 stories`, with the reason whenever none was sent."""
    s = d.summary
    if s.digest_only:
        return "no alerts (digest-only desk)"
    text = f"{plural(s.alerts_sent, 'alert')} sent"
    if s.alerted_stories:
        text += f" about {stories(s.alerted_stories)}"
    held = [f"{s.held_for_quiet_hours} held for quiet hours"] if s.held_for_quiet_hours else []
    if s.alerts_sent == 0 and s.suppressed_over_budget:
        held.append(f"{s.suppressed_over_budget} over budget")
    if s.alerts_sent == 0 and s.alerts_waiting:
        held.append(f"{s.alerts_waiting} waiting for delivery")
    if held:
        return f"{text}, {', '.join(held)}"
    if s.alerts_sent == 0 and s.stories:
        return f"{text} (no alert was due under the desk's rules)"
    return text


def alerts_line(d: Digest, zone: tzinfo | None) -> str | None:
    """Why alerts were not sent at once: digest-only, held for quiet hours, waiting."""
    s = d.summary
    if s.digest_only:
        return "Digest-only desk: its alerts are never sent; every story is listed here."
    parts = [_release(r, zone, d.date) for r in s.quiet_releases]
    if s.alerts_waiting:
        waiting = plural(s.alerts_waiting, "alert")
        parts.append(f"{waiting} waiting for delivery (pending or failed)")
    return ("Alerts: " + " · ".join(parts) + ".") if parts else None


def _release(release: DigestRelease, zone: tzinfo | None, day: date) -> str:
    """`14 alerts about 7 stories held for quiet hours go out at 07:00 KST`."""
    held = f"{plural(release.alerts, 'alert')} about {stories(release.stories)}"
    held += " held for quiet hours"
    if release.at is None:
        return f"{held} (no quiet-hours summary found)"
    verb = "went" if release.sent else ("goes" if release.alerts == 1 else "go")
    return f"{held} {verb} out at {when(release.at, zone, day)}"


def suppressed_line(d: Digest) -> str:
    """What was held back: later copies of known stories, alerts over budget."""
    s = d.summary
    dupes = plural(s.suppressed_duplicates, "duplicate copy", "duplicate copies")
    budget = f"{plural(s.suppressed_over_budget, 'alert')} over budget"
    if s.suppressed_over_budget:
        budget += " (listed in the hour's burst summary)"
    return f"Suppressed: {dupes} of stories already seen · {budget}."


def problem_sources(d: Digest) -> list[DigestSource]:
    """Sources that failed, went silent or were never checked, failed first."""
    order = [SourceStatus.FAILED, SourceStatus.SILENT, SourceStatus.NEVER_CHECKED]
    problems = [s for s in d.sources if not s.status.healthy]
    return sorted(problems, key=lambda s: (order.index(s.status), s.name))


def story_meta(story: DigestStory, zone: tzinfo | None, day: date) -> list[str]:
    """Outlet, time, score, outlets and alert state, each a short phrase."""
    meta = [one_line(story.outlet), when(story.published or story.detected_at, zone, day)]
    meta.append(f"score {story.score:g}")
    if story.outlets > 1:
        meta.append(f"{story.outlets} outlets")
    first = story.first_seen_at.astimezone(zone) if zone else story.first_seen_at
    if first.date() < day:
        meta.append(f"continuing since {when(story.first_seen_at, zone)}")
    if story.alerted:
        meta.append("alerted")
    return meta


def tags_line(story: DigestStory) -> str:
    """`Arms transfers (high, score 9) · Troop deployment (medium, score 5)`."""
    return " · ".join(
        f"{one_line(t.title)} ({t.severity}, score {t.score:g})" for t in story.topics
    )


def source_line(source: DigestSource, zone: tzinfo | None) -> str:
    """`failed: timeout — connection refused; 3 failures in a row; last ok …` (no name)."""
    head = f"{source.status}: {one_line(source.reason)}" if source.reason else source.status
    tail: list[str] = []
    if source.detail:
        tail.append(one_line(source.detail, 200))
    if source.consecutive_failures > 1:
        tail.append(f"{source.consecutive_failures} failures in a row")
    if source.status is SourceStatus.FAILED and source.last_ok_at:
        tail.append(f"last ok {when(source.last_ok_at, zone)}")
    if source.status is not SourceStatus.FAILED and source.last_item_at:
        tail.append(f"last new item {when(source.last_item_at, zone)}")
    return "; ".join([head, *tail])
