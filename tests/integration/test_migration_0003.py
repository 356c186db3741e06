"""Revision 0003 on SQLite and PostgreSQL: story alerts keyed per topic by the previous release
(`desk|channel|topic|story[|update-N]`) are re-keyed `desk|channel|story[|update-N]`; where two
rows would share a key the earliest takes it and the other keeps its old key; summary rows keep
theirs; and every old row still counts as the desk told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from monitors.dedup import DedupPolicy
from monitors.facts import Fact, copy_facts
from monitors.pipeline import story_news
from monitors.store import OutboxStatus, Store, create_engine
from tests.support.peek import database
from tests.support.release_0_1_schema import create_release_0_1, outbox, stories

NOW = datetime(2024, 12, 18, 10, 30, tzinfo=UTC)
SHELLS = "https://en.koreawire.example/view/AEN20241218004300315"
TUMEN = "https://en.koreawire.example/view/AEN20241218009900315"
BURST = "summary:burst:2024-12-18T10:00:00+00:00"

# (old key, created minutes after NOW, expected key after the upgrade). Rows go in in this order,
# so ids follow it; the korea-desk slack pair is the other way round by creation time.
ROWS = [
    ("korea-desk|email|arms-transfers|" + SHELLS, 0, "korea-desk|email|" + SHELLS),
    (
        "korea-desk|email|pyongyang-moscow-ties|" + SHELLS,
        0,
        "korea-desk|email|pyongyang-moscow-ties|" + SHELLS,
    ),
    ("korea-desk|slack|arms-transfers|" + SHELLS, 2, "korea-desk|slack|arms-transfers|" + SHELLS),
    ("korea-desk|slack|pyongyang-moscow-ties|" + SHELLS, 1, "korea-desk|slack|" + SHELLS),
    (
        "korea-desk|email|arms-transfers|" + SHELLS + "|update-1",
        300,
        "korea-desk|email|" + SHELLS + "|update-1",
    ),
    (
        "korea-desk|email|pyongyang-moscow-ties|" + SHELLS + "|update-1",
        300,
        "korea-desk|email|pyongyang-moscow-ties|" + SHELLS + "|update-1",
    ),
    ("diplomacy-desk|slack|pyongyang-moscow-ties|" + TUMEN, 5, "diplomacy-desk|slack|" + TUMEN),
    ("korea-desk|email|arms-transfers|" + BURST, 60, "korea-desk|email|arms-transfers|" + BURST),
]


def outbox_row(key: str, minutes: int) -> dict[str, object]:
    desk, channel, topic, rest = key.split("|", 3)
    story = rest.removesuffix("|update-1")
    at = NOW + timedelta(minutes=minutes)
    return {
        "alert_key": key,
        "desk_id": desk,
        "channel": channel,
        "topic_id": topic,
        "story_key": story,
        "payload_json": "{}",
        "status": OutboxStatus.SENT,
        "attempts": 1,
        "next_attempt_at": at,
        "created_at": at,
        "sent_at": at,
    }


def previous_release_database(url: str) -> None:
    """Tables of the previous release with its per-topic alert rows and a story of bare figures."""
    engine = sa.create_engine(url)
    create_release_0_1(engine)
    engine.dispose()
    with database(url) as conn:
        for key, minutes, _ in ROWS:
            conn.execute(outbox.insert().values(**outbox_row(key, minutes)))
        conn.execute(
            stories.insert().values(
                story_key=SHELLS,
                story_ref=1,
                first_seen=NOW,
                last_seen=NOW,
                title="N. Korea has shipped over 20,000 containers of munitions to Russia",
                url=SHELLS,
                signature=b"\x00" * 16,
                facts_json='["20000", "1200"]',  # the old form: figures without their nouns
                updates=1,
            )
        )


def test_story_alerts_are_rekeyed_per_story_and_the_earliest_row_wins(database_url: str) -> None:
    previous_release_database(database_url)
    store = Store(create_engine(database_url))  # opening upgrades
    store.dispose()
    with database(database_url) as conn:
        keys = conn.execute(sa.select(outbox.c.alert_key).order_by(outbox.c.id)).scalars().all()
    assert keys == [expected for _, _, expected in ROWS]


def test_old_rows_still_count_as_told_and_bare_figures_as_known(database_url: str) -> None:
    previous_release_database(database_url)
    store = Store(create_engine(database_url))
    try:
        with store.story_session() as session:
            state = session.state(SHELLS, "bizwire")
    finally:
        store.dispose()
    assert state.told == {("korea-desk", "email"), ("korea-desk", "slack")}
    assert Fact(1200.0, "") in state.facts
    later = NOW + timedelta(days=1)
    # A syndicated copy with the same figures: nothing new, even against the old stored form.
    copy = copy_facts("about 1,200 casualties among soldiers and 20,000 containers of shells")
    assert story_news(state, copy, later, DedupPolicy()).update == 0
    new = story_news(state, copy_facts("about 3,000 casualties"), later, DedupPolicy())
    assert new.update == 2 and [c.fact for c in new.changes] == ["3,000 casualties"]
