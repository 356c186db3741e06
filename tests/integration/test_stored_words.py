"""The store keeps plain words for statuses, reasons, severities and channels, as before the enums.

One feed is checked end to end by the real pipeline (the feed served by an httpx.MockTransport
handler), on SQLite and on PostgreSQL; the raw rows must hold the same strings as always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from alerts.delivery.routing import plan_alerts
from monitors.fetch import Fetcher, FetchPolicy
from monitors.match import Matcher
from monitors.models import (
    FetchReason,
    NewItem,
    OutboxDraft,
    SourceReport,
    SourceStatus,
    StoryNews,
    TopicMatch,
)
from monitors.pipeline import check_source
from monitors.store import Store, create_engine
from monitors.store.schema import matches, outbox, source_state
from seeds.models import DeskSpec, Severity, SourceKind, SourceSpec, TopicSpec
from tests.support.peek import database

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
SOURCE = SourceSpec(
    id="wire",
    name="Wire",
    kind=SourceKind.RSS,
    url="https://wire.example/rss",
    fetch_articles=False,
)
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
# One item whose title names the topic's only term: one match, one email alert.
FEED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title>
<item><guid>wire-1</guid><link>https://wire.example/a/1</link>
<title>Artillery shells cross the border</title></item>
</channel></rss>"""


def _plan(item: NewItem, found: Sequence[TopicMatch], news: StoryNews) -> list[OutboxDraft]:
    return plan_alerts([DESK], [TOPIC], item, found, news)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    running = Store(create_engine(database_url))
    yield running
    running.dispose()


def _check(store: Store, handler: Callable[[httpx.Request], httpx.Response]) -> SourceReport:
    fetcher = Fetcher(
        FetchPolicy(allow_private_networks=True), transport=httpx.MockTransport(handler)
    )
    try:
        return check_source(SOURCE, fetcher, store, Matcher([TOPIC]), _plan, lambda: NOW)
    finally:
        fetcher.close()


def _row(store: Store, table: sa.Table, *columns: str) -> tuple[object, ...]:
    with database(store) as conn:
        row = conn.execute(sa.select(*(table.c[c] for c in columns))).one()
    return tuple(row)


def test_a_healthy_check_stores_ok_and_the_match_and_alert_words(store: Store) -> None:
    # Checked before: the undated item is news, not the back catalogue of a new source.
    store.record_check(SOURCE.id, SourceStatus.OK, FetchReason.OK, "", NOW - timedelta(hours=1))
    report = _check(store, lambda r: httpx.Response(200, content=FEED, request=r))

    assert (report.status, report.reason, report.alerts_queued) == ("ok", "ok", 1)
    assert _row(store, source_state, "last_status", "last_reason") == ("ok", "ok")
    assert _row(store, matches, "severity") == ("high",)
    assert _row(store, outbox, "channel") == ("email",)
    status = store.source_states()["wire"].last_status
    assert type(status) is str and SourceStatus(status).healthy


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (lambda r: httpx.Response(503, request=r), FetchReason.HTTP_5XX),
        (lambda r: httpx.Response(200, content=b"<html>no feed</html>", request=r), "bad-feed"),
        (lambda r: httpx.Response(304, request=r), FetchReason.NOT_MODIFIED),
    ],
)
def test_each_outcome_stores_its_status_and_reason_words(
    store: Store, handler: Callable[[httpx.Request], httpx.Response], reason: str
) -> None:
    report = _check(store, handler)

    status = "not-modified" if reason == "not-modified" else "failed"
    assert (report.status, report.reason) == (status, reason)
    assert type(report.reason) is FetchReason
    assert _row(store, source_state, "last_status", "last_reason") == (status, reason)
