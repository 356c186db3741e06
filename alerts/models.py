"""The alert and digest values every renderer and channel works from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitors.models import SourceStatus
from seeds.models import ChannelKind, Severity


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


NOTICE_KINDS = frozenset({"source-down", "source-up", "test"})  # about the service, not a story


class Passage(_Frozen):
    """A matched passage; highlights are [start, end) spans relative to `text`."""

    text: str
    highlights: list[tuple[int, int]] = Field(default_factory=list)


class OtherOutlet(_Frozen):
    outlet: str
    url: str


class TopicHit(_Frozen):
    """One topic a story matched that the desk follows, with the evidence for it."""

    topic_id: str
    title: str
    severity: Severity
    score: float
    passages: list[Passage] = Field(default_factory=list)


class Change(_Frozen):
    """What makes an update: a new material fact, beside the story's earlier figures for it."""

    fact: str  # "3,000 casualties"
    earlier: list[str] = Field(default_factory=list)  # ["1,200 casualties"]; empty: a new noun


class SummaryItem(_Frozen):
    """One alert carried by a summary instead of being sent on its own."""

    alert_key: str
    topic_id: str
    topic_title: str
    severity: Severity
    score: float
    headline: str
    url: str
    outlet: str
    detected_at: datetime
    other_topics: list[str] = Field(default_factory=list)  # titles of the story's other topics


class AlertMessage(_Frozen):
    """One alert for one desk about one story: everything a renderer needs.

    The top-level topic fields are the leading topic's (highest severity, then score), so policy,
    budgets and summaries read one topic; `topics` names all of them. Payloads stored before
    `topics`, `timezone` and `changes` existed still parse: see `hits()`.
    """

    alert_key: str  # "desk|channel|story" (+ "|update-N") — unique; seeds the Message-ID
    # An update follows an alert about the same story; a summary carries alerts held back by
    # quiet hours or a budget (`summary_of`), listed in `items`. The notice kinds tell an
    # operators' desk that a source died or recovered, or test a desk's channels.
    kind: Literal["new", "update", "summary", "source-down", "source-up", "test"] = "new"
    desk_id: str
    desk_name: str
    channel: ChannelKind
    topic_id: str
    topic_title: str
    severity: Severity
    score: float
    headline: str
    url: str
    outlet: str
    published: datetime | None = None
    detected_at: datetime
    passages: list[Passage] = Field(default_factory=list)
    topics: list[TopicHit] = Field(default_factory=list)  # every matched topic, leading first
    changes: list[Change] = Field(default_factory=list)  # an update's new facts
    timezone: str = "UTC"  # the desk's IANA timezone: messages show times in it
    also_reported_by: list[OtherOutlet] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)  # email addresses, when channel is email
    webhook: str | None = None  # named Slack webhook, when channel is slack
    summary_of: Literal["burst", "quiet-hours"] | None = None
    items: list[SummaryItem] = Field(default_factory=list)
    more_items: int = Field(default=0, ge=0)  # carried alerts beyond those listed in `items`

    def hits(self) -> list[TopicHit]:
        """Every topic of the message, leading first; the top-level one for older payloads."""
        if self.topics:
            return list(self.topics)
        return [
            TopicHit(
                topic_id=self.topic_id,
                title=self.topic_title,
                severity=self.severity,
                score=self.score,
                passages=list(self.passages),
            )
        ]


class DigestPassage(Passage):
    """A matched passage; for transcripts, the `Starting point is` time and a link to it."""

    timestamp: str | None = Field(
        default=None, description="HH:MM:SS of the transcript line, when the passage has one"
    )
    timestamp_url: str | None = Field(
        default=None, description="the story URL with `#t=HH:MM:SS`, when there is a timestamp"
    )


class DigestCopy(_Frozen):
    """Another outlet's copy of a story ("also reported by")."""

    outlet: str
    url: str
    headline: str
    published: datetime | None = None
    detected_at: datetime


class DigestTag(_Frozen):
    """A topic of the desk that a story matched, with the best score of its copies for it."""

    topic_id: str
    title: str
    severity: Severity
    score: float = Field(description="the best match score of the story's copies for this topic")


class DigestStory(_Frozen):
    """One story (items sharing a story key), listed once under its leading topic."""

    story_key: str
    headline: str
    url: str
    outlet: str
    source_id: str
    published: datetime | None = None
    detected_at: datetime = Field(description="when the leading copy was first seen")
    first_seen_at: datetime = Field(
        description="earliest detection of any copy; before the day means a continuing story"
    )
    score: float = Field(description="the best match score for the leading topic")
    outlets: int = Field(ge=1, description="distinct outlets that carried the story")
    items: int = Field(ge=1, description="copies of the story matched to any of the desk's topics")
    transcript: bool = Field(default=False, description="the leading copy is a transcript")
    topics: list[DigestTag] = Field(
        default_factory=list,
        description="every topic of the desk the story matched, the leading topic first "
        "(highest severity, then highest score), then the others in the same order",
    )
    passages: list[DigestPassage] = Field(default_factory=list)
    also_reported_by: list[DigestCopy] = Field(default_factory=list)
    alerted: bool = Field(
        default=False,
        description="a sent alert of the desk (any topic, any channel) has the story's key, "
        "sent before the end of the day",
    )


