"""When a source is next due (monitors.schedule): its base, the server's floors, its publishing
rate and backoff, all pure; and the feed hints the parser reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitors.feeds import parse_feed
from monitors.hostlimit import HostLimiter
from monitors.schedule import (
    Floors,
    PollPolicy,
    Why,
    decide,
    feed_interval,
    floors_from,
    is_due,
    max_age,
    remember,
    retry_after,
)

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
BASE = timedelta(minutes=15)
POLICY = PollPolicy(early=timedelta(0))  # exact times; the early margin has its own test
BUSY = [1, 2, 1, 1]  # about one new item a check


def interval(
    failures: int = 0, recent: list[int] | None = None, floors: Floors | None = None
) -> timedelta:
    decision = decide(
        BASE,
        NOW,
        failures=failures,
        recent_new=BUSY if recent is None else recent,
        floors=floors or Floors(),
        policy=POLICY,
    )
    assert decision.next_due_at == NOW + decision.interval
    return decision.interval


def test_a_busy_source_is_polled_at_its_own_interval() -> None:
    assert interval() == BASE


def test_a_busy_source_is_never_polled_faster_than_its_poll_minutes() -> None:
    assert interval(recent=[9, 12, 30, 7]) == BASE


def test_a_source_with_nothing_new_stretches_to_the_quiet_factor() -> None:
    assert interval(recent=[0, 0, 0, 0, 0]) == BASE * POLICY.quiet_factor


def test_a_source_with_one_item_every_other_check_waits_twice_as_long() -> None:
    assert interval(recent=[1, 0, 1, 0]) == BASE * 2


def test_news_after_a_quiet_spell_brings_the_base_interval_back_at_once() -> None:
    assert interval(recent=[0, 0, 0, 0, 0, 0, 0, 1]) == BASE


def test_too_few_checks_keep_the_base_interval() -> None:
    assert interval(recent=[0, 0]) == BASE


def test_the_adaptive_interval_never_passes_the_maximum() -> None:
    hourly = decide(
        timedelta(hours=10),
        NOW,
        failures=0,
        recent_new=[0] * 8,
        floors=Floors(),
        policy=POLICY,
    )
    assert hourly.interval == POLICY.max_interval and hourly.why is Why.ADAPTIVE


def test_only_the_recent_checks_count_for_the_publishing_rate() -> None:
    history = remember([5] * 8, 0, POLICY)
    for _ in range(7):
        history = remember(history, 0, POLICY)
    assert history == (0,) * 8
    assert interval(recent=list(history)) == BASE * POLICY.quiet_factor


@pytest.mark.parametrize(("failures", "times"), [(1, 2), (2, 4), (3, 8), (5, 32)])
def test_each_consecutive_failure_doubles_the_interval(failures: int, times: int) -> None:
    assert interval(failures=failures) == BASE * times


def test_backoff_is_capped_at_the_maximum_and_never_drops_the_source() -> None:
    for failures in (7, 50, 10_000):
        decision = decide(
            BASE, NOW, failures=failures, recent_new=[], floors=Floors(), policy=POLICY
        )
        assert decision.interval == POLICY.max_interval and decision.why is Why.BACKOFF
        assert is_due(decision.next_due_at, NOW + POLICY.max_interval)


def test_retry_after_seconds_set_the_interval() -> None:
    floors = floors_from(429, {"Retry-After": "7200"}, NOW)
    assert floors.retry_after == timedelta(hours=2)
    assert interval(failures=1, floors=floors) == timedelta(hours=2)


def test_retry_after_as_an_http_date_sets_the_interval() -> None:
    floors = floors_from(503, {"retry-after": "Tue, 04 Mar 2025 15:00:00 GMT"}, NOW)
    assert floors.retry_after == timedelta(hours=3)


def test_retry_after_counts_only_on_429_and_503() -> None:
    assert floors_from(200, {"Retry-After": "7200"}, NOW).retry_after is None
    assert floors_from(404, {"Retry-After": "7200"}, NOW).retry_after is None


@pytest.mark.parametrize("value", ["", "soon", "0", "-5", "Tue, 04 Mar 2025 11:00:00 GMT"])
def test_a_bad_or_past_retry_after_is_no_floor(value: str) -> None:
    assert retry_after(value, NOW) is None


def test_retry_after_is_never_due_early() -> None:
    policy = PollPolicy(early=timedelta(minutes=2))
    floors = Floors(retry_after=timedelta(hours=1))
    waited = decide(BASE, NOW, failures=1, recent_new=[], floors=floors, policy=policy)
    assert waited.next_due_at == NOW + timedelta(hours=1) and waited.why is Why.RETRY_AFTER


def test_a_soft_interval_is_due_a_little_early_for_the_next_run() -> None:
    policy = PollPolicy(early=timedelta(minutes=2))
    due = decide(BASE, NOW, failures=0, recent_new=BUSY, floors=Floors(), policy=policy)
    assert due.next_due_at == NOW + BASE - timedelta(minutes=2)
    # A run 15 minutes later, its check a few seconds in, still finds the source due.
    assert is_due(due.next_due_at, NOW + BASE - timedelta(seconds=5))


def test_cache_control_max_age_sets_the_interval() -> None:
    floors = floors_from(200, {"Cache-Control": "public, max-age=3600"}, NOW)
    assert floors.max_age == timedelta(hours=1)
    assert interval(floors=floors) == timedelta(hours=1)


@pytest.mark.parametrize("value", ["no-cache, max-age=3600", "no-store", "max-age=0", ""])
def test_no_cache_or_zero_max_age_is_no_floor(value: str) -> None:
    assert max_age(value) is None


def test_the_feed_ttl_sets_the_interval() -> None:
    floors = Floors(feed=feed_interval("90", None, None))
    assert interval(floors=floors) == timedelta(minutes=90)


def test_sy_update_period_and_frequency_set_the_interval() -> None:
    assert feed_interval(None, "hourly", "2") == timedelta(minutes=30)
    assert feed_interval(None, "daily", None) == timedelta(days=1)
    assert feed_interval("120", "hourly", "1") == timedelta(hours=2)  # the longer hint wins
    assert feed_interval("soon", "fortnightly", "x") is None


def test_a_floor_never_pushes_past_the_maximum() -> None:
    weekly = Floors(retry_after=timedelta(days=7), feed=timedelta(days=30))
    assert interval(floors=weekly) == POLICY.max_interval


def test_the_longest_floor_wins_over_a_shorter_interval() -> None:
    floors = Floors(retry_after=None, max_age=timedelta(hours=1), feed=timedelta(hours=2))
    decision = decide(BASE, NOW, failures=0, recent_new=BUSY, floors=floors, policy=POLICY)
    assert decision.interval == timedelta(hours=2) and decision.why is Why.FEED


def test_a_floor_shorter_than_the_backoff_leaves_the_backoff() -> None:
    floors = Floors(retry_after=timedelta(minutes=1))
    assert interval(failures=3, floors=floors) == BASE * 8


def test_a_source_never_scheduled_is_due() -> None:
    assert is_due(None, NOW)
    assert not is_due(NOW + timedelta(seconds=1), NOW)


def test_the_parser_reads_ttl_and_syndication_hints_into_the_feed() -> None:
    # An RSS channel that asks for two-hourly reads twice over: ttl 120, sy hourly / 0.5.
    body = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
<title>Wire</title><ttl>120</ttl><sy:updatePeriod>daily</sy:updatePeriod>
<sy:updateFrequency>12</sy:updateFrequency>
<item><guid>w-1</guid><link>https://wire.example/1</link><title>One</title></item>
</channel></rss>"""
    parsed = parse_feed(body, {}, "https://wire.example/rss")
    assert parsed.refresh == timedelta(hours=2)
    assert parse_feed(body.replace(b"<ttl>120</ttl>", b""), {}, "x").refresh == timedelta(hours=2)


def test_the_host_limiter_spaces_request_starts_to_one_host() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = HostLimiter(concurrency=2, spacing_s=1.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        with limiter.slot("wire.example"):
            pass
    with limiter.slot("other.example"):
        pass
    assert slept == [1.0, 1.0]  # the second and third start wait; another host does not
