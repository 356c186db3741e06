"""The digest's pure assembly: one listing per story with topic tags, per-story alert marks,
alerts held for quiet hours and when they go out, and the reasons behind "0 alerts sent".

The facts are written by hand for the Korea desk's local day 2024-12-18 (Seoul, UTC+09:00) and
the diplomacy desk's (Moscow, UTC+03:00); topics come from the real topics.yaml, where
troop-deployment and arms-transfers are high severity and pyongyang-moscow-ties is medium.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts.digest.assemble import DayFacts, DayWindow, assemble_digest
from alerts.digest.held import quiet_releases
from alerts.digest.read import CHART_DAYS, day_window
from alerts.digest.stories import MatchedRow
from alerts.digest.writer import render_digest_html, render_digest_markdown
from alerts.models import Digest
from monitors.store.rows import HeldAlert, OutboxStatus, QuietSummary
from seeds.loader import load_seeds
from seeds.models import DeskSpec
from tests.support.builders import a_desk

DAY = date(2024, 12, 18)
NOON_SEOUL = datetime(2024, 12, 18, 3, 0, tzinfo=UTC)
TOPICS = load_seeds(None, None, None).topics
KOREA = a_desk(topics=["pyongyang-moscow-ties", "troop-deployment", "arms-transfers"])
DIPLOMACY = DeskSpec.model_validate(
    {
        "id": "diplomacy-desk",
        "name": "Diplomacy desk",
        "timezone": "Europe/Moscow",
        "topics": ["seoul-moscow", "pyongyang-moscow-ties"],
        "quiet_hours": {"start": "23:00", "end": "07:00"},
        "channels": [{"kind": "slack", "webhook": "diplomacy"}, {"kind": "file"}],
    }
)


def window(desk: DeskSpec, day: date = DAY) -> DayWindow:
    """The desk's local day and its 14 chart days, as `build_digest` reads them."""
    days = [day - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    start, end = (m.astimezone(UTC) for m in day_window(day, desk.timezone))
    chart_start = day_window(days[0], desk.timezone)[0].astimezone(UTC)
    return DayWindow(start, end, chart_start, days, ZoneInfo(desk.timezone))


def copy(item_id: int, story: str, topic: str, score: float, **kw: Any) -> MatchedRow:
    """One item of `story` matched to `topic`."""
    fields: dict[str, Any] = {
        "item_id": item_id,
        "story_key": story,
        "topic_id": topic,
        "source_id": f"wire-{item_id}",
        "title": f"Wire {item_id} on {story}",
        "outlet": f"Wire {item_id}",
        "url": f"https://wire{item_id}.example/{story}",
        "published": None,
        "detected_at": NOON_SEOUL + timedelta(minutes=item_id),
        "score": score,
        "passages": (),
    }
    return MatchedRow(**(fields | kw))


def facts(rows: list[MatchedRow], **kw: Any) -> DayFacts:
    fields: dict[str, Any] = {
        "detections": [(r.topic_id, r.story_key, r.detected_at) for r in rows],
        "sent": [],
        "over_budget": Counter(),
        "rows": rows,
        "as_of": None,
        "health": [],
    }
    return DayFacts(**(fields | kw))


def digest(desk: DeskSpec, day_facts: DayFacts) -> Digest:
    return assemble_digest(desk, TOPICS, [], window(desk), day_facts)


# A troop story that also matched the (medium) ties topic, with a better score there; a second
# outlet carried it with a match to the ties topic only.
TWO_TOPICS = [
    copy(1, "troops", "troop-deployment", 6.0),
    copy(1, "troops", "pyongyang-moscow-ties", 9.0),
    copy(2, "troops", "pyongyang-moscow-ties", 7.0),
    copy(3, "ties-only", "pyongyang-moscow-ties", 5.0),
]


def test_a_story_matching_two_topics_is_listed_once_under_the_more_severe_one() -> None:
    d = digest(KOREA, facts(TWO_TOPICS))
    listed = {t.topic_id: [s.story_key for s in t.stories] for t in d.topics}
    assert listed == {
        "pyongyang-moscow-ties": ["ties-only"],
        "troop-deployment": ["troops"],  # high beats medium, although its score is lower
        "arms-transfers": [],
    }
    troops = d.topics[1].stories[0]
    assert [(t.topic_id, t.severity, t.score) for t in troops.topics] == [
        ("troop-deployment", "high", 6.0),
        ("pyongyang-moscow-ties", "medium", 9.0),
    ]
    assert troops.score == 6.0 and troops.outlet == "Wire 1"  # the leading topic's best copy
    assert (troops.items, troops.outlets) == (2, 2)
    # per-topic counts still count the story under both topics; the total counts it once
    assert [t.matched_stories for t in d.topics] == [2, 1, 0]
    assert d.summary.stories == 2 and d.summary.items == 3


def test_between_topics_of_one_severity_the_higher_score_leads() -> None:
    rows = [copy(1, "deal", "troop-deployment", 5.0), copy(1, "deal", "arms-transfers", 8.0)]
    d = digest(KOREA, facts(rows))
    arms = next(t for t in d.topics if t.topic_id == "arms-transfers")
    assert [s.story_key for s in arms.stories] == ["deal"]
    assert [t.topic_id for t in arms.stories[0].topics] == ["arms-transfers", "troop-deployment"]


def test_the_page_lists_the_story_once_with_its_tags_and_explains_the_counts() -> None:
    d = digest(KOREA, facts(TWO_TOPICS))
    md = render_digest_markdown(d)
    assert md.count("Wire 1 on troops") == 1
    assert (
        "Topics: North Korean troops fighting for Russia (high, score 6) · "
        "Pyongyang–Moscow summitry and alliance (medium, score 9)"
    ) in md
    assert "## Pyongyang–Moscow summitry and alliance — 1 story (and 1 listed under another" in md
    assert "a story matching several topics is listed once" in md
    html = render_digest_html(d)
    assert html.count("Wire 1 on troops") == 1 and 'class="tag lead"' in html


def test_alerted_and_alerts_sent_are_judged_per_story_with_either_outbox_key() -> None:
    at = NOON_SEOUL + timedelta(hours=1)
    # one row per desk, channel, topic and story (two topics matched: two rows per channel)
    per_topic = [
        ("troop-deployment", "troops", at),
        ("pyongyang-moscow-ties", "troops", at),
    ]
    # one row per desk, channel and story, carrying the story's leading topic
    per_story = [("troop-deployment", "troops", at)]
    for sent, messages in ((per_topic, 2), (per_story, 1)):
        d = digest(KOREA, facts(TWO_TOPICS, sent=sent))
        by_key = {s.story_key: s for t in d.topics for s in t.stories}
        assert by_key["troops"].alerted and not by_key["ties-only"].alerted
        assert (d.summary.alerts_sent, d.summary.alerted_stories) == (messages, 1)
    # a story alerted under the ties topic only is still alerted, under its leading topic
    d = digest(KOREA, facts(TWO_TOPICS, sent=[("pyongyang-moscow-ties", "troops", at)]))
    assert d.topics[1].stories[0].alerted


def test_a_summary_sent_to_the_desk_counts_as_a_message_but_alerts_no_story() -> None:
    at = NOON_SEOUL + timedelta(hours=1)
    sent = [("*", "summary:quiet-2024-12-18T04:00Z", at), ("troop-deployment", "troops", at)]
    d = digest(KOREA, facts(TWO_TOPICS, sent=sent))
    assert (d.summary.alerts_sent, d.summary.alerted_stories) == (2, 1)


QUIET_END = datetime(2024, 12, 19, 4, 0, tzinfo=UTC)  # 07:00 on Dec 19 in Moscow


def held_rows(count: int, at: datetime) -> list[HeldAlert]:
    """`count` stories held at `at`, each once per channel of the diplomacy desk."""
    return [
        HeldAlert(channel, f"story-{n}", at + timedelta(minutes=n))
        for n in range(count)
        for channel in ("slack", "file")
    ]


def pending(due: datetime) -> list[QuietSummary]:
    return [QuietSummary(c, OutboxStatus.PENDING, due, None) for c in ("slack", "file")]


def test_alerts_held_for_quiet_hours_say_when_they_go_out() -> None:
    late = datetime(2024, 12, 18, 20, 30, tzinfo=UTC)  # 23:30 in Moscow: quiet hours
    rows = [copy(n, f"story-{n}", "seoul-moscow", 5.0, detected_at=late) for n in range(7)]
    d = digest(DIPLOMACY, facts(rows, held=held_rows(7, late), quiet=pending(QUIET_END)))
    s = d.summary
    assert (s.alerts_sent, s.held_for_quiet_hours) == (0, 14)
    [release] = s.quiet_releases
    assert (release.at, release.sent, release.alerts, release.stories) == (QUIET_END, False, 14, 7)
    md = render_digest_markdown(d)
    assert "0 alerts sent, 14 held for quiet hours" in md
    assert (
        "Alerts: 14 alerts about 7 stories held for quiet hours go out at 2024-12-19 07:00 MSK."
        in md
    )
    assert "times in MSK, UTC+03:00" in md
    html = render_digest_html(d)
    assert "held for quiet hours go out at 2024-12-19 07:00 MSK" in html


def test_each_held_alert_goes_with_the_first_summary_of_its_channel_due_after_it() -> None:
    early = datetime(2024, 12, 18, 0, 30, tzinfo=UTC)  # 03:30 in Moscow
    morning = datetime(2024, 12, 18, 4, 0, tzinfo=UTC)  # 07:00: the night's summary
    summaries = [
        QuietSummary("slack", OutboxStatus.SENT, morning, morning + timedelta(seconds=5)),
        QuietSummary("file", OutboxStatus.SENT, morning, morning + timedelta(seconds=2)),
        *pending(QUIET_END),
    ]
    held = held_rows(1, early) + held_rows(3, datetime(2024, 12, 18, 20, 10, tzinfo=UTC))
    first, second = quiet_releases(held, summaries)
    assert (first.at, first.sent, first.alerts, first.stories) == (
        morning + timedelta(seconds=2),
        True,
        2,
        1,
    )
    assert (second.at, second.sent, second.alerts) == (QUIET_END, False, 6)
    orphan = quiet_releases([HeldAlert("email", "x", early)], summaries)
    assert [(r.at, r.alerts) for r in orphan] == [(None, 1)]


def test_a_digest_only_desk_says_why_no_alert_was_sent() -> None:
    desk = KOREA.model_copy(update={"mode": "digest-only"})
    d = digest(desk, facts(TWO_TOPICS))
    md = render_digest_markdown(d)
    assert d.summary.digest_only and "no alerts (digest-only desk)" in md
    assert "Digest-only desk: its alerts are never sent" in md
    assert "0 alerts sent" not in md


def test_no_alert_sent_always_comes_with_a_reason() -> None:
    quiet_day = render_digest_markdown(digest(KOREA, facts(TWO_TOPICS)))
    assert "0 alerts sent (no alert was due under the desk's rules)" in quiet_day
    budget = digest(KOREA, facts(TWO_TOPICS, over_budget=Counter({"troop-deployment": 3})))
    md = render_digest_markdown(budget)
    assert "0 alerts sent, 3 over budget" in md
    assert "3 alerts over budget (listed in the hour's burst summary)" in md
    waiting = render_digest_markdown(digest(KOREA, facts(TWO_TOPICS, waiting=2)))
    assert "0 alerts sent, 2 waiting for delivery" in waiting
    assert "2 alerts waiting for delivery (pending or failed)" in waiting


def test_the_header_gives_both_offsets_on_a_day_that_changes_them() -> None:
    berlin = a_desk(timezone="Europe/Berlin")
    day = date(2025, 3, 30)  # clocks go forward at 02:00
    d = assemble_digest(berlin, TOPICS, [], window(berlin, day), facts([]))
    assert "times in CET/CEST, UTC+01:00/+02:00" in render_digest_markdown(d)
    seoul = render_digest_markdown(digest(KOREA, facts([])))
    assert "times in KST, UTC+09:00" in seoul
