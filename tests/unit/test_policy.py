"""Delivery rules, pure: quiet hours across midnight and DST, budgets, modes, summaries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alerts.delivery.policy import (
    Action,
    budget_window,
    burst_story_key,
    decide,
    follows,
    quiet_period,
    quiet_story_key,
)
from alerts.delivery.routing import plan_alerts
from alerts.delivery.summaries import MAX_ITEMS, burst_summary, carried, quiet_summary, with_item
from alerts.models import AlertMessage
from monitors.models import NewItem, StoryNews, TopicMatch
from seeds.models import QuietHours, Severity, TopicSpec
from tests.support.builders import a_desk, an_alert

NOW = datetime(2024, 12, 17, 9, 10, tzinfo=UTC)  # 18:10 in Seoul


make_desk = a_desk


def make_alert(n: int = 1, **changes: Any) -> AlertMessage:
    """The Korea desk's nth alert of medium severity, detected at NOW."""
    story = {
        "alert_key": f"korea-desk|email|story-{n}",
        "desk_id": "korea-desk",
        "desk_name": "Korea desk",
        "severity": "medium",
        "score": 5.0,
        "headline": f"Story {n}",
        "url": f"https://news.example/{n}",
        "detected_at": NOW,
        "recipients": ["desk@newsroom.example"],
    }
    return an_alert(**(story | changes))


# --- quiet hours -----------------------------------------------------------------------------


def test_quiet_hours_wrapping_midnight() -> None:
    quiet = QuietHours(start="22:00", end="07:00")
    seoul = ZoneInfo("Asia/Seoul")
    at_night = datetime(2024, 12, 17, 23, 30, tzinfo=seoul)
    start, end = quiet_period(quiet, "Asia/Seoul", at_night) or (None, None)
    assert start == datetime(2024, 12, 17, 22, 0, tzinfo=seoul)
    assert end == datetime(2024, 12, 18, 7, 0, tzinfo=seoul)
    early = datetime(2024, 12, 18, 6, 59, tzinfo=seoul)
    assert quiet_period(quiet, "Asia/Seoul", early) == (start, end)
    assert quiet_period(quiet, "Asia/Seoul", end) is None  # the end is not quiet any more
    assert quiet_period(quiet, "Asia/Seoul", datetime(2024, 12, 18, 12, tzinfo=seoul)) is None


def test_quiet_hours_across_a_dst_change() -> None:
    # Berlin moves to summer time at 02:00 on 2024-03-31: the night is an hour shorter.
    quiet = QuietHours(start="22:00", end="07:00")
    start, end = quiet_period(quiet, "Europe/Berlin", datetime(2024, 3, 31, 3, tzinfo=UTC)) or (
        NOW,
        NOW,
    )
    assert (start, end) == (
        datetime(2024, 3, 30, 21, tzinfo=UTC),
        datetime(2024, 3, 31, 5, tzinfo=UTC),
    )


@pytest.mark.parametrize("bad", [{"start": "7:00", "end": "08:00"}, {"start": "24:00", "end": "1"}])
def test_quiet_hours_need_hh_mm(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        QuietHours.model_validate(bad)


def test_quiet_hours_cannot_be_empty() -> None:
    with pytest.raises(ValidationError, match="same time"):
        QuietHours(start="07:00", end="07:00")


def _wall_quiet(quiet: QuietHours, local: time) -> bool:
    start, end = quiet.start_time, quiet.end_time
    return start <= local < end if start < end else (local >= start or local < end)


ZONES = ["UTC", "Asia/Seoul", "Europe/Moscow", "Asia/Kolkata", "Europe/Berlin", "America/New_York"]
FIXED = {"UTC", "Asia/Seoul", "Europe/Moscow", "Asia/Kolkata"}  # no DST in 2024-2025


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
    ),
    start=st.integers(0, 24 * 60 - 1),
    length=st.integers(1, 24 * 60 - 1),
    zone=st.sampled_from(ZONES),
)
def test_quiet_period_contains_now_and_ends_at_the_local_end(
    moment: datetime, start: int, length: int, zone: str
) -> None:
    end = (start + length) % (24 * 60)
    quiet = QuietHours(
        start=f"{start // 60:02}:{start % 60:02}", end=f"{end // 60:02}:{end % 60:02}"
    )
    found = quiet_period(quiet, zone, moment)
    local = moment.astimezone(ZoneInfo(zone))
    if found is not None:
        begin, until = found
        assert begin <= moment < until
        assert until - begin <= timedelta(hours=25)  # a DST night may be an hour longer
    if zone in FIXED:
        assert (found is not None) == _wall_quiet(quiet, local.time().replace(tzinfo=None))
        if found is not None:
            assert found[1].astimezone(ZoneInfo(zone)).time() == quiet.end_time


