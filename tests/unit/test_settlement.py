"""Delivery decisions against the in-memory outbox (tests/support/fakes.py): what happens to a
claimed alert under a desk's quiet hours, budget and mode, and after a failed send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.delivery.outbox import MAX_ATTEMPTS, Outbox, deliver_pending
from alerts.models import AlertMessage
from monitors.errors import DeliveryError, PermanentDeliveryError
from monitors.store import OutboxStatus
from seeds.models import DeskSpec
from tests.support.fakes import FakeOutbox
from tests.support.outbox_rows import alert_for

NOON = datetime(2024, 12, 17, 3, 10, tzinfo=UTC)  # 12:10 in Seoul
NIGHT = datetime(2024, 12, 17, 14, 10, tzinfo=UTC)  # 23:10 in Seoul
LEASE = timedelta(minutes=5)


def desk(**changes: Any) -> DeskSpec:
    fields = {
        "id": "korea-desk",
        "name": "Korea desk",
        "timezone": "Asia/Seoul",
        "topics": ["troop-deployment", "arms-transfers"],
        "channels": [{"kind": "email", "to": ["korea-desk@newsroom.example"]}],
    }
    return DeskSpec.model_validate(fields | changes)


def emails(box: FakeOutbox, count: int, at: datetime) -> list[AlertMessage]:
    alerts = [alert_for("korea-desk", "email", "arms-transfers", f"s{n}", at) for n in range(count)]
    for alert in alerts:
        box.add(alert, at)
    return alerts


class Recorder:
    """A channel that records what it sends, or raises the error it is given."""

    def __init__(self, error: DeliveryError | None = None) -> None:
        self.sent: list[str] = []
        self.error = error

    def send(self, alert: AlertMessage) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(alert.alert_key)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_alerts_inside_quiet_hours_are_carried_by_one_summary() -> None:
    box, channel = FakeOutbox(), Recorder()
    emails(box, 3, NIGHT)
    quiet = desk(quiet_hours={"start": "22:00", "end": "07:00"})
    report = deliver_pending(Outbox(box), lambda _a: channel, now=at(NIGHT), desks=[quiet])
    assert (report.sent, report.held, channel.sent) == (0, 3, [])
    assert box.statuses() == {"summarized": 3, "pending": 1}
    (summary,) = [r for r in box.rows.values() if r.status == OutboxStatus.PENDING]
    items = AlertMessage.model_validate_json(summary.payload_json).items
    ends = datetime(2024, 12, 17, 22, tzinfo=UTC)  # 07:00 in Seoul
    assert len(items) == 3 and summary.next_attempt_at == ends


def test_alerts_over_the_hourly_budget_are_suppressed_into_a_burst_summary() -> None:
    box, channel = FakeOutbox(), Recorder()
    emails(box, 5, NOON)
    report = deliver_pending(
        Outbox(box), lambda _a: channel, now=at(NOON), desks=[desk(budget={"per_hour": 2})]
    )
    assert (report.sent, report.suppressed) == (2, 3)
    assert box.statuses() == {"sent": 2, "suppressed": 3, "pending": 1}
    assert set(box.locked_groups) == {("korea-desk", "email")}


def test_budgets_count_stories_so_an_update_to_a_story_sent_this_hour_takes_nothing() -> None:
    box, channel = FakeOutbox(), Recorder()
    first = alert_for("korea-desk", "email", "arms-transfers", "s0", NOON)
    box.add(first, NOON)
    update = first.model_copy(update={"alert_key": f"{first.alert_key}|update-1", "kind": "update"})
    box.add(update, NOON)
    for n in (1, 2):
        box.add(alert_for("korea-desk", "email", "arms-transfers", f"s{n}", NOON), NOON)
    report = deliver_pending(
        Outbox(box), lambda _a: channel, now=at(NOON), desks=[desk(budget={"per_hour": 2})]
    )
    assert (report.sent, report.suppressed) == (3, 1)
    assert channel.sent[:2] == [first.alert_key, update.alert_key]


def test_a_digest_only_desk_never_sends() -> None:
    box, channel = FakeOutbox(), Recorder()
    emails(box, 2, NOON)
    only_digest = desk(mode="digest-only")
    report = deliver_pending(Outbox(box), lambda _a: channel, now=at(NOON), desks=[only_digest])
    assert (report.dropped, channel.sent) == (2, [])
    assert {r.last_error for r in box.rows.values()} == {"the desk reads only its digest"}


def test_a_lost_claim_is_neither_decided_nor_sent() -> None:
    box = FakeOutbox()
    emails(box, 1, NOON)
    outbox = Outbox(box)
    (stale,) = outbox.claim(NOON, LEASE)
    (taken,) = outbox.claim(NOON + timedelta(minutes=6), LEASE)
    assert outbox.settle(stale, desk(), NOON + timedelta(minutes=6), LEASE) is None
    assert box.rows[1].claim_token == taken.token and box.rows[1].sent_at is None


def test_a_transient_failure_backs_off_and_a_permanent_one_fails_for_good() -> None:
    box = FakeOutbox()
    emails(box, 1, NOON)
    down = Recorder(DeliveryError("smtp 127.0.0.1:2525: connection refused"))
    report = deliver_pending(Outbox(box), lambda _a: down, now=at(NOON))
    row = box.rows[1]
    assert (report.retrying, row.status, row.attempts) == (1, OutboxStatus.PENDING, 1)
    assert row.next_attempt_at > NOON and row.sent_at is None
    refused = Recorder(PermanentDeliveryError("smtp: 550 no such mailbox"))
    later = deliver_pending(Outbox(box), lambda _a: refused, now=at(NOON + timedelta(hours=2)))
    assert (later.failed, row.status, row.last_error) == (1, "failed", "smtp: 550 no such mailbox")


def test_delivery_gives_up_after_the_last_attempt() -> None:
    box = FakeOutbox()
    emails(box, 1, NOON)
    box.rows[1].attempts = MAX_ATTEMPTS - 1
    down = Recorder(DeliveryError("smtp: timeout"))
    report = deliver_pending(Outbox(box), lambda _a: down, now=at(NOON))
    assert report.failed == 1 and (box.rows[1].last_error or "").startswith("gave up after")


def test_an_unreadable_payload_fails_without_a_send() -> None:
    box, channel = FakeOutbox(), Recorder()
    (alert,) = emails(box, 1, NOON)
    box.add(alert.model_copy(update={"alert_key": "broken"}), NOON, payload_json="{}")
    report = deliver_pending(Outbox(box), lambda _a: channel, now=at(NOON))
    assert report.sent == 1 and box.statuses() == {"sent": 1, "failed": 1}
    assert (box.rows[2].last_error or "").startswith("unreadable payload")
