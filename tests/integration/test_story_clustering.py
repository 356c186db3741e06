"""One alert per story: syndicated copies, a retitled copy, an update and a replay, end to end.

The fixtures in tests/fixtures/syndication are served on 127.0.0.1 and checked with the real
pipeline, matcher, routing and store (SQLite, and PostgreSQL when it can be started).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alerts.delivery.render import email_subject
from alerts.delivery.routing import plan_alerts
from alerts.models import AlertMessage
from flows.local.replay import ReplaySite
from monitors.dedup import DedupPolicy, identify
from monitors.fetch import Fetcher, FetchPolicy
from monitors.match import Matcher
from monitors.models import NewItem, OutboxDraft, SourceReport, StoryNews, TopicMatch
from monitors.pipeline import check_source
from monitors.store import Store, create_engine
from monitors.store.schema import items, outbox
from seeds.loader import load_seeds
from seeds.models import Seeds, SourceKind, SourceSpec
from tests.conftest import FIXTURES
from tests.support.peek import database

SYNDICATION = FIXTURES / "syndication"
T0 = datetime(2024, 12, 19, 3, 0, tzinfo=UTC)


@dataclass
class Desk:
    """The pipeline's collaborators around one store, with a controllable clock."""

    site: ReplaySite
    store: Store
    seeds: Seeds
    fetcher: Fetcher
    matcher: Matcher
    now: datetime = T0

    def source(self, name: str, fetch_articles: bool = True) -> SourceSpec:
        return SourceSpec(
            id=name,
            name=name.title(),
            kind=SourceKind.RSS,
            url=self.site.url(f"/{name}/feed.xml"),
            fetch_articles=fetch_articles,
        )

    def plan(self, item: NewItem, found: list[TopicMatch], news: StoryNews) -> list[OutboxDraft]:
        return plan_alerts(self.seeds.desks, self.seeds.topics, item, found, news)

    def poll(self, *sources: SourceSpec) -> list[SourceReport]:
        reports = [
            check_source(s, self.fetcher, self.store, self.matcher, self.plan, lambda: self.now)
            for s in sources
        ]
        assert all(r.status != "failed" for r in reports), reports
        return reports

    def outbox_rows(self) -> list[AlertMessage]:
        with database(self.store) as conn:
            payloads = conn.execute(sa.select(outbox.c.payload_json).order_by(outbox.c.id))
            return [AlertMessage.model_validate_json(p) for (p,) in payloads]

    def stories(self) -> dict[str, str]:
        with database(self.store) as conn:
            rows = conn.execute(sa.select(items.c.item_key, items.c.story_key))
            return {row.item_key: row.story_key for row in rows}


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    seeds = load_seeds()
    fetcher = Fetcher(FetchPolicy(timeout_s=5, allow_private_networks=True))
    store = Store(create_engine(database_url))
    with ReplaySite(SYNDICATION / "site") as site:
        yield Desk(site, store, seeds, fetcher, Matcher(seeds.topics))
    fetcher.close()
    store.dispose()


def pairs(alerts: list[AlertMessage]) -> Counter[tuple[str, str]]:
    return Counter((a.desk_id, a.channel) for a in alerts)


def test_three_outlets_one_story_one_alert_per_desk_and_channel(desk: Desk) -> None:
    wire, herald = desk.source("wire"), desk.source("herald")
    times = desk.source("times", fetch_articles=False)
    desk.poll(wire, herald, times)
    stories = desk.stories()
    kursk = stories["wire-20241219-0101"]
    herald_key = desk.site.url("/herald/world/north-korean-soldiers-kursk.html")
    assert stories[herald_key] == stories["times-5521"] == kursk
    assert stories["wire-20241219-0102"] != kursk  # the unrelated story stays apart
    alerts = [a for a in desk.outbox_rows() if a.alert_key.endswith(f"|{kursk}")]
    assert any(hit.topic_id == "troop-deployment" for a in alerts for hit in a.hits())
    assert set(pairs(alerts).values()) == {1}
    assert {a.outlet for a in alerts} == {"Wire"} and {a.kind for a in alerts} == {"new"}


