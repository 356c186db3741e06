"""The alert and digest values every renderer and channel works from."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Passage(_Frozen):
    """A matched passage; highlights are [start, end) spans relative to `text`."""

    text: str
    highlights: list[tuple[int, int]] = Field(default_factory=list)


class OtherOutlet(_Frozen):
    outlet: str
    url: str


class AlertMessage(_Frozen):
    """One alert for one desk about one story and topic: everything a renderer needs."""

    alert_key: str  # "desk|channel|topic|story" — unique; seeds the email Message-ID
    desk_id: str
    desk_name: str
    channel: str  # email | slack | file
    topic_id: str
    topic_title: str
    severity: str
    score: float
    headline: str
    url: str
    outlet: str
    published: datetime | None = None
    detected_at: datetime
    passages: list[Passage] = Field(default_factory=list)
    also_reported_by: list[OtherOutlet] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)  # email addresses, when channel is email
    webhook: str | None = None  # named Slack webhook, when channel is slack


class DigestStory(_Frozen):
    headline: str
    url: str
    outlet: str
    published: datetime | None = None
    score: float
    passages: list[Passage] = Field(default_factory=list)
    also_reported_by: list[OtherOutlet] = Field(default_factory=list)
    alerted: bool = False


class DigestTopic(_Frozen):
    topic_id: str
    title: str
    stories: list[DigestStory] = Field(default_factory=list)


class DigestSource(_Frozen):
    """A source's health for the day: failed or silent sources are listed with the reason."""

    source_id: str
    name: str
    status: str  # ok | not-modified | failed | never-checked
    reason: str = ""
    last_ok_at: datetime | None = None


class Digest(_Frozen):
    """One desk's digest for one local day (the JSON file is this model, dumped)."""

    schema_version: int = 1
    desk_id: str
    desk_name: str
    date: date
    timezone: str
    generated_at: datetime
    topics: list[DigestTopic] = Field(default_factory=list)
    sources: list[DigestSource] = Field(default_factory=list)
    alerts_sent: int = 0
