"""Durable delivery: claim due alerts with a lease, decide, send, and mark sent only after success.

An outbox row moves through these states (`OutboxStatus`, monitors/store/rows.py):

    pending ──claim──▶ claimed ──send ok──▶ sent
       ▲                  │──transient failure (backoff, or Retry-After)──▶ pending
       │                  │──permanent failure, or too many attempts──▶ failed
       │                  │──over the desk's budget──▶ suppressed (carried by a burst summary)
       │                  │──inside the desk's quiet hours──▶ summarized (carried by a summary)
       │                  └──the desk reads only its digest──▶ dropped
       └── a claim whose lease ran out is claimed again; `deskwatch outbox retry` re-queues

Summaries are outbox rows too (story key `summary:…`), delivered like any other alert.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from alerts.delivery.channels import Channel
from alerts.delivery.policy import Action, Decision
from alerts.delivery.settlement import SettlementTx, settle
from alerts.models import AlertMessage
from monitors.errors import DeliveryError, PermanentDeliveryError
from monitors.store.rows import ClaimedRow, OutboxStatus
from seeds.models import DeskSpec

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    token: str
    alert: AlertMessage
    attempts: int


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0  # quiet hours: carried by the summary sent when they end
    suppressed: int = 0  # over budget: carried by the topic's burst summary
    dropped: int = 0  # the desk reads only its digest
    sent_alerts: list[AlertMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, action: Action) -> None:
        """Count an alert that was not sent on its own, by what happened to it."""
        if action in (Action.HOLD, Action.DEFER):
            self.held += 1
        elif action is Action.OVER_BUDGET:
            self.suppressed += 1
        elif action is Action.DIGEST_ONLY:
            self.dropped += 1


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±20 % jitter, capped at an hour."""
    base = min(BASE_BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)
    return timedelta(seconds=base * (rng or random).uniform(0.8, 1.2))


class OutboxPort(Protocol):
    """The outbox operations delivery needs; the store's `OutboxQueue` implements them."""

    def claim(
        self, now: datetime, lease_until: datetime, limit: int, due_by: datetime
    ) -> list[ClaimedRow]: ...

    def settling(
        self, row_id: int, token: str, lease_until: datetime
    ) -> AbstractContextManager[SettlementTx]: ...

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
    ) -> None: ...


class Outbox:
    """Claims, decisions and outcomes of alerts; safe with several workers on one database."""

    def __init__(self, port: OutboxPort) -> None:
        self.port = port

    def claim(
        self, now: datetime, lease: timedelta, limit: int = 100, due_by: datetime | None = None
    ) -> list[Claimed]:
        """Claim rows due by `due_by` (default now) and rows whose lease expired; each row once."""
        rows = self.port.claim(now, now + lease, limit, due_by or now)
        claimed: list[Claimed] = []
        for row in rows:
            try:
                alert = AlertMessage.model_validate_json(row.payload_json)
            except ValidationError as exc:
                self._unreadable(row, exc)
                continue
            claimed.append(Claimed(row.id, row.token, alert, row.attempts))
        return claimed

    def settle(
        self, claim: Claimed, desk: DeskSpec | None, now: datetime, lease: timedelta
    ) -> Decision | None:
        """Apply the desk's rules to a claimed alert; None when the claim was lost meanwhile."""
        with self.port.settling(claim.id, claim.token, now + lease) as tx:
            return settle(tx, claim.alert, desk, now)

    def mark_sent(self, claim: Claimed, now: datetime) -> None:
        self.port.finish(
            claim.id, claim.token, OutboxStatus.SENT, sent_at=now, attempts=claim.attempts + 1
        )

    def mark_retry(self, claim: Claimed, error: str, next_at: datetime) -> None:
        self.port.finish(
            claim.id,
            claim.token,
            OutboxStatus.PENDING,
            last_error=error[:500],
            next_attempt_at=next_at,
            attempts=claim.attempts + 1,
        )

    def mark_failed(self, claim: Claimed, error: str) -> None:
        self.port.finish(
            claim.id,
            claim.token,
            OutboxStatus.FAILED,
            last_error=error[:500],
            attempts=claim.attempts + 1,
        )

    def _unreadable(self, row: ClaimedRow, exc: ValidationError) -> None:
        """A payload no renderer can read: failed for good, with the reason shown."""
        log.error("outbox row %s has an unreadable payload", row.id)
        error = f"unreadable payload: {exc.error_count()} error(s)"
        self.port.finish(row.id, row.token, OutboxStatus.FAILED, last_error=error)


def deliver_pending(
    box: Outbox,
    channel_for: Callable[[AlertMessage], Channel],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    lease: timedelta = DEFAULT_LEASE,
    *,
    desks: Sequence[DeskSpec] = (),
    batch: int = 50,
    max_rows: int = 5000,
) -> DeliveryReport:
    """Send every alert due at the start, once, by its desk's rules; failures back off.

    Alerts of desks not in `desks` go out at once, without quiet hours or budgets.
    """
    report = DeliveryReport()
    rules = {desk.id: desk for desk in desks}
    # Rows deferred during this run come due after its start: a run never retries its own.
    started = now()
    handled = 0
    while handled < max_rows:
        claims = box.claim(now(), lease, min(batch, max_rows - handled), due_by=started)
        if not claims:
            break
        handled += len(claims)
        for claim in claims:
            desk = rules.get(claim.alert.desk_id)
            _deliver_one(box, claim, desk, channel_for, now, lease, report)
    return report


def _deliver_one(
    box: Outbox,
    claim: Claimed,
    desk: DeskSpec | None,
    channel_for: Callable[[AlertMessage], Channel],
    now: Callable[[], datetime],
    lease: timedelta,
    report: DeliveryReport,
) -> None:
    """Decide, then send one claimed alert and record the outcome."""
    # Settling also renews the lease: a long run never sends on a claim that ran out.
    decision = box.settle(claim, desk, now(), lease)
    if decision is None:
        log.info("alert %s was taken over by another worker", claim.alert.alert_key)
        return
    if decision.action is not Action.SEND:
        report.count(decision.action)
        return
    try:
        channel_for(claim.alert).send(claim.alert)
    except DeliveryError as exc:
        _record_failure(box, claim, exc, now(), report)
        return
    box.mark_sent(claim, now())
    report.sent += 1
    report.sent_alerts.append(claim.alert)


def _record_failure(
    box: Outbox, claim: Claimed, exc: DeliveryError, when: datetime, report: DeliveryReport
) -> None:
    """Fail for good, or put the alert back with a backoff (or the server's Retry-After)."""
    key = claim.alert.alert_key
    report.errors.append(f"{key}: {exc}")
    rate_limited = exc.retry_after is not None
    if isinstance(exc, PermanentDeliveryError):
        box.mark_failed(claim, str(exc))
        report.failed += 1
    elif not rate_limited and claim.attempts + 1 >= MAX_ATTEMPTS:
        # A rate limit is the endpoint pacing us, not the alert failing: it never gives up.
        box.mark_failed(claim, f"gave up after {MAX_ATTEMPTS} attempts: {exc}")
        report.failed += 1
    else:
        asked = exc.retry_after or 0.0
        wait = timedelta(seconds=asked) if asked > 0 else backoff(claim.attempts + 1)
        box.mark_retry(claim, str(exc), when + wait)
        report.retrying += 1
        log.warning("delivery of %s deferred: %s", key, exc)
