"""Item identity end to end: a GUID-less feed of `articleView.html?idxno=` links over loopback.

tests/fixtures/feeds/rss_idxno_links_without_guids.xml is served by the replay site on 127.0.0.1
and checked with the real pipeline, matcher, routing and store (SQLite, and PostgreSQL when it
can be started). The three links differ only in `?idxno=`, which is all that names each article.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from alerts.delivery.routing import plan_alerts
from flows.local.replay import ReplaySite
from monitors.fetch import Fetcher, FetchPolicy
from monitors.identity import canonical_url
from monitors.match import Matcher
from monitors.models import NewItem, OutboxDraft, SourceReport, StoryNews, TopicMatch
from monitors.pipeline import check_source
from monitors.store import Store, create_engine
from monitors.store.schema import items, outbox
from seeds.loader import load_seeds
from seeds.models import Seeds, SourceKind, SourceSpec
from tests.conftest import FIXTURES
from tests.support.peek import database

FEED = FIXTURES / "feeds" / "rss_idxno_links_without_guids.xml"
FEED_PATH = "/rss/S1N2.xml"
IDXNOS = ("118201", "118214", "118230")
T0 = datetime(2024, 12, 19, 3, 0, tzinfo=UTC)


@dataclass
class Outlet:
    """One GUID-less source on the replay site, and the pipeline around one store."""

    site: ReplaySite
    store: Store
    seeds: Seeds
    fetcher: Fetcher
    matcher: Matcher
    now: datetime = T0

    @property
    def source(self) -> SourceSpec:
        return SourceSpec(
            id="peninsula",
            name="The Peninsula Daily",
            kind=SourceKind.RSS,
            url=self.site.url(FEED_PATH),
            fetch_articles=False,
        )

    def plan(
        self, item: NewItem, found: Sequence[TopicMatch], news: StoryNews
    ) -> list[OutboxDraft]:
        return plan_alerts(self.seeds.desks, self.seeds.topics, item, found, news)

    def check(self) -> SourceReport:
        report = check_source(
            self.source, self.fetcher, self.store, self.matcher, self.plan, lambda: self.now
        )
        assert report.status != "failed", report
        return report

    def stories_by_item(self) -> dict[str, str]:
        with database(self.store) as conn:
            rows = conn.execute(sa.select(items.c.item_key, items.c.story_key))
            return {row.item_key: row.story_key for row in rows}

    def alert_stories(self) -> list[str]:
        with database(self.store) as conn:
            return list(conn.execute(sa.select(outbox.c.story_key)).scalars())

    def article(self, idxno: str) -> str:
        return canonical_url(self.site.url(f"/news/articleView.html?idxno={idxno}"))


@pytest.fixture
def outlet(database_url: str, tmp_path: Path) -> Iterator[Outlet]:
    root = tmp_path / "site"
    (root / "rss").mkdir(parents=True)
    shutil.copy(FEED, root / FEED_PATH.lstrip("/"))
    seeds = load_seeds()
    fetcher = Fetcher(FetchPolicy(timeout_s=5, allow_private_networks=True))
    store = Store(create_engine(database_url))
    with ReplaySite(root) as site:
        yield Outlet(site, store, seeds, fetcher, Matcher(seeds.topics))
    fetcher.close()
    store.dispose()


def test_three_idxno_articles_without_guids_are_three_items_and_three_stories(
    outlet: Outlet,
) -> None:
    report = outlet.check()

    assert (report.items_in_feed, report.items_new, report.items_failed) == (3, 3, 0)
    stories = outlet.stories_by_item()
    assert set(stories) == {outlet.article(n) for n in IDXNOS}
    assert len(set(stories.values())) == 3
    alerted = outlet.alert_stories()
    assert report.alerts_queued == len(alerted) > 0
    assert set(alerted) == set(stories.values())


def test_a_second_check_of_the_same_feed_records_nothing_new_and_queues_nothing(
    outlet: Outlet,
) -> None:
    outlet.check()
    queued = len(outlet.alert_stories())

    outlet.now = T0 + timedelta(minutes=30)
    unchanged = outlet.check()  # same bytes, same ETag: a 304
    body = outlet.site.resource(FEED_PATH)
    assert body is not None
    outlet.site.replace(FEED_PATH, body.body + b"\n")  # the CMS rewrote the file: new ETag
    outlet.now = T0 + timedelta(minutes=60)
    rewritten = outlet.check()

    assert unchanged.status == "not-modified"
    assert (rewritten.status, rewritten.items_in_feed) == ("ok", 3)
    assert (rewritten.items_new, rewritten.alerts_queued) == (0, 0)
    assert len(outlet.stories_by_item()) == 3
    assert len(outlet.alert_stories()) == queued


def test_tracking_and_fragment_on_the_same_idxno_links_are_not_new_items(outlet: Outlet) -> None:
    outlet.check()
    queued = len(outlet.alert_stories())
    body = outlet.site.resource(FEED_PATH)
    assert body is not None
    shared = body.body
    for idxno in IDXNOS:
        shared = shared.replace(
            f"articleView.html?idxno={idxno}<".encode(),
            f"articleView.html?utm_source=rss&amp;idxno={idxno}&amp;fbclid=x1#reply<".encode(),
        )
    assert shared.count(b"utm_source=rss") == 3
    outlet.site.replace(FEED_PATH, shared)
    outlet.now = T0 + timedelta(minutes=30)

    again = outlet.check()

    assert (again.items_in_feed, again.items_new, again.alerts_queued) == (3, 0, 0)
    assert len(outlet.alert_stories()) == queued
