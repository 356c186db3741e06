"""The unit of work that decides one claimed outbox row, inside one transaction.

Lease renewal, the budget count, the decision and the summary carry happen together, so a row
and the summary that carries it change together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitors.store.engine import insert_ignore
from monitors.store.rows import OutboxStatus, SummaryDraft
from monitors.store.schema import outbox

# Two-key advisory locks (class, key) never collide with single-key ones such as the story lock.
_PG_LOCK_CLASS = 0x6F757462  # "outb"


class Settling:
    """A claimed row's decision transaction; `renewed` is False when the claim was lost."""

    def __init__(self, conn: Connection, row_id: int, token: str, lease_until: datetime) -> None:
        self._conn = conn
        self._mine = (
            outbox.c.id == row_id,
            outbox.c.claim_token == token,
            outbox.c.status == OutboxStatus.CLAIMED,
        )
        # Renewing the lease comes first: on SQLite this write takes the database's write lock,
        # so a count made afterwards cannot change before the decision is stored.
        renewed = conn.execute(outbox.update().where(*self._mine).values(claimed_until=lease_until))
        self.renewed = renewed.rowcount == 1

    def lock_group(self, desk_id: str, channel: str) -> None:
        """Deciders of one desk and channel take turns (PostgreSQL; SQLite's lock does it)."""
        if self._conn.dialect.name == "postgresql":
            group = sa.func.hashtext(f"{desk_id}|{channel}")
            self._conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_CLASS, group)))

    def sent_in_window(
        self, desk_id: str, channel: str, topic_id: str, since: datetime, skip_prefix: str
    ) -> int:
        """Stories of this desk, channel and leading topic sent (or being sent) since `since`."""
        # Distinct stories: an update, or a row keyed per topic by an older release, about a
        # story already counted takes nothing more from the budget.
        query = sa.select(sa.func.count(sa.distinct(outbox.c.story_key))).where(
            outbox.c.desk_id == desk_id,
            outbox.c.channel == channel,
            outbox.c.topic_id == topic_id,
            # a claimed row with sent_at is being sent
            outbox.c.status.in_((OutboxStatus.SENT, OutboxStatus.CLAIMED)),
            outbox.c.sent_at >= since,
            sa.not_(outbox.c.story_key.startswith(skip_prefix)),
        )
        return int(self._conn.execute(query).scalar() or 0)

    def reserve_send(self, now: datetime) -> None:
        """Count the row against its budget from now on, while it is being sent."""
        self._conn.execute(outbox.update().where(*self._mine).values(sent_at=now))

    def set_status(
        self,
        status: OutboxStatus,
        *,
        next_attempt_at: datetime | None = None,
        note: str | None = None,
    ) -> None:
        """Release the claim with a new status (and due time or note when given)."""
        values: dict[str, object] = {"status": status, "claim_token": None, "claimed_until": None}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if note is not None:
            values["last_error"] = note
        self._conn.execute(outbox.update().where(*self._mine).values(**values))

    def carry_into_summary(
        self, summary: SummaryDraft, now: datetime, add: Callable[[str], str]
    ) -> int | None:
        """Create the summary row on first use and rewrite its payload with `add`; its id.

        None when the summary is no longer pending (it went out already).
        """
        row = {
            "alert_key": summary.alert_key,
            "desk_id": summary.desk_id,
            "channel": summary.channel,
            "topic_id": summary.topic_id,
            "story_key": summary.story_key,
            "payload_json": summary.payload_json,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": summary.due_at,
            "created_at": now,
        }
        self._conn.execute(insert_ignore(self._conn, outbox).values(**row))
        found = self._conn.execute(
            sa.select(outbox.c.id, outbox.c.status, outbox.c.payload_json)
            .where(outbox.c.alert_key == summary.alert_key)
            .with_for_update()
        ).one()
        if found.status != OutboxStatus.PENDING:
            return None
        payload = add(found.payload_json)
        self._conn.execute(
            outbox.update().where(outbox.c.id == found.id).values(payload_json=payload)
        )
        return int(found.id)
