"""One message per story per desk and channel, and updates only for a material new fact.

The fixtures in tests/fixtures/shells (one report about North Korean shells for Russia carried by
three wires, then a copy with a new casualty figure) are served on 127.0.0.1 and checked with the
real pipeline, matcher, routing and store (SQLite, and PostgreSQL when it can be started).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alerts.delivery.render import email_subject, render_email
from alerts.delivery.render_slack import render_slack
from alerts.delivery.routing import plan_alerts
from alerts.models import AlertMessage, Change
from flows.local.replay import ReplaySite
from monitors.fetch import Fetcher, FetchPolicy
from monitors.match import Matcher
from monitors.models import NewItem, OutboxDraft, SourceReport, StoryNews, TopicMatch
from monitors.pipeline import check_source
from monitors.store import Store, create_engine
from monitors.store.schema import items, outbox, stories
from seeds.loader import load_seeds
from seeds.models import SourceKind, SourceSpec
from tests.conftest import FIXTURES
from tests.support.peek import database

SHELLS = FIXTURES / "shells"
T0 = datetime(2024, 12, 18, 10, 35, tzinfo=UTC)
WIRES = ("yonhap", "bizwire", "scmp")


class Newsroom:
    """The pipeline around one store and the replayed wires, with a controllable clock."""

    def __init__(self, site: ReplaySite, store: Store) -> None:
        self.site, self.store, self.seeds = site, store, load_seeds()
        self.fetcher = Fetcher(FetchPolicy(timeout_s=5, allow_private_networks=True))
        self.matcher = Matcher(self.seeds.topics)
        self.now = T0

    def plan(self, item: NewItem, found: list[TopicMatch], news: StoryNews) -> list[OutboxDraft]:
        return plan_alerts(self.seeds.desks, self.seeds.topics, item, found, news)

    def poll(self, name: str) -> SourceReport:
        url = self.site.url(f"/{name}/feed.xml")
        source = SourceSpec(id=name, name=name, kind=SourceKind.RSS, url=url, fetch_articles=False)
        report = check_source(
            source, self.fetcher, self.store, self.matcher, self.plan, lambda: self.now
        )
        assert report.status == "ok" and report.items_new == 1, report
        self.now += timedelta(minutes=20)
        return report

    def alerts(self) -> list[AlertMessage]:
        with database(self.store) as conn:
            payloads = conn.execute(sa.select(outbox.c.payload_json).order_by(outbox.c.id))
            return [AlertMessage.model_validate_json(p) for (p,) in payloads]

    def story_keys(self) -> set[str]:
        with database(self.store) as conn:
            return set(conn.execute(sa.select(items.c.story_key)).scalars())


@pytest.fixture
def newsroom(database_url: str) -> Iterator[Newsroom]:
    store = Store(create_engine(database_url))
    with ReplaySite(SHELLS / "site") as site:
        room = Newsroom(site, store)
        yield room
        room.fetcher.close()
    store.dispose()


@pytest.mark.parametrize("order", [WIRES, tuple(reversed(WIRES))])
def test_syndicated_copies_send_one_message_per_desk_and_channel_and_no_update(
    newsroom: Newsroom, order: tuple[str, ...]
) -> None:
    for name in order:
        newsroom.poll(name)
    (story,) = newsroom.story_keys()  # the three copies are one story
    alerts = newsroom.alerts()
    assert {a.kind for a in alerts} == {"new"}
    per_channel = Counter((a.desk_id, a.channel) for a in alerts)
    assert per_channel[("korea-desk", "email")] == per_channel[("korea-desk", "slack")] == 1
    assert set(per_channel.values()) == {1}
    korea = next(a for a in alerts if a.desk_id == "korea-desk")
    # The story matched several of the desk's topics: one message names them all, leading first.
    topics = [hit.topic_id for hit in korea.hits()]
    assert len(topics) >= 2 and "arms-transfers" in topics
    assert korea.topic_id == topics[0]
    ranks = [(hit.severity.rank, hit.score) for hit in korea.hits()]
    assert ranks == sorted(ranks, reverse=True)
    assert email_subject(korea).startswith(f"[deskwatch] {korea.hits()[0].title} + ")
    assert {a.alert_key for a in alerts if a.desk_id == "korea-desk"} == {
        f"korea-desk|email|{story}",
        f"korea-desk|slack|{story}",
    }


def test_a_copy_with_a_new_casualty_figure_sends_one_update_quoting_both(
    newsroom: Newsroom,
) -> None:
    for name in WIRES:
        newsroom.poll(name)
    told = len(newsroom.alerts())
    newsroom.now = T0 + timedelta(hours=15)
    newsroom.site.replace("/yonhap/feed.xml", (SHELLS / "yonhap_casualties.xml").read_bytes())
    newsroom.poll("yonhap")
    updates = newsroom.alerts()[told:]
    assert updates and {u.kind for u in updates} == {"update"}
    assert Counter((u.desk_id, u.channel) for u in updates)[("korea-desk", "email")] == 1
    assert all(u.alert_key.endswith("|update-1") for u in updates)
    change = Change(fact="3,000 casualties", earlier=["1,200 casualties"])
    assert all(u.changes == [change] for u in updates)
    email = next(u for u in updates if u.channel == "email")
    body = render_email(email, "deskwatch <alerts@example.org>").get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert text.startswith("What changed: 3,000 casualties (earlier: 1,200 casualties)\n")
    assert email_subject(email).startswith("[deskwatch] Update: ")
    slack = next(u for u in updates if u.channel == "slack")
    blocks = render_slack(slack)["blocks"]
    assert isinstance(blocks, list) and "What changed: 3,000 casualties" in str(blocks[0])


def test_the_story_keeps_its_facts_with_their_nouns(newsroom: Newsroom) -> None:
    newsroom.poll("yonhap")
    with database(newsroom.store) as conn:
        (stored,) = conn.execute(sa.select(stories.c.facts_json)).scalars()
    assert '"noun": "casualties"' in stored and '"text": "1,200 casualties"' in stored
    assert '"noun": "containers"' in stored and '"value": 18.0' not in stored
