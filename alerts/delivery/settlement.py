"""The I/O around the delivery policy: count recent sends, then apply the decision to the rows.

Everything here runs inside one transaction per claimed alert, so a row and the summary that
carries it change together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerts.delivery.policy import (
    SEND_NOW,
    SUMMARY_PREFIX,
    Action,
    Decision,
    budget_window,
    burst_story_key,
    decide,
    hourly_limit,
    quiet_story_key,
)
from alerts.delivery.summaries import burst_summary, quiet_summary, with_item
from alerts.models import AlertMessage
from monitors.store import insert_ignore, outbox
from seeds.models import DeskSpec

# Two-key advisory locks (class, key) never collide with single-key ones such as the story lock.
_PG_LOCK_CLASS = 0x6F757462  # "outb"
DIGEST_ONLY_NOTE = "the desk reads only its digest"


def settle(
    conn: Connection,
    row_id: int,
    token: str,
    alert: AlertMessage,
    desk: DeskSpec | None,
    now: datetime,
    lease_until: datetime,
) -> Decision | None:
    """Decide a claimed alert's fate and apply everything but the send; None if not ours."""
    # Renewing the lease comes first: on SQLite this write takes the database's write lock, so
    # the count below cannot change before the decision is stored.
    mine = outbox.c.id == row_id, outbox.c.claim_token == token, outbox.c.status == "claimed"
    renewed = conn.execute(outbox.update().where(*mine).values(claimed_until=lease_until))
    if renewed.rowcount != 1:
        return None
    if conn.dialect.name == "postgresql":
        # Deciders of one desk and channel take turns, so two workers never both take the
        # last unit of a budget or both create the same summary.
        group = sa.func.hashtext(f"{alert.desk_id}|{alert.channel}")
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_CLASS, group)))
    sent = _sent_this_hour(conn, alert, now) if desk and hourly_limit(desk, alert.topic_id) else 0
    decision = decide(desk, alert, now, sent)
    return _apply(conn, mine, alert, desk, decision, now)


def _sent_this_hour(conn: Connection, alert: AlertMessage, now: datetime) -> int:
    """Alerts of this desk, channel and topic sent (or about to be) in the current window."""
    start, _ = budget_window(now)
    query = sa.select(sa.func.count()).where(
        outbox.c.desk_id == alert.desk_id,
        outbox.c.channel == alert.channel,
        outbox.c.topic_id == alert.topic_id,
        outbox.c.status.in_(("sent", "claimed")),  # a claimed row with sent_at is being sent
        outbox.c.sent_at >= start,
        sa.not_(outbox.c.story_key.startswith(SUMMARY_PREFIX)),
    )
    return int(conn.execute(query).scalar() or 0)


def _apply(
    conn: Connection,
    mine: tuple[Any, ...],
    alert: AlertMessage,
    desk: DeskSpec | None,
    decision: Decision,
    now: datetime,
) -> Decision:
    """Store the decision: reserve a send, defer, drop, or hand the alert to a summary."""
    action = decision.action
    values: dict[str, Any]
    if action is Action.DEFER:
        values = {"status": "pending", "next_attempt_at": decision.until}
    elif action is Action.DIGEST_ONLY:
        values = {"status": "dropped", "last_error": DIGEST_ONLY_NOTE}
    elif action in (Action.HOLD, Action.OVER_BUDGET) and desk is not None:
        summary_id = _carry(conn, alert, desk, decision, now)
        if summary_id is None:
            return _reserve(conn, mine, now)
        status = "summarized" if action is Action.HOLD else "suppressed"
        values = {"status": status, "last_error": f"carried by summary {summary_id}"}
    else:
        return _reserve(conn, mine, now)
    conn.execute(
        outbox.update().where(*mine).values(claim_token=None, claimed_until=None, **values)
    )
    return decision


def _reserve(conn: Connection, mine: tuple[Any, ...], now: datetime) -> Decision:
    """Count the alert against its budget from now on, while it is being sent."""
    conn.execute(outbox.update().where(*mine).values(sent_at=now))
    return SEND_NOW


def _carry(
    conn: Connection, alert: AlertMessage, desk: DeskSpec, decision: Decision, now: datetime
) -> int | None:
    """Add the alert to its summary row (made on first use); the row id, or None if it went."""
    start, until = decision.start, decision.until
    assert start is not None and until is not None
    if decision.action is Action.HOLD:
        summary, story = quiet_summary(desk, alert, start, until, now), quiet_story_key(until)
    else:
        limit = hourly_limit(desk, alert.topic_id) or 0
        summary = burst_summary(desk, alert, start, until, limit, now)
        story = burst_story_key(start)
    row = {
        "alert_key": summary.alert_key,
        "desk_id": summary.desk_id,
        "channel": summary.channel,
        "topic_id": summary.topic_id,
        "story_key": story,
        "payload_json": summary.model_dump_json(),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": until,
        "created_at": now,
    }
    conn.execute(insert_ignore(conn, outbox).values(**row))
    found = conn.execute(
        sa.select(outbox.c.id, outbox.c.status, outbox.c.payload_json)
        .where(outbox.c.alert_key == summary.alert_key)
        .with_for_update()
    ).one()
    if found.status != "pending":
        return None  # only when workers' clocks disagree: the alert then goes out on its own
    current = AlertMessage.model_validate_json(found.payload_json)
    payload = with_item(current, alert).model_dump_json()
    conn.execute(outbox.update().where(outbox.c.id == found.id).values(payload_json=payload))
    return int(found.id)
