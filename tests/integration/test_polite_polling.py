"""Polite polling against a loopback server: the per-host cap on requests in flight, Retry-After,
each source by its own interval across 15-minute runs, a new source's back catalogue, and a
server that answers 200 with the same bytes instead of 304. Runs are driven by an injected clock
(the due selection of flows.poll and check_source), never by waiting."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from alerts.delivery.routing import plan_alerts
from flows.poll import split_due
from monitors.fetch import Fetcher, FetchPolicy
from monitors.match import Matcher
from monitors.models import (
    NewItem,
    OutboxDraft,
    SourceReport,
    SourceStatus,
    StoryNews,
    TopicMatch,
)
from monitors.pipeline import check_source
from monitors.store import Store, create_engine
from seeds.models import DeskSpec, Severity, SourceKind, SourceSpec, TopicSpec
from tests.support.feed_server import Answer, FeedServer

T0 = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
GUID = "tag:wire.example,2025:"
RSS = {"Content-Type": "application/rss+xml"}
TOPIC = TopicSpec(
    id="shells",
    title="Shells",
    severity=Severity.HIGH,
    threshold=1.0,
    groups={"words": ["shells"]},
    rule="words",
)
DESK = DeskSpec(
    id="newsdesk",
    name="News Desk",
    topics=["shells"],
    channels=[{"kind": "email", "to": ["desk@news.example"]}],  # type: ignore[list-item]
)


def feed(*items: tuple[str, datetime | None]) -> bytes:
    """An RSS feed of (guid, published) items, each titled about artillery shells."""
    entries = []
    for guid, published in items:
        date = f"<pubDate>{email.utils.format_datetime(published)}</pubDate>" if published else ""
        entries.append(
            f"<item><guid>{GUID}{guid}</guid><link>https://wire.example/{guid}</link>"
            f"<title>Artillery shells {guid} cross the border</title>{date}</item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def rss(body: bytes) -> Answer:
    return Answer(body=body, headers=RSS)


def source(server: FeedServer, poll_minutes: int = 15, path: str = "/feed.xml") -> SourceSpec:
    return SourceSpec(
        id=path.strip("/").replace(".xml", "").replace("/", "-"),
        name="Wire",
        kind=SourceKind.RSS,
        url=server.url(path),
        poll_minutes=poll_minutes,
        fetch_articles=False,
    )


def _plan(item: NewItem, found: Sequence[TopicMatch], news: StoryNews) -> list[OutboxDraft]:
    return plan_alerts([DESK], [TOPIC], item, found, news)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    running = Store(create_engine(database_url))
    yield running
    running.dispose()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    client = Fetcher(FetchPolicy(allow_private_networks=True, per_host_concurrency=2))
    yield client
    client.close()


def run(
    store: Store, fetcher: Fetcher, sources: list[SourceSpec], at: datetime
) -> list[SourceReport]:
    """One poll run at `at`: the due sources checked, a "not due" report for the others."""
    due, waiting = split_due(sources, store.source_states(), at)
    checked = {
        s.id: check_source(s, fetcher, store, Matcher([TOPIC]), _plan, lambda: at) for s in due
    }
    return [checked.get(s.id) or waiting[s.id] for s in sources]


def test_never_more_than_the_per_host_cap_of_requests_at_once() -> None:
    # Eight slow requests at once, feeds and article pages alike, through one run's fetcher.
    with FeedServer(delay_s=0.2) as server:
        server.answers = {f"/page/{n}": Answer(body=b"<html>page</html>") for n in range(6)}
        server.answers |= {"/feed.xml": rss(feed(("a-1", T0)))}
        urls = [server.url(f"/page/{n}") for n in range(6)] + [server.url("/feed.xml")] * 2
        polite = Fetcher(FetchPolicy(allow_private_networks=True, per_host_concurrency=2))
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(polite.get, urls))
        finally:
            polite.close()
    assert all(r.status_code == 200 for r in results)
    assert server.most_in_flight == 2  # the cap held, and was reached
    assert sum(server.hits.values()) == 8


def test_requests_to_one_host_start_no_closer_than_the_spacing() -> None:
    with FeedServer() as server:
        server.answers = {"/feed.xml": rss(feed(("a-1", T0)))}
        spaced = Fetcher(
            FetchPolicy(allow_private_networks=True, per_host_concurrency=2, per_host_spacing_s=0.1)
        )
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(spaced.get, [server.url("/feed.xml")] * 4))
        finally:
            spaced.close()
    gaps = [b - a for a, b in zip(server.starts, server.starts[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.09


def test_retry_after_keeps_the_source_unpolled_until_it_has_passed(
    store: Store, fetcher: Fetcher
) -> None:
    # The feed refuses with 429 and asks for an hour; backoff alone would say 30 minutes.
    with FeedServer() as server:
        server.answers = {"/feed.xml": Answer(429, b"slow down", {"Retry-After": "3600"})}
        wire = source(server, poll_minutes=15)
        first = run(store, fetcher, [wire], T0)[0]
        assert first.status is SourceStatus.FAILED and first.reason == "rate-limited"
        assert first.next_due_at == T0 + timedelta(hours=1)
        for minutes in (15, 30, 45):
            report = run(store, fetcher, [wire], T0 + timedelta(minutes=minutes))[0]
            assert report.status is SourceStatus.NOT_DUE
            assert report.detail == "not due (next at 2025-03-04 13:00 UTC)"
        assert server.hits == {"/feed.xml": 1}
        server.answers["/feed.xml"] = rss(feed(("a-1", T0)))
        later = run(store, fetcher, [wire], T0 + timedelta(hours=1))[0]
    assert later.status is SourceStatus.OK and server.hits == {"/feed.xml": 2}


def test_an_hourly_source_is_polled_once_in_four_15_minute_runs(
    store: Store, fetcher: Fetcher
) -> None:
    with FeedServer() as server:
        server.answers = {
            "/hourly.xml": rss(feed(("h-1", T0))),
            "/quarter.xml": rss(feed(("q-1", T0))),
        }
        hourly = source(server, poll_minutes=60, path="/hourly.xml")
        quarter = source(server, poll_minutes=15, path="/quarter.xml")  # news every run
        statuses = []
        for m in (0, 15, 30, 45):
            server.answers["/quarter.xml"] = rss(feed((f"q-{m}", T0 + timedelta(minutes=m))))
            reports = run(store, fetcher, [hourly, quarter], T0 + timedelta(minutes=m))
            statuses.append([r.status for r in reports])
        assert server.hits == {"/hourly.xml": 1, "/quarter.xml": 4}
        assert [s[0] for s in statuses] == [SourceStatus.OK] + [SourceStatus.NOT_DUE] * 3
        run(store, fetcher, [hourly, quarter], T0 + timedelta(minutes=60))
    assert server.hits == {"/hourly.xml": 2, "/quarter.xml": 5}


def test_a_new_sources_first_poll_alerts_only_its_recent_items(
    store: Store, fetcher: Fetcher
) -> None:
    # One item an hour old, one three days old, one undated: only the first is news.
    back_catalogue = feed(
        ("fresh", T0 - timedelta(hours=1)), ("old", T0 - timedelta(days=3)), ("undated", None)
    )
    with FeedServer() as server:
        server.answers = {"/feed.xml": rss(back_catalogue)}
        wire = source(server)
        first = run(store, fetcher, [wire], T0)[0]
        assert (first.items_new, first.items_catalogued, first.alerts_queued) == (3, 2, 1)
        catalogue = {GUID + "old", GUID + "undated"}
        assert store.seen_keys(wire.id, catalogue) == catalogue
        # Later, an undated item is news like any other.
        server.answers["/feed.xml"] = rss(feed(("next", None)))
        second = run(store, fetcher, [wire], T0 + timedelta(minutes=15))[0]
    assert (second.items_new, second.items_catalogued, second.alerts_queued) == (1, 0, 1)


def test_a_first_poll_records_a_back_catalogue_longer_than_one_checks_budget(
    store: Store, fetcher: Fetcher
) -> None:
    # Eighty items a week old: all recorded at once, so no later poll takes them for news.
    week_old = [(f"w-{n}", T0 - timedelta(days=7, minutes=n)) for n in range(80)]
    with FeedServer() as server:
        server.answers = {"/feed.xml": rss(feed(*week_old))}
        wire = source(server)
        first = run(store, fetcher, [wire], T0)[0]
        assert (first.items_new, first.items_catalogued, first.alerts_queued) == (80, 80, 0)
        server.answers["/feed.xml"] = rss(feed(("fresh", T0), *week_old))
        second = run(store, fetcher, [wire], T0 + timedelta(minutes=15))[0]
    assert (second.items_new, second.alerts_queued) == (1, 1)


def test_a_200_with_the_same_body_is_treated_as_not_modified(
    store: Store, fetcher: Fetcher
) -> None:
    # The server sends no validators and answers every GET with the full feed.
    with FeedServer() as server:
        server.answers = {"/feed.xml": rss(feed(("a-1", T0)))}
        wire = source(server)
        first = run(store, fetcher, [wire], T0)[0]
        same = run(store, fetcher, [wire], T0 + timedelta(minutes=15))[0]
        assert first.status is SourceStatus.OK and first.items_new == 1
        assert same.status is SourceStatus.NOT_MODIFIED and same.reason == "not-modified"
        assert same.detail == "same body as the last check" and same.items_in_feed == 0
        assert store.source_states()[wire.id].last_status == "not-modified"
        server.answers["/feed.xml"] = rss(feed(("a-2", T0), ("a-1", T0)))
        changed = run(store, fetcher, [wire], T0 + timedelta(minutes=30))[0]
    assert changed.status is SourceStatus.OK and changed.items_new == 1
    assert server.hits == {"/feed.xml": 3}
