"""Settle a claimed alert: count recent sends, decide by the desk's rules, apply the decision.

Everything runs inside one unit of work per claimed alert (`SettlementTx`, which the store
implements as one transaction), so a row and the summary that carries it change together or
not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

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
from monitors.store.rows import OutboxStatus, SummaryDraft
from seeds.models import DeskSpec

DIGEST_ONLY_NOTE = "the desk reads only its digest"


class SettlementTx(Protocol):
    """The store's side of settling one claimed row; `renewed` is False if the claim was lost."""

    renewed: bool

    def lock_group(self, desk_id: str, channel: str) -> None: ...

    def sent_in_window(
        self, desk_id: str, channel: str, topic_id: str, since: datetime, skip_prefix: str
    ) -> int: ...

    def reserve_send(self, now: datetime) -> None: ...

    def set_status(
        self,
        status: OutboxStatus,
        *,
        next_attempt_at: datetime | None = None,
        note: str | None = None,
    ) -> None: ...

    def carry_into_summary(
        self, summary: SummaryDraft, now: datetime, add: Callable[[str], str]
    ) -> int | None: ...


def settle(
    tx: SettlementTx, alert: AlertMessage, desk: DeskSpec | None, now: datetime
) -> Decision | None:
    """Decide a claimed alert's fate and apply everything but the send; None if not ours."""
    if not tx.renewed:
        return None
    # Deciders of one desk and channel take turns, so two workers never both take the last
    # unit of a budget or both create the same summary.
    tx.lock_group(alert.desk_id, alert.channel)
    sent = _sent_this_hour(tx, alert, now) if desk and hourly_limit(desk, alert.topic_id) else 0
    decision = decide(desk, alert, now, sent)
    return _apply(tx, alert, desk, decision, now)


def _sent_this_hour(tx: SettlementTx, alert: AlertMessage, now: datetime) -> int:
    """Stories of this desk, channel and leading topic sent (or about to be) in the window."""
    start, _ = budget_window(now)
    return tx.sent_in_window(alert.desk_id, alert.channel, alert.topic_id, start, SUMMARY_PREFIX)


def _apply(
    tx: SettlementTx, alert: AlertMessage, desk: DeskSpec | None, decision: Decision, now: datetime
) -> Decision:
    """Store the decision: reserve a send, defer, drop, or hand the alert to a summary."""
    action = decision.action
    if action is Action.DEFER:
        tx.set_status(OutboxStatus.PENDING, next_attempt_at=decision.until)
    elif action is Action.DIGEST_ONLY:
        tx.set_status(OutboxStatus.DROPPED, note=DIGEST_ONLY_NOTE)
    elif action in (Action.HOLD, Action.OVER_BUDGET) and desk is not None:
        summary_id = _carry(tx, alert, desk, decision, now)
        if summary_id is None:
            # only when workers' clocks disagree: the alert then goes out on its own
            tx.reserve_send(now)
            return SEND_NOW
        held = action is Action.HOLD
        status = OutboxStatus.SUMMARIZED if held else OutboxStatus.SUPPRESSED
        tx.set_status(status, note=f"carried by summary {summary_id}")
    else:
        # Count the alert against its budget from now on, while it is being sent.
        tx.reserve_send(now)
        return SEND_NOW
    return decision


def _carry(
    tx: SettlementTx, alert: AlertMessage, desk: DeskSpec, decision: Decision, now: datetime
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
    draft = SummaryDraft(
        alert_key=summary.alert_key,
        desk_id=summary.desk_id,
        channel=summary.channel,
        topic_id=summary.topic_id,
        story_key=story,
        payload_json=summary.model_dump_json(),
        due_at=until,
    )

    def add(payload_json: str) -> str:
        current = AlertMessage.model_validate_json(payload_json)
        return with_item(current, alert).model_dump_json()

    return tx.carry_into_summary(draft, now, add)
