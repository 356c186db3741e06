"""Per-source state: HTTP validators and the outcome of the last checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitors.models import FetchReason, PollMemo, SourceStatus, Validators
from monitors.store.engine import utc
from monitors.store.rows import SourceState
from monitors.store.schema import source_state


def validators(engine: Engine, source_id: str) -> Validators:
    """The ETag and Last-Modified of the source's last fully read body."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(source_state.c.etag, source_state.c.last_modified).where(
                source_state.c.source_id == source_id
            )
        ).first()
    return Validators(row.etag, row.last_modified) if row else Validators()


def record_check(
    engine: Engine,
    source_id: str,
    status: SourceStatus,
    reason: FetchReason,
    detail: str,
    now: datetime,
    validators: Validators | None = None,
    memo: PollMemo | None = None,
) -> None:
    """Remember the outcome; validators change only when given (a modified, fully read body),
    the schedule and body hash only with a memo."""
    ok = SourceStatus(status).healthy  # a plain word from a caller works too
    values: dict[str, Any] = {
        "last_checked_at": now,
        "last_status": status,
        "last_reason": reason,
        "last_detail": detail[:500],
    }
    if ok:
        values["last_ok_at"] = now
    if validators is not None:
        values["etag"], values["last_modified"] = validators.etag, validators.last_modified
    if memo is not None:
        values.update(
            next_due_at=memo.next_due_at,
            recent_new=" ".join(str(n) for n in memo.recent_new),
            body_hash=memo.body_hash,
            feed_refresh_s=memo.feed_refresh_s,
        )
    with engine.begin() as conn:
        current = conn.execute(
            sa.select(source_state.c.consecutive_failures).where(
                source_state.c.source_id == source_id
            )
        ).scalar()
        values["consecutive_failures"] = 0 if ok else (current or 0) + 1
        if current is None:
            conn.execute(source_state.insert().values(source_id=source_id, **values))
        else:
            conn.execute(
                source_state.update().where(source_state.c.source_id == source_id).values(**values)
            )


def source_states(engine: Engine) -> dict[str, SourceState]:
    """Every source's stored state, by source id."""
    with engine.connect() as conn:
        return read_source_states(conn)


def read_source_states(conn: Connection, only: str | None = None) -> dict[str, SourceState]:
    """Every source's stored state (or just `only`'s), read on an open connection."""
    query = sa.select(source_state)
    if only is not None:
        query = query.where(source_state.c.source_id == only)
    rows = conn.execute(query).mappings().all()
    return {
        row["source_id"]: SourceState(
            source_id=row["source_id"],
            last_status=row["last_status"],
            last_reason=row["last_reason"],
            last_detail=row["last_detail"],
            last_checked_at=utc(row["last_checked_at"]),
            last_ok_at=utc(row["last_ok_at"]),
            consecutive_failures=row["consecutive_failures"] or 0,
            next_due_at=utc(row["next_due_at"]),
            recent_new=tuple(int(n) for n in (row["recent_new"] or "").split() if n.isdigit()),
            body_hash=row["body_hash"],
            feed_refresh_s=row["feed_refresh_s"],
        )
        for row in rows
    }


def state_of(engine: Engine, source_id: str) -> SourceState | None:
    """One source's stored state; None before its first check."""
    with engine.connect() as conn:
        return read_source_states(conn, source_id).get(source_id)
