"""Desk models: who hears what, on which channels, when (quiet hours, budgets, digests)."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from seeds.base import Severity, Slug, StrictModel, reject_duplicates


class ChannelKind(StrEnum):
    """Where a desk reads its alerts: email, a Slack webhook, files (for tests and demos), or any
    service Apprise reaches (Teams, Telegram, Discord, Mattermost, a JSON webhook…)."""

    EMAIL = "email"
    SLACK = "slack"
    FILE = "file"
    APPRISE = "apprise"


class ChannelSpec(StrictModel):
    """Where a desk's alerts go; transports (SMTP server, webhook URL) come from settings.

    An apprise channel's `target:` names its URL in DESKWATCH_APPRISE_URLS. It is kept in
    `webhook`, the field each alert carries as the name of its destination in settings.
    """

    kind: ChannelKind
    to: list[str] = Field(default_factory=list)
    webhook: Slug | None = None

    @model_validator(mode="before")
    @classmethod
    def _target_is_the_apprise_destination(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        apprise = data.get("kind") == ChannelKind.APPRISE
        if "target" in data and not apprise:
            raise ValueError("'target' names an Apprise URL: only for kind: apprise")
        if apprise and "target" in data and "webhook" in data:
            raise ValueError("an apprise channel names its 'target', not a 'webhook'")
        if apprise and "target" in data:
            data = {k: v for k, v in data.items() if k != "target"} | {"webhook": data["target"]}
        # A dumped spec comes back with `webhook`: accepted, so specs survive a round trip.
        if apprise and not data.get("webhook"):
            raise ValueError("an apprise channel needs a 'target' (its name in settings)")
        return data

    @model_validator(mode="after")
    def _email_needs_recipients(self) -> ChannelSpec:
        if self.kind is ChannelKind.EMAIL and not self.to:
            raise ValueError("an email channel needs at least one address in 'to'")
        for address in self.to:
            if not re.match(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", address):
                raise ValueError(f"{address!r} is not an email address")
        return self

    @property
    def target(self) -> str | None:
        """The Apprise URL's name in settings, for an apprise channel."""
        return self.webhook if self.kind is ChannelKind.APPRISE else None


_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _clock_time(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError(f"{value!r} is not a 24-hour HH:MM time")
    return value


ClockTime = Annotated[str, AfterValidator(_clock_time)]


class QuietHours(StrictModel):
    """Local times between which alerts are held; `start` after `end` wraps past midnight.

    `except` (a Python keyword, hence `except_severity`): alerts of this severity or above are
    sent at once even inside quiet hours.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: ClockTime
    end: ClockTime
    except_severity: Severity | None = Field(default=None, alias="except")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")
        return self

    @property
    def start_time(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def end_time(self) -> time:
        return time.fromisoformat(self.end)

    def lets_through(self, severity: Severity) -> bool:
        """Whether an alert of this severity breaks through the quiet hours."""
        floor = self.except_severity
        return floor is not None and severity.rank >= floor.rank


class AlertBudget(StrictModel):
    """Alerts sent at once per topic and channel in each clock hour; the rest go in one summary."""

    per_hour: int = Field(ge=0)
    topics: dict[Slug, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

    def limit(self, topic_id: str) -> int:
        """The hourly limit for one topic: its own, else the desk's."""
        return self.topics.get(topic_id, self.per_hour)


class SourceHealthSpec(StrictModel):
    """An operators' desk hears once when a source dies and once when it recovers.

    A source is dead after `after_failures` failed checks in a row, or when its checks succeed
    but no new item came for much longer than usual (the digest's silence rule).
    """

    after_failures: int = Field(default=3, ge=1)


class DigestSettings(StrictModel):
    """What happens to the desk's daily digest besides its files: emailed or not."""

    email: bool


class DeskSpec(StrictModel):
    """A news desk: the topics it follows, the channels it reads and when it wants to hear.

    An operators' desk (`source_health`) may follow no topic at all.
    """

    id: Slug
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    topics: list[Slug] = Field(default_factory=list)
    min_score: float = Field(default=0.0, ge=0)
    min_severity: Severity | None = None
    mode: Literal["immediate", "digest-only"] = "immediate"
    quiet_hours: QuietHours | None = None
    budget: AlertBudget | None = None
    channels: list[ChannelSpec] = Field(min_length=1)
    source_health: SourceHealthSpec | None = None  # `true` for the defaults
    digest: DigestSettings | None = None  # None: emailed when the desk reads only its digest

    @field_validator("source_health", mode="before")
    @classmethod
    def _flag_means_defaults(cls, value: Any) -> Any:
        if value is True:
            return {}
        return None if value is False else value

    @property
    def emails_digest(self) -> bool:
        """Whether the scheduled digest is emailed: as the desk says, else if it is all it reads."""
        return self.digest.email if self.digest is not None else self.mode == "digest-only"

    @model_validator(mode="after")
    def _follows_something(self) -> DeskSpec:
        if not self.topics and self.source_health is None:
            raise ValueError("topics: a desk follows at least one topic (or source_health)")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _one_apprise_channel(self) -> DeskSpec:
        # An alert's key is (desk, channel kind, topic, story): a second apprise channel's alerts
        # would share the first one's keys and never be queued.
        if sum(c.kind is ChannelKind.APPRISE for c in self.channels) > 1:
            raise ValueError("channels: at most one apprise channel per desk")
        return self

    @model_validator(mode="after")
    def _budget_names_followed_topics(self) -> DeskSpec:
        if self.budget is not None:
            for topic_id in self.budget.topics:
                if topic_id not in self.topics:
                    raise ValueError(f"budget.topics: {topic_id!r} is not one of the desk's topics")
        return self


class DesksFile(StrictModel):
    desks: list[DeskSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> DesksFile:
        reject_duplicates([d.id for d in self.desks], "desk")
        return self
