"""Typed values that flow through one poll cycle: fetched bodies, feed items, documents, matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from seeds.models import ChannelKind, Severity


class FetchStatus(StrEnum):
    """Closed set of fetch outcomes."""

    OK = "ok"
    NOT_MODIFIED = "not-modified"
    SOFT = "soft"  # transient: timeout, connection refused, 5xx, 429 — try again next run
    HARD = "hard"  # will not fix itself: 4xx, too large, blocked address, bad URL


class FetchReason(StrEnum):
    """Why a fetch or a check ended as it did: fixed, low-cardinality, kept on the source."""

    OK = "ok"
    NOT_MODIFIED = "not-modified"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect-error"
    DNS_ERROR = "dns-error"
    TLS_ERROR = "tls-error"
    HTTP_4XX = "http-4xx"
    HTTP_5XX = "http-5xx"
    RATE_LIMITED = "rate-limited"
    TOO_LARGE = "too-large"
    BLOCKED_ADDRESS = "blocked-address"
    BAD_URL = "bad-url"
    PROTOCOL_ERROR = "protocol-error"
    BAD_FEED = "bad-feed"  # fetched, but the body is not a feed and yielded no items


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered per source for conditional GETs."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one GET produced, success or failure, never an exception."""

    status: FetchStatus
    url: str
    reason: FetchReason = FetchReason.OK
    detail: str = ""
    final_url: str = ""
    status_code: int | None = None
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    validators: Validators = Validators()


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed (or one link of a transcript index), as our own typed value."""

    key: str  # stable identity within the source: GUID, else canonical link
    url: str
    title: str
    summary: str = ""
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    items: tuple[FeedItem, ...]
    title: str = ""
    malformed: str | None = None  # feedparser's bozo reason, kept when items were still found
    refresh: timedelta | None = None  # the feed's own hint: <ttl> or sy:updatePeriod/Frequency


@dataclass(frozen=True, slots=True)
class Document:
    """Text to match: the title and the extracted main text of an article or transcript."""

    title: str
    body: str

    @property
    def text(self) -> str:
        """The matched text; evidence offsets point into it."""
        return f"{self.title}\n\n{self.body}" if self.body else self.title


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence-level passage that fired, with offsets into Document.text."""

    text: str
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...] = ()  # term spans relative to `text`


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic: str
    score: float
    severity: Severity
    evidence: tuple[Evidence, ...]
    clauses: tuple[str, ...] = ()  # the parts of the topic's rule that held


class SourceStatus(StrEnum):
    """A source's health: the outcome of its last check, or what the digest makes of it."""

    OK = "ok"
    NOT_MODIFIED = "not-modified"
    FAILED = "failed"
    SILENT = "silent"  # checks succeed but no new item for longer than usual (digest only)
    NEVER_CHECKED = "never-checked"  # no check stored yet (digest only)
    NOT_DUE = "not-due"  # skipped by this run: its next check is later (run reports only)

    @property
    def healthy(self) -> bool:
        """The last check worked and nothing else is wrong."""
        return self in HEALTHY


HEALTHY = frozenset({SourceStatus.OK, SourceStatus.NOT_MODIFIED})


class SourceReport(BaseModel):
    """What checking one source did; a failure is a status with a reason, never an exception."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    status: SourceStatus
    reason: FetchReason = FetchReason.OK
    detail: str = ""
    items_in_feed: int = 0
    items_new: int = 0
    items_catalogued: int = 0  # of the new: a first poll's back catalogue, recorded unalerted
    items_failed: int = 0
    matches: int = 0
    alerts_queued: int = 0
    elapsed_s: float = 0.0
    checked_at: datetime | None = None
    next_due_at: datetime | None = None  # when the source is checked next

    @property
    def note(self) -> str:
        """The reason column of a run's table: empty for a healthy check."""
        if self.status is SourceStatus.NOT_DUE:
            return self.detail  # "not due (next at …)"
        return "" if self.status.healthy else f"{self.reason}: {self.detail}"


@dataclass(frozen=True, slots=True)
class PollMemo:
    """What the next check needs from this one: when it is due, the publishing history, the
    body's hash (for servers that ignore conditional GET) and the feed's own refresh hint."""

    next_due_at: datetime
    recent_new: tuple[int, ...] = ()
    body_hash: str | None = None
    feed_refresh_s: int | None = None


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item seen for the first time, ready to be recorded with its matches."""

    source_id: str
    item_key: str
    url: str
    canonical_url: str
    title: str
    outlet: str
    published: datetime | None
    detected_at: datetime
    fingerprint: str
    story_key: str


@dataclass(frozen=True, slots=True)
class OutboxDraft:
    """An alert to queue; the payload is opaque JSON the alert channels understand."""

    alert_key: str
    desk_id: str
    channel: ChannelKind
    topic_id: str
    story_key: str
    payload_json: str
    kind: str = "new"  # "update": queued only when the desk was already told the story


@dataclass(frozen=True, slots=True)
class FactChange:
    """A material fact a later copy states, beside the story's earlier figures for its noun."""

    fact: str  # as the copy wrote it: "3,000 casualties"
    earlier: tuple[str, ...] = ()  # e.g. ("1,200 casualties",); empty for a new noun


@dataclass(frozen=True, slots=True)
class StoryNews:
    """What a new copy means for its story, as the alert planner needs it."""

    # (desk, channel) pairs told the story already, whatever form their alert keys have
    told: frozenset[tuple[str, str]] = frozenset()
    update: int = 0  # number of the update this copy may send; 0 when it may not
    changes: tuple[FactChange, ...] = ()  # the material facts that make it an update
    others: tuple[tuple[str, str], ...] = ()  # (outlet, url) of earlier copies
