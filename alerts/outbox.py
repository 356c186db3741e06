"""Durable delivery: claim due alerts with a lease, send, and mark sent only after success."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.channels import Channel
from alerts.models import AlertMessage
from monitors.errors import DeliveryError, PermanentDeliveryError
from monitors.store import outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0


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
    sent_alerts: list[AlertMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±20 % jitter, capped at an hour."""
    base = min(BASE_BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)
    return timedelta(seconds=base * (rng or random).uniform(0.8, 1.2))


class Outbox:
    """Row-level claims on the outbox table; safe with several workers on one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, now: datetime, lease: timedelta, limit: int = 100) -> list[Claimed]:
        """Claim due pending rows and rows whose lease expired; each row goes to one worker."""
        due = sa.or_(
            sa.and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now),
            sa.and_(outbox.c.status == "claimed", outbox.c.claimed_until < now),
        )
        with self.engine.connect() as conn:
            candidates = conn.execute(
                sa.select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)
            ).all()
        claimed: list[Claimed] = []
        for (row_id,) in candidates:
            token = uuid.uuid4().hex
            with self.engine.begin() as conn:
                won = conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row_id, due)
                    .values(status="claimed", claim_token=token, claimed_until=now + lease)
                ).rowcount
                if won != 1:
                    continue
                row = conn.execute(
                    sa.select(outbox.c.payload_json, outbox.c.attempts).where(outbox.c.id == row_id)
                ).one()
            alert = AlertMessage.model_validate_json(row.payload_json)
            claimed.append(Claimed(row_id, token, alert, row.attempts))
        return claimed

    def mark_sent(self, claim: Claimed, now: datetime) -> None:
        self._finish(claim, status="sent", sent_at=now, attempts=claim.attempts + 1)

    def mark_retry(self, claim: Claimed, error: str, next_at: datetime) -> None:
        self._finish(
            claim,
            status="pending",
            last_error=error[:500],
            next_attempt_at=next_at,
            attempts=claim.attempts + 1,
        )

    def mark_failed(self, claim: Claimed, error: str) -> None:
        self._finish(claim, status="failed", last_error=error[:500], attempts=claim.attempts + 1)

    def _finish(self, claim: Claimed, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == claim.id, outbox.c.claim_token == claim.token)
                .values(claim_token=None, claimed_until=None, **values)
            )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
            ).all()
        return {status: count for status, count in rows}


def deliver_pending(
    box: Outbox,
    channel_for: Callable[[AlertMessage], Channel],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    lease: timedelta = timedelta(minutes=5),
) -> DeliveryReport:
    """Send every due alert once; failures back off, permanent ones are marked failed."""
    report = DeliveryReport()
    for claim in box.claim(now(), lease):
        try:
            channel_for(claim.alert).send(claim.alert)
        except PermanentDeliveryError as exc:
            box.mark_failed(claim, str(exc))
            report.failed += 1
            report.errors.append(f"{claim.alert.alert_key}: {exc}")
        except DeliveryError as exc:
            if claim.attempts + 1 >= MAX_ATTEMPTS:
                box.mark_failed(claim, f"gave up after {MAX_ATTEMPTS} attempts: {exc}")
                report.failed += 1
            else:
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else None
                box.mark_retry(claim, str(exc), now() + (wait or backoff(claim.attempts + 1)))
                report.retrying += 1
            report.errors.append(f"{claim.alert.alert_key}: {exc}")
            log.warning("delivery of %s deferred: %s", claim.alert.alert_key, exc)
        else:
            box.mark_sent(claim, now())
            report.sent += 1
            report.sent_alerts.append(claim.alert)
    return report
