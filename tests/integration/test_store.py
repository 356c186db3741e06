"""The state store and outbox on SQLite and PostgreSQL: idempotent alerts, exclusive claims."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alerts.delivery.outbox import Outbox, deliver_pending
from alerts.models import AlertMessage
from monitors.errors import DeliveryError
from monitors.models import Evidence, NewItem, OutboxDraft, TopicMatch, Validators
from monitors.store import OutboxStatus, Store, create_engine
from monitors.store.schema import outbox

NOW = datetime(2024, 12, 17, 9, 0, tzinfo=UTC)


def new_item(key: str, story: str) -> NewItem:
    return NewItem(
        source_id="wire",
        item_key=key,
        url=f"https://wire.example/{key}",
        canonical_url=f"https://wire.example/{key}",
        title=f"Story {key}",
        outlet="Wire",
        published=NOW,
        detected_at=NOW,
        fingerprint=f"fp-{key}",
        story_key=story,
    )


def draft(desk: str, story: str) -> OutboxDraft:
    key = f"{desk}|email|troops|{story}"
    message = AlertMessage(
        alert_key=key,
        desk_id=desk,
        desk_name=desk,
        channel="email",
        topic_id="troops",
        topic_title="Troops",
        severity="high",
        score=5.0,
        headline=story,
        url="https://x.example",
        outlet="Wire",
        detected_at=NOW,
        recipients=["desk@newsroom.example"],
    )
    return OutboxDraft(key, desk, "email", "troops", story, message.model_dump_json())


MATCH = TopicMatch("troops", 5.0, "high", (Evidence("North Korea and Russia.", 0, 23),))


def test_validators_change_only_when_given(database_url: str) -> None:
    store = Store(create_engine(database_url))
    store.record_check("wire", "ok", "ok", "", NOW, Validators('"abc"', "Tue, 17 Dec 2024"))
    store.record_check("wire", "failed", "timeout", "slow", NOW)
    assert store.validators("wire") == Validators('"abc"', "Tue, 17 Dec 2024")
    state = store.source_states()["wire"]
    assert (state.last_status, state.last_reason, state.consecutive_failures) == (
        "failed",
        "timeout",
        1,
    )
    assert state.last_ok_at == NOW


def test_same_alert_key_is_queued_once(database_url: str) -> None:
    store = Store(create_engine(database_url))
    assert store.record_item(new_item("a", "story-1"), [MATCH], [draft("korea", "story-1")]) == 1
    assert store.record_item(new_item("b", "story-1"), [MATCH], [draft("korea", "story-1")]) == 0
    assert store.seen_keys("wire", ["a", "b", "c"]) == {"a", "b"}
    assert store.story_for("fp-b", "nothing") == "story-1"


class CountingChannel:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, alert: AlertMessage) -> None:
        with self.lock:
            self.sent.append(alert.alert_key)


def test_two_workers_draining_one_outbox_send_each_alert_once(database_url: str) -> None:
    store = Store(create_engine(database_url))
    for n in range(40):
        store.record_item(new_item(f"i{n}", f"s{n}"), [MATCH], [draft("korea", f"s{n}")])
    channel = CountingChannel()
    workers = [
        threading.Thread(target=deliver_pending, args=(Outbox(store.outbox), lambda _a: channel))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(channel.sent) == sorted({f"korea|email|troops|s{n}" for n in range(40)})
    assert store.outbox.counts() == {"sent": 40}


class FlakyChannel:
    def __init__(self) -> None:
        self.up = False
        self.sent: list[str] = []

    def send(self, alert: AlertMessage) -> None:
        if not self.up:
            raise DeliveryError("smtp: connection refused")
        self.sent.append(alert.alert_key)


def test_failed_delivery_stays_pending_and_is_sent_once_later(database_url: str) -> None:
    store = Store(create_engine(database_url))
    store.record_item(new_item("a", "s1"), [MATCH], [draft("korea", "s1")])
    box, channel = Outbox(store.outbox), FlakyChannel()
    first = deliver_pending(box, lambda _a: channel, now=lambda: NOW)
    assert (first.sent, first.retrying) == (0, 1)
    assert store.outbox.counts() == {"pending": 1}
    channel.up = True
    later = NOW + timedelta(hours=2)
    assert deliver_pending(box, lambda _a: channel, now=lambda: later).sent == 1
    assert deliver_pending(box, lambda _a: channel, now=lambda: later).sent == 0
    assert channel.sent == ["korea|email|troops|s1"]


def test_expired_claim_is_taken_over(database_url: str) -> None:
    store = Store(create_engine(database_url))
    store.record_item(new_item("a", "s1"), [MATCH], [draft("korea", "s1")])
    box = Outbox(store.outbox)
    (crashed,) = box.claim(NOW, timedelta(minutes=5))
    assert box.claim(NOW + timedelta(minutes=1), timedelta(minutes=5)) == []
    (retaken,) = box.claim(NOW + timedelta(minutes=6), timedelta(minutes=5))
    assert retaken.alert.alert_key == crashed.alert.alert_key
    box.mark_sent(crashed, NOW)  # the stale worker's late mark is ignored: token changed
    assert store.outbox.counts() == {"claimed": 1}


def test_item_matches_and_alerts_are_recorded_together_or_not_at_all(database_url: str) -> None:
    store = Store(create_engine(database_url))
    broken = OutboxDraft("k", None, "email", "troops", "s1", "{}")  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        store.record_item(new_item("a", "s1"), [MATCH], [draft("korea", "s1"), broken])
    assert store.seen_keys("wire", ["a"]) == set()
    assert store.table_sizes()["matches"] == 0 and store.outbox.counts() == {}


def test_postgres_claims_skip_rows_another_worker_is_claiming(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    store = Store(engine)
    for n in range(3):
        store.record_item(new_item(f"i{n}", f"s{n}"), [MATCH], [draft("korea", f"s{n}")])
    box = Outbox(store.outbox)
    with engine.connect() as other:
        # Another worker is half-way through claiming the first row: its lock is held.
        first = sa.select(outbox.c.id).order_by(outbox.c.id).limit(1).with_for_update()
        locked = other.execute(first).scalar_one()
        started = time.monotonic()
        claimed = box.claim(NOW, timedelta(minutes=5))
        assert time.monotonic() - started < 2  # skipped, not waited for
        other.rollback()
    assert locked not in {c.id for c in claimed} and len(claimed) == 2
    assert [c.id for c in box.claim(NOW, timedelta(minutes=5))] == [locked]


def test_settling_renews_the_lease_and_refuses_a_lost_claim(database_url: str) -> None:
    store = Store(create_engine(database_url))
    store.record_item(new_item("a", "s1"), [MATCH], [draft("korea", "s1")])
    box = Outbox(store.outbox)
    lease = timedelta(minutes=5)
    (mine,) = box.claim(NOW, lease)
    later = NOW + timedelta(minutes=4)
    assert box.settle(mine, None, later, lease) is not None  # renewed until later + 5 min
    assert box.claim(NOW + timedelta(minutes=6), lease) == []
    (taken,) = box.claim(NOW + timedelta(minutes=10), lease)
    assert box.settle(mine, None, NOW + timedelta(minutes=10), lease) is None
    assert box.settle(taken, None, NOW + timedelta(minutes=10), lease) is not None


def test_an_unreadable_payload_fails_visibly(database_url: str) -> None:
    store = Store(create_engine(database_url))
    broken = OutboxDraft("korea|email|troops|s9", "korea", "email", "troops", "s9", "{}")
    store.record_item(new_item("z", "s9"), [MATCH], [broken, draft("korea", "s1")])
    box = Outbox(store.outbox)
    report = deliver_pending(box, lambda _a: CountingChannel(), now=lambda: NOW)
    assert report.sent == 1 and store.outbox.counts() == {"sent": 1, "failed": 1}
    (failed,) = store.outbox.list_rows([OutboxStatus.FAILED])
    assert (failed.last_error or "").startswith("unreadable payload")
