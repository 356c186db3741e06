"""Plain typed rows the store hands out, and the outbox statuses. No database types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OutboxStatus(StrEnum):
    """Where an outbox row is in its life (docs/DELIVERY.md says what each one means)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    SUMMARIZED = "summarized"
    DROPPED = "dropped"

    @classmethod
    def final(cls) -> frozenset[OutboxStatus]:
        """Rows nobody will touch again: retention may delete them."""
        return frozenset(cls) - {cls.PENDING, cls.CLAIMED}

    @classmethod
    def waiting(cls) -> tuple[OutboxStatus, ...]:
        """What `deskwatch outbox` lists by default."""
        return (cls.PENDING, cls.CLAIMED, cls.FAILED)

    @classmethod
    def retryable(cls) -> tuple[OutboxStatus, ...]:
        """What an operator may put back in the queue."""
        return (cls.PENDING, cls.FAILED, cls.SUPPRESSED, cls.DROPPED)

    @classmethod
    def droppable(cls) -> tuple[OutboxStatus, ...]:
        """What an operator may drop."""
        return (cls.PENDING, cls.FAILED, cls.SUPPRESSED)


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: str
    last_status: str | None
    last_reason: str | None
    last_detail: str | None
    last_checked_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int
    next_due_at: datetime | None = None
    recent_new: tuple[int, ...] = ()
    body_hash: str | None = None
    feed_refresh_s: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """An outbox row just claimed: the payload is still the stored JSON text."""

    id: int
    token: str
    payload_json: str
    attempts: int


@dataclass(frozen=True, slots=True)
class SummaryDraft:
    """A summary outbox row to create on first use, due when its period ends."""

    alert_key: str
    desk_id: str
    channel: str
    topic_id: str
    story_key: str
    payload_json: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row as an operator sees it."""

    id: int
    status: OutboxStatus
    desk_id: str
    channel: str
    topic_id: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row with what it carries: the stored alert (JSON text) and its key."""

    row: OutboxRow
    alert_key: str
    payload_json: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoryMark:
    """(topic, story key, when): a detection or a sent alert, as the digest counts them."""

    topic_id: str
    story_key: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MatchedItem:
    """One stored copy matched to one topic, with its evidence as stored (JSON text)."""

    item_id: int
    story_key: str
    topic_id: str
    source_id: str
    title: str
    outlet: str
    url: str
    published: datetime | None
    detected_at: datetime
    score: float
    evidence_json: str


@dataclass(frozen=True, slots=True)
class HeldAlert:
    """An alert held for quiet hours (`summarized`): its channel, story and when it was queued."""

    channel: str
    story_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QuietSummary:
    """A quiet-hours summary row: due when quiet hours end; `sent_at` once it went out."""

    channel: str
    status: OutboxStatus
    due_at: datetime
    sent_at: datetime | None