# --- decisions -------------------------------------------------------------------------------


def test_send_now_without_rules() -> None:
    assert decide(make_desk(), make_alert(), NOW, 100).action is Action.SEND
    assert decide(None, make_alert(), NOW, 100).action is Action.SEND


def test_digest_only_desk_never_sends() -> None:
    desk = make_desk(mode="digest-only")
    assert decide(desk, make_alert(), NOW, 0).action is Action.DIGEST_ONLY


def test_quiet_hours_hold_alerts_and_defer_summaries() -> None:
    desk = make_desk(quiet_hours={"start": "18:00", "end": "08:00"})
    held = decide(desk, make_alert(), NOW, 0)
    assert held.action is Action.HOLD
    assert held.until == datetime(2024, 12, 17, 23, 0, tzinfo=UTC)  # 08:00 in Seoul
    summary = make_alert(kind="summary", summary_of="burst")
    assert decide(desk, summary, NOW, 99).action is Action.DEFER


def test_high_severity_alerts_break_through_quiet_hours() -> None:
    desk = make_desk(quiet_hours={"start": "18:00", "end": "08:00", "except": "high"})
    assert decide(desk, make_alert(severity="high"), NOW, 0).action is Action.SEND
    assert decide(desk, make_alert(severity="medium"), NOW, 0).action is Action.HOLD
    update = make_alert(severity="high", kind="update")
    assert decide(desk, update, NOW, 0).action is Action.SEND
    # A summary never breaks through, whatever severity its headline alert had.
    summary = make_alert(kind="summary", summary_of="burst", severity="high")
    assert decide(desk, summary, NOW, 0).action is Action.DEFER


def test_an_alert_breaking_through_quiet_hours_still_counts_against_the_budget() -> None:
    quiet = {"start": "18:00", "end": "08:00", "except": "medium"}
    desk = make_desk(quiet_hours=quiet, budget={"per_hour": 2})
    assert decide(desk, make_alert(), NOW, 1).action is Action.SEND
    assert decide(desk, make_alert(), NOW, 2).action is Action.OVER_BUDGET
    assert decide(desk, make_alert(severity="low"), NOW, 0).action is Action.HOLD


def test_quiet_hours_exception_is_a_severity() -> None:
    quiet = QuietHours.model_validate({"start": "22:00", "end": "07:00", "except": "low"})
    assert quiet.except_severity is Severity.LOW and quiet.lets_through(Severity.LOW)
    assert not QuietHours(start="22:00", end="07:00").lets_through(Severity.HIGH)
    with pytest.raises(ValidationError, match="except"):
        QuietHours.model_validate({"start": "22:00", "end": "07:00", "except": "urgent"})


def test_budget_counts_per_topic_with_overrides() -> None:
    desk = make_desk(budget={"per_hour": 5, "topics": {"arms-transfers": 1}})
    assert decide(desk, make_alert(), NOW, 4).action is Action.SEND
    over = decide(desk, make_alert(), NOW, 5)
    assert over.action is Action.OVER_BUDGET
    assert (over.start, over.until) == (
        datetime(2024, 12, 17, 9, tzinfo=UTC),
        datetime(2024, 12, 17, 10, tzinfo=UTC),
    )
    arms = make_alert(topic_id="arms-transfers")
    assert decide(desk, arms, NOW, 1).action is Action.OVER_BUDGET
    summary = make_alert(kind="summary", summary_of="burst")
    assert decide(desk, summary, NOW, 99).action is Action.SEND  # summaries are never budgeted


def test_budget_override_must_name_a_followed_topic() -> None:
    with pytest.raises(ValidationError, match="not one of the desk's topics"):
        make_desk(budget={"per_hour": 5, "topics": {"seoul-moscow": 1}})


@settings(max_examples=200, deadline=None)
@given(sent=st.lists(st.integers(0, 59), max_size=80), limit=st.integers(0, 8))
def test_a_burst_never_exceeds_the_budget(sent: list[int], limit: int) -> None:
    desk = make_desk(budget={"per_hour": limit})
    sends = 0
    for minute in sorted(sent):
        now = NOW.replace(minute=minute)
        if decide(desk, make_alert(), now, sends).action is Action.SEND:
            sends += 1
    assert sends == min(limit, len(sent))


