"""In-memory stand-ins for the store's outbox ports (alerts/delivery/outbox.py OutboxPort,
alerts/delivery/settlement.py SettlementTx), for unit tests of delivery decisions.

They keep the rules the database keeps: one claim per row, a token that must match, a settling
block that changes everything or nothing.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from alerts.models import AlertMessage
from monitors.store import ClaimedRow, OutboxStatus, SummaryDraft


@dataclass
class FakeRow:
    id: int
    alert_key: str
    desk_id: str
    channel: str
    topic_id: str
    story_key: str
    payload_json: str
    status: OutboxStatus
    next_attempt_at: datetime
    attempts: int = 0
    claimed_until: datetime | None = None
    claim_token: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None


class FakeOutbox:
    """The outbox table as a dict of rows."""

    def __init__(self) -> None:
        self.rows: dict[int, FakeRow] = {}
        self.locked_groups: list[tuple[str, str]] = []

    def add(self, alert: AlertMessage, due: datetime, payload_json: str | None = None) -> int:
        """Queue an alert as a poll would; the row id."""
        row_id = len(self.rows) + 1
        self.rows[row_id] = FakeRow(
            id=row_id,
            alert_key=alert.alert_key,
            desk_id=alert.desk_id,
            channel=alert.channel,
            topic_id=alert.topic_id,
            story_key=alert.url,
            payload_json=payload_json or alert.model_dump_json(),
            status=OutboxStatus.PENDING,
            next_attempt_at=due,
        )
        return row_id

    def statuses(self) -> Counter[str]:
        return Counter(str(row.status) for row in self.rows.values())

    def claim(
        self, now: datetime, lease_until: datetime, limit: int, due_by: datetime
    ) -> list[ClaimedRow]:
        token = uuid.uuid4().hex
        due = [
            row
            for row in sorted(self.rows.values(), key=lambda r: r.id)
            if (row.status == OutboxStatus.PENDING and row.next_attempt_at <= due_by)
            or (row.status == OutboxStatus.CLAIMED and (row.claimed_until or now) < now)
        ][:limit]
        for row in due:
            row.status, row.claim_token, row.claimed_until = (
                OutboxStatus.CLAIMED,
                token,
                lease_until,
            )
            row.sent_at = None
        return [ClaimedRow(row.id, token, row.payload_json, row.attempts) for row in due]

    @contextmanager
    def settling(self, row_id: int, token: str, lease_until: datetime) -> Iterator[FakeSettling]:
        saved = copy.deepcopy(self.rows)
        try:
            yield FakeSettling(self, row_id, token, lease_until)
        except BaseException:
            self.rows = saved  # a failed decision changes nothing
            raise

    def finish(
        self,
        row_id: int,
        token: str,
        status: OutboxStatus,
        *,
        attempts: int | None = None,
        sent_at: datetime | None = None,
        next_attempt_at: datetime | None = None,
        last_error: str | None = None,
    ) -> None:
        row = self.rows[row_id]
        if row.claim_token != token:
            return
        row.status, row.claim_token, row.claimed_until, row.sent_at = status, None, None, sent_at
        row.attempts = row.attempts if attempts is None else attempts
        row.next_attempt_at = next_attempt_at or row.next_attempt_at
        row.last_error = last_error or row.last_error


class FakeSettling:
    """One claimed row's decision on the fake outbox."""

    def __init__(self, box: FakeOutbox, row_id: int, token: str, lease_until: datetime) -> None:
        self._box = box
        self._row = box.rows[row_id]
        self.renewed = self._row.claim_token == token and self._row.status == OutboxStatus.CLAIMED
        if self.renewed:
            self._row.claimed_until = lease_until

    def lock_group(self, desk_id: str, channel: str) -> None:
        self._box.locked_groups.append((desk_id, channel))

    def sent_in_window(
        self, desk_id: str, channel: str, topic_id: str, since: datetime, skip_prefix: str
    ) -> int:
        return len(
            {
                r.story_key
                for r in self._box.rows.values()
                if (r.desk_id, r.channel, r.topic_id) == (desk_id, channel, topic_id)
                and r.status in (OutboxStatus.SENT, OutboxStatus.CLAIMED)
                and r.sent_at is not None
                and r.sent_at >= since
                and not r.story_key.startswith(skip_prefix)
            }
        )

    def reserve_send(self, now: datetime) -> None:
        self._row.sent_at = now

    def set_status(
        self,
        status: OutboxStatus,
        *,
        next_attempt_at: datetime | None = None,
        note: str | None = None,
    ) -> None:
        row = self._row
        row.status, row.claim_token, row.claimed_until = status, None, None
        row.next_attempt_at = next_attempt_at or row.next_attempt_at
        row.last_error = note or row.last_error

    def carry_into_summary(
        self, summary: SummaryDraft, now: datetime, add: Callable[[str], str]
    ) -> int | None:
        found = next((r for r in self._box.rows.values() if r.alert_key == summary.alert_key), None)
        if found is None:
            found = FakeRow(
                id=len(self._box.rows) + 1,
                alert_key=summary.alert_key,
                desk_id=summary.desk_id,
                channel=summary.channel,
                topic_id=summary.topic_id,
                story_key=summary.story_key,
                payload_json=summary.payload_json,
                status=OutboxStatus.PENDING,
                next_attempt_at=summary.due_at,
            )
            self._box.rows[found.id] = found
        if found.status != OutboxStatus.PENDING:
            return None
        found.payload_json = add(found.payload_json)
        return found.id