def test_retitled_update_and_replay(desk: Desk) -> None:
    wire, herald = desk.source("wire"), desk.source("herald")
    times = desk.source("times", fetch_articles=False)
    desk.poll(wire, herald, times)
    first = desk.outbox_rows()

    desk.now = T0 + timedelta(minutes=90)
    desk.site.replace("/times/feed.xml", (SYNDICATION / "times_retitled.xml").read_bytes())
    (retitled,) = desk.poll(times)
    assert (retitled.items_new, retitled.alerts_queued) == (1, 0)
    assert desk.stories()["times-5521-r1"] == desk.stories()["wire-20241219-0101"]

    desk.now = T0 + timedelta(hours=3)
    desk.site.replace("/wire/feed.xml", (SYNDICATION / "wire_update.xml").read_bytes())
    (update,) = desk.poll(wire)
    assert update.items_new == 1
    updates = desk.outbox_rows()[len(first) :]
    assert updates and {a.kind for a in updates} == {"update"}
    assert set(pairs(updates).values()) == {1}
    assert set(pairs(updates)) <= set(pairs(first))
    assert all(a.alert_key.endswith("|update-1") for a in updates)
    assert all(any(c.earlier for c in a.changes) for a in updates)  # says what changed
    assert email_subject(updates[0]).startswith("[deskwatch] Update: ")
    assert {o.outlet for o in updates[0].also_reported_by} >= {"Herald", "Times"}

    desk.now = T0 + timedelta(hours=4)
    desk.site.replace("/herald/feed.xml", (SYNDICATION / "herald_update.xml").read_bytes())
    (copy,) = desk.poll(herald)
    assert (copy.items_new, copy.alerts_queued) == (1, 0)

    before = len(desk.outbox_rows())
    replays = desk.poll(wire, herald, times)  # unchanged feeds: 304s
    assert [r.status for r in replays] == ["not-modified"] * 3
    for name in ("wire", "herald", "times"):  # a site touches its feed: new ETag, same items
        body = desk.site.resource(f"/{name}/feed.xml")
        assert body is not None
        desk.site.replace(f"/{name}/feed.xml", body.body + b"\n")
    touched = desk.poll(wire, herald, times)
    assert sum(r.items_new for r in touched) == 0
    assert len(desk.outbox_rows()) == before


def test_every_fixture_says_what_it_is_and_what_to_expect() -> None:
    files = [p for p in SYNDICATION.rglob("*") if p.is_file()]
    assert len(files) >= 10
    for path in files:
        head = path.read_text(encoding="utf-8")[:600]
        assert head.startswith("<!--") and "Expect" in head, path


def test_payloads_are_json_with_a_kind(desk: Desk) -> None:
    desk.poll(desk.source("wire"))
    with database(desk.store) as conn:
        payloads = conn.execute(sa.select(outbox.c.payload_json)).scalars().all()
    assert payloads and all(json.loads(p)["kind"] == "new" for p in payloads)


def test_pruning_keeps_the_store_flat_and_never_drops_pending_alerts(desk: Desk) -> None:
    store = desk.store
    desk.poll(desk.source("wire"), desk.source("herald"))
    with database(store) as conn:  # one alert delivered, one failed, the rest pending
        ids = conn.execute(sa.select(outbox.c.id).order_by(outbox.c.id)).scalars().all()
        conn.execute(outbox.update().where(outbox.c.id == ids[0]).values(status="sent"))
        conn.execute(outbox.update().where(outbox.c.id == ids[1]).values(status="failed"))
    full = store.table_sizes()
    assert store.prune(T0) == dict.fromkeys(
        ("story_bands", "stories", "matches", "items", "outbox"), 0
    )
    counts = store.prune(T0 + timedelta(days=31))
    assert counts["items"] == full["items"] and counts["stories"] == full["stories"]
    assert counts["outbox"] == 2  # sent and failed; pending rows stay
    assert store.table_sizes() == {
        "items": 0,
        "matches": 0,
        "stories": 0,
        "story_bands": 0,
        "outbox": len(ids) - 2,
    }


def test_steady_stream_with_daily_pruning_stays_bounded(database_url: str) -> None:
    store = Store(create_engine(database_url))
    policy = DedupPolicy(retention=timedelta(days=3))
    sizes = []
    for day in range(8):
        now = T0 + timedelta(days=day)
        for n in range(5):
            text = f"day {day} story {n} " + " ".join(f"w{day}x{n}x{i}" for i in range(40))
            probe = identify(f"Story {day}-{n}", text, f"https://w.example/{day}/{n}", "", policy)
            item = NewItem(
                "wire",
                f"{day}-{n}",
                probe.canonical_url,
                probe.canonical_url,
                f"Story {day}-{n}",
                "Wire",
                now,
                now,
                probe.fingerprint,
                probe.canonical_url,
            )
            with store.story_session() as session:
                session.record(item, probe, [], [])
        store.prune(now - policy.retention)
        sizes.append(store.table_sizes())
    assert sizes[-1] == sizes[-2] == sizes[3]  # flat once the window is full
    assert sizes[-1]["items"] == 5 * 4
    store.dispose()