class DigestVolumePoint(_Frozen):
    """Stories with a new matched item on one desk-local day."""

    date: date
    stories: int = Field(ge=0)


class DigestTopic(_Frozen):
    """One watched topic: the stories it leads, ranked, its counts and its 14-day volume."""

    topic_id: str
    title: str
    severity: Severity = Severity.MEDIUM
    stories: list[DigestStory] = Field(
        default_factory=list, description="the day's stories whose leading topic this is"
    )
    matched_stories: int = Field(
        default=0,
        ge=0,
        description="the day's stories tagged with this topic, including those listed under "
        "another (leading) topic",
    )
    alerts_sent: int = Field(
        default=0, ge=0, description="the desk's sent outbox rows with this topic, sent that day"
    )
    average_7d: float = Field(
        default=0.0, ge=0, description="mean stories per day over the 7 days before the day"
    )
    volume: list[DigestVolumePoint] = Field(
        default_factory=list, description="the 14 desk-local days ending with the digest day"
    )
    suppressed_duplicates: int = Field(
        default=0, ge=0, description="items of the day whose story already had an earlier item"
    )
    suppressed_over_budget: int = Field(
        default=0,
        ge=0,
        description="the desk's outbox rows for this topic created during the day with status "
        "`suppressed` (alerts a budget held back and carried by a burst summary)",
    )


class DigestSource(_Frozen):
    """A source's health: failed and silent sources are listed in the digest with the reason."""

    source_id: str
    name: str
    kind: str = ""
    status: SourceStatus
    reason: str = Field(default="", description="failure reason code, or why it counts as silent")
    detail: str = ""
    last_checked_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_item_at: datetime | None = Field(default=None, description="latest new item detected")
    consecutive_failures: int = 0
    silent_after_hours: float | None = Field(
        default=None, description="no new item for longer than this counts as silent"
    )


class DigestRelease(_Frozen):
    """Alerts held for quiet hours and the summary that carries them when quiet hours end."""

    at: datetime | None = Field(
        description="when the quiet-hours summary goes out (its due time) or went out (sent); "
        "null when no summary row was found"
    )
    sent: bool = Field(default=False, description="the summary went out (on every channel)")
    alerts: int = Field(ge=0, description="held alerts (outbox rows, one per channel)")
    stories: int = Field(ge=0, description="distinct stories among them")


class DigestSummary(_Frozen):
    """The numbers at the top of the digest."""

    stories: int = Field(default=0, ge=0, description="distinct stories, each listed once")
    items: int = Field(default=0, ge=0, description="matched items detected during the day")
    alerts_sent: int = Field(
        default=0,
        ge=0,
        description="messages sent to the desk during the day: its sent outbox rows, one per "
        "channel and message, summaries included",
    )
    alerted_stories: int = Field(
        default=0, ge=0, description="listed stories with a sent alert of the desk"
    )
    average_7d: float = Field(
        default=0.0, ge=0, description="mean distinct stories per day over the previous 7 days"
    )
    suppressed_duplicates: int = Field(
        default=0, ge=0, description="distinct items counted as duplicates under any topic"
    )
    suppressed_over_budget: int = Field(
        default=0,
        ge=0,
        description="the desk's outbox rows created during the day with status `suppressed`",
    )
    held_for_quiet_hours: int = Field(
        default=0,
        ge=0,
        description="the desk's outbox rows created during the day with status `summarized`: "
        "alerts held for quiet hours, carried by a quiet-hours summary",
    )
    quiet_releases: list[DigestRelease] = Field(
        default_factory=list,
        description="when the held alerts go out, one entry per quiet-hours summary time",
    )
    alerts_waiting: int = Field(
        default=0,
        ge=0,
        description="the desk's alerts created during the day still pending or failed",
    )
    digest_only: bool = Field(
        default=False, description="the desk reads only its digest: no alert is ever sent"
    )
    sources_failed: int = Field(default=0, ge=0)
    sources_silent: int = Field(default=0, ge=0)


class Digest(_Frozen):
    """One desk's digest for one desk-local day (the JSON file is this model, dumped)."""

    schema_version: Literal[3] = 3
    desk_id: str
    desk_name: str
    date: date
    timezone: str
    window_start: datetime = Field(description="start of the desk-local day (inclusive)")
    window_end: datetime = Field(description="end of the desk-local day (exclusive)")
    data_as_of: datetime | None = Field(
        default=None,
        description="latest source check, item or alert in the store, capped at window_end; "
        "derived from the data so that regenerating a day gives identical files",
    )
    summary: DigestSummary = Field(default_factory=DigestSummary)
    volume: list[DigestVolumePoint] = Field(
        default_factory=list, description="distinct stories per day, all topics, 14 days"
    )
    topics: list[DigestTopic] = Field(default_factory=list)
    sources: list[DigestSource] = Field(default_factory=list)