def test_follows_respects_topics_score_severity_and_mode() -> None:
    desk = make_desk(min_score=4, min_severity="medium")
    assert follows(desk, TopicMatch("troop-deployment", 5.0, Severity.HIGH, ()))
    assert not follows(desk, TopicMatch("troop-deployment", 3.0, Severity.HIGH, ()))
    assert not follows(desk, TopicMatch("troop-deployment", 5.0, Severity.LOW, ()))
    assert not follows(desk, TopicMatch("seoul-moscow", 9.0, Severity.HIGH, ()))
    assert not follows(
        make_desk(mode="digest-only"), TopicMatch("troop-deployment", 9, Severity.HIGH, ())
    )


def test_windows_and_summary_keys() -> None:
    assert budget_window(NOW) == (NOW.replace(minute=0), NOW.replace(minute=0) + timedelta(hours=1))
    assert burst_story_key(NOW.replace(minute=0)) == "summary:burst-2024-12-17T09:00Z"
    assert (
        quiet_story_key(datetime(2024, 12, 17, 22, tzinfo=UTC)) == "summary:quiet-2024-12-17T22:00Z"
    )


# --- summaries -------------------------------------------------------------------------------


def test_burst_summary_carries_each_alert_once() -> None:
    start, end = budget_window(NOW)
    summary = burst_summary(make_desk(), make_alert(), start, end, 5, NOW)
    assert summary.alert_key == "korea-desk|email|troop-deployment|summary:burst-2024-12-17T09:00Z"
    assert summary.kind == "summary" and summary.summary_of == "burst"
    assert summary.headline == "Troop deployment: more than 5 alerts an hour (18:00–19:00 KST)"
    summary = with_item(summary, make_alert(1, severity="low", score=4.0))
    summary = with_item(summary, make_alert(2, severity="high", score=6.0))
    summary = with_item(summary, make_alert(2))
    assert [i.headline for i in summary.items] == ["Story 1", "Story 2"]
    assert (summary.severity, summary.score, carried(summary)) == ("high", 6.0, 2)
    assert summary.recipients == ["desk@newsroom.example"]


def test_quiet_summary_spans_topics_and_caps_its_list() -> None:
    start = datetime(2024, 12, 17, 13, tzinfo=UTC)
    summary = quiet_summary(make_desk(), make_alert(), start, start + timedelta(hours=9), NOW)
    assert summary.alert_key == "korea-desk|email|*|summary:quiet-2024-12-17T22:00Z"
    assert summary.headline == "Held during quiet hours (22:00–07:00 KST)"
    for n in range(MAX_ITEMS + 7):
        summary = with_item(summary, make_alert(n))
    assert len(summary.items) == MAX_ITEMS and summary.more_items == 7
    assert carried(summary) == MAX_ITEMS + 7


def test_plan_alerts_leaves_digest_only_desks_and_low_severity_out() -> None:
    topic = TopicSpec(id="troop-deployment", title="Troops", groups={"g": ["troops"]}, rule="g")
    item = NewItem("wire", "k", "https://w.example/k", "https://w.example/k", "Troops", "Wire",
                   None, NOW, "fp", "story")  # fmt: skip
    low = TopicMatch("troop-deployment", 5.0, Severity.LOW, ())
    desks = [
        make_desk(id="reads-all"),
        make_desk(id="analysts", mode="digest-only"),
        make_desk(id="picky", min_severity="medium"),
    ]
    drafts = plan_alerts(desks, [topic], item, [low])
    assert [d.desk_id for d in drafts] == ["reads-all"]


def test_a_story_matching_two_followed_topics_is_one_draft_per_channel_led_by_severity() -> None:
    topics = [
        TopicSpec(id="arms-transfers", title="Arms", groups={"g": ["shells"]}, rule="g"),
        TopicSpec(id="troop-deployment", title="Troops", groups={"g": ["troops"]}, rule="g"),
    ]
    item = NewItem("wire", "k", "https://w.example/k", "https://w.example/k", "Shells", "Wire",
                   None, NOW, "fp", "story")  # fmt: skip
    found = [
        TopicMatch("troop-deployment", 9.0, Severity.MEDIUM, ()),
        TopicMatch("arms-transfers", 6.0, Severity.HIGH, ()),
    ]
    desk = make_desk(id="korea", topics=["arms-transfers", "troop-deployment"])
    (draft,) = plan_alerts([desk], topics, item, found)
    assert (draft.alert_key, draft.topic_id) == ("korea|email|story", "arms-transfers")
    alert = AlertMessage.model_validate_json(draft.payload_json)
    assert [h.topic_id for h in alert.hits()] == ["arms-transfers", "troop-deployment"]
    assert (alert.severity, alert.score, alert.timezone) == (Severity.HIGH, 6.0, desk.timezone)
    told = StoryNews(told=frozenset({("korea", "email")}))
    assert plan_alerts([desk], topics, item, found, told) == []
