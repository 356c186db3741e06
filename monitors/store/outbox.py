"""The outbox table's operations: queue, claim with a lease, finish, counts, operator moves.

Claims are row-level and safe with several workers on one database: PostgreSQL skips rows
another worker is locking (FOR UPDATE SKIP LOCKED); SQLite claims in one UPDATE.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitors.errors import DeskwatchError
from monitors.models import OutboxDraft
from monitors.store.engine import aware, insert_ignore, utc
from monitors.store.rows import ClaimedRow, OutboxEntry, OutboxRow, OutboxStatus, StoryMark
from monitors.store.schema import outbox
from monitors.store.settling import Settling

Status = OutboxStatus


def queue(conn: Connection, draft: OutboxDraft, now: datetime) -> int:
    """Insert an outbox row unless its alert key exists; 1 when inserted."""
    values = {**asdict(draft), "status": Status.PENDING, "attempts": 0}
    values |= {"next_attempt_at": now, "created_at": now}
    del values["kind"]  # the payload says new or update; the row does not need to
    stmt = insert_ignore(conn, outbox).values(**values)
    return len(conn.execute(stmt.returning(outbox.c.id)).all())


class OutboxQueue:
    """The outbox as the delivery service and an operator use it; plain rows in and out."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def queue(self, drafts: Sequence[OutboxDraft], now: datetime) -> int:
        """Queue alerts (those whose key exists are skipped) in one transaction; count queued."""
        with self._engine.begin() as conn:
            return sum(queue(conn, draft, now) for draft in drafts)

    def claim(
        self, now: datetime, lease_until: datetime, limit: int, due_by: datetime
    ) -> list[ClaimedRow]:
        """Claim rows due by `due_by` and rows whose lease expired by `now`; each row once."""
        due = sa.or_(
            sa.and_(outbox.c.status == Status.PENDING, outbox.c.next_attempt_at <= due_by),
            sa.and_(outbox.c.status == Status.CLAIMED, outbox.c.claimed_until < now),
        )
        token = uuid.uuid4().hex
        values = {"status": Status.CLAIMED, "claim_token": token, "claimed_until": lease_until}
        with self._engine.begin() as conn:
            rows = _claim_rows(conn, due, limit, values | {"sent_at": None})
        return [
            ClaimedRow(int(r.id), token, r.payload_json, int(r.attempts or 0))
            for r in sorted(rows, key=lambda r: int(r.id))
        ]

    @contextmanager
    def settling(self, row_id: int, token: str, lease_until: datetime) -> Iterator[Settling]:
        """One transaction deciding a claimed row: renew the lease, count, decide, carry."""
        with self._engine.begin() as conn:
            yield Settling(conn, row_id, token, lease_until)

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
        """Leave a claim with a new status (sent, pending again, failed) if it is still ours.

        `sent_at` is always written (None unless sent); the others only when given.
        """
        values: dict[str, object] = {"sent_at": sent_at}
        given = {"attempts": attempts, "next_attempt_at": next_attempt_at, "last_error": last_error}
        values |= {name: value for name, value in given.items() if value is not None}
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row_id, outbox.c.claim_token == token)
                .values(status=status, claim_token=None, claimed_until=None, **values)
            )

    def counts(self) -> dict[OutboxStatus, int]:
        """Rows per status."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
            ).all()
        return {Status(status): int(count) for status, count in rows}

    def list_rows(
        self, statuses: Sequence[OutboxStatus] = Status.waiting(), limit: int = 50
    ) -> list[OutboxRow]:
        """Rows with these statuses, soonest due first."""
        return [entry.row for entry in self.entries(statuses, limit)]

    def entries(
        self, statuses: Sequence[OutboxStatus] = Status.waiting(), limit: int = 50
    ) -> list[OutboxEntry]:
        """Rows with these statuses and their payloads, soonest due first."""
        query = (
            sa.select(outbox)
            .where(outbox.c.status.in_(list(statuses)))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_entry(r) for r in rows]

    def entry(self, row_id: int) -> OutboxEntry | None:
        """One row and its payload, or None when no row has this id."""
        with self._engine.connect() as conn:
            found = conn.execute(sa.select(outbox).where(outbox.c.id == row_id)).one_or_none()
        return _entry(found) if found is not None else None

    def story_marks(self, desk_id: str, prefix: str) -> list[StoryMark]:
        """The desk's rows whose story key starts with `prefix`, any status, oldest first."""
        query = (
            sa.select(outbox.c.topic_id, outbox.c.story_key, outbox.c.created_at)
            .where(outbox.c.desk_id == desk_id, outbox.c.story_key.startswith(prefix))
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [StoryMark(r.topic_id, r.story_key, aware(r.created_at)) for r in rows]

    def retry(self, row_id: int, now: datetime) -> OutboxStatus:
        """Put a row back in the queue, due now with a fresh count of attempts; its former status.

        The desk's rules still apply when it is delivered (quiet hours, budget).
        """
        values = {"status": Status.PENDING, "next_attempt_at": now, "attempts": 0, "sent_at": None}
        return self._move(row_id, Status.retryable(), "retried", values)

    def drop(self, row_id: int, now: datetime) -> OutboxStatus:
        """Mark a row dropped: never sent, kept so the decision stays visible; former status."""
        values = {"status": Status.DROPPED, "next_attempt_at": now}
        values["last_error"] = "dropped by an operator"
        return self._move(row_id, Status.droppable(), "dropped", values)

    def _move(
        self, row_id: int, allowed: Sequence[OutboxStatus], verb: str, values: dict[str, Any]
    ) -> OutboxStatus:
        """Change one row's status if it is in `allowed`; a one-line error otherwise."""
        with self._engine.begin() as conn:
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
            names = ", ".join(allowed)
            raise DeskwatchError(
                f"outbox: alert {row_id} is {before}; only {names} alerts can be {verb}"
            )
        return Status(before)


def _entry(r: Any) -> OutboxEntry:
    """An outbox table row as the operator's typed entry."""
    row = OutboxRow(
        id=r.id,
        status=Status(r.status),
        desk_id=r.desk_id,
        channel=r.channel,
        topic_id=r.topic_id,
        attempts=r.attempts or 0,
        next_attempt_at=utc(r.next_attempt_at),
        last_error=r.last_error,
    )
    return OutboxEntry(row, r.alert_key, r.payload_json, aware(r.created_at), utc(r.sent_at))


def _claim_rows(conn: Connection, due: Any, limit: int, values: dict[str, Any]) -> list[Any]:
    """Mark up to `limit` due rows claimed and return them (id, payload, attempts)."""
    picked = sa.select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)
    where: sa.ColumnElement[bool]
    if conn.dialect.name == "postgresql":
        # Rows another worker is claiming this instant are skipped, never waited for.
        ids = conn.execute(picked.with_for_update(skip_locked=True)).scalars().all()
        if not ids:
            return []
        where = outbox.c.id.in_(ids)
    else:
        # One UPDATE holds SQLite's write lock from pick to claim: no worker can interleave.
        where = sa.and_(outbox.c.id.in_(picked), due)
    returned = outbox.c.id, outbox.c.payload_json, outbox.c.attempts
    return list(conn.execute(outbox.update().where(where).values(**values).returning(*returned)))
