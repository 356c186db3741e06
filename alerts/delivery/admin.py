"""What an operator does with the outbox: list rows by status, retry one, drop one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitors.errors import DeskwatchError
from monitors.store import outbox, utc

STATUSES = ("pending", "claimed", "sent", "failed", "suppressed", "summarized", "dropped")
WAITING = ("pending", "claimed", "failed")  # what `deskwatch outbox` lists by default
RETRYABLE = ("pending", "failed", "suppressed", "dropped")
DROPPABLE = ("pending", "failed", "suppressed")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row as an operator sees it."""

    id: int
    status: str
    desk_id: str
    channel: str
    topic_id: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


def list_rows(
    engine: Engine, statuses: Sequence[str] = WAITING, limit: int = 50
) -> list[OutboxRow]:
    """Rows with these statuses, soonest due first."""
    query = (
        sa.select(
            outbox.c.id,
            outbox.c.status,
            outbox.c.desk_id,
            outbox.c.channel,
            outbox.c.topic_id,
            outbox.c.attempts,
            outbox.c.next_attempt_at,
            outbox.c.last_error,
        )
        .where(outbox.c.status.in_(list(statuses)))
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        OutboxRow(
            id=r.id,
            status=r.status,
            desk_id=r.desk_id,
            channel=r.channel,
            topic_id=r.topic_id,
            attempts=r.attempts or 0,
            next_attempt_at=utc(r.next_attempt_at),
            last_error=r.last_error,
        )
        for r in rows
    ]


def retry(engine: Engine, row_id: int, now: datetime) -> str:
    """Put a row back in the queue, due now with a fresh count of attempts; its former status.

    The desk's rules still apply when it is delivered (quiet hours, budget).
    """
    values = {"status": "pending", "next_attempt_at": now, "attempts": 0, "sent_at": None}
    return _move(engine, row_id, RETRYABLE, "retried", values)


def drop(engine: Engine, row_id: int, now: datetime) -> str:
    """Mark a row dropped: never sent, and kept so the decision stays visible; former status."""
    values = {"status": "dropped", "next_attempt_at": now, "last_error": "dropped by an operator"}
    return _move(engine, row_id, DROPPABLE, "dropped", values)


def _move(
    engine: Engine, row_id: int, allowed: Sequence[str], verb: str, values: dict[str, object]
) -> str:
    """Change one row's status if it is in `allowed`; a one-line error otherwise."""
    with engine.begin() as conn:
        before = conn.execute(
            sa.select(outbox.c.status).where(outbox.c.id == row_id)
        ).scalar_one_or_none()
        if before is None:
            raise DeskwatchError(f"outbox: no alert with id {row_id}")
        changed = conn.execute(
            outbox.update()
            .where(outbox.c.id == row_id, outbox.c.status.in_(list(allowed)))
            .values(claim_token=None, claimed_until=None, **values)
        ).rowcount
    if changed != 1:
        raise DeskwatchError(
            f"outbox: alert {row_id} is {before}; only {', '.join(allowed)} alerts can be {verb}"
        )
    return str(before)
