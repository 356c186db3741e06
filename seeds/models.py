"""Pydantic models for the seed files: what to watch (topics), where (sources), for whom (desks)."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from seeds.rules import parse_rule

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a slug (lowercase letters, digits and '-')")
    return value


Slug = Annotated[str, AfterValidator(_slug)]


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


HttpUrlText = Annotated[str, AfterValidator(_http_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceKind(StrEnum):
    """How a source is read: a feed, or an index page linking to transcript pages."""

    RSS = "rss"
    TRANSCRIPT_PAGE = "transcript_page"
    PODCAST = "podcast"


class SourceSpec(_Strict):
    """One outlet endpoint to poll."""

    id: Slug
    name: str = Field(min_length=1)
    kind: SourceKind
    url: HttpUrlText
    poll_minutes: int = Field(default=15, ge=1, le=24 * 60)
    language: str = Field(default="en", min_length=2, max_length=8)
    fetch_articles: bool = True
    item_link_pattern: str | None = None
    enabled: bool = True

    @field_validator("item_link_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class SourcesFile(_Strict):
    sources: list[SourceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        _reject_duplicates([s.id for s in self.sources], "source")
        return self


class Severity(StrEnum):
    """How much a topic matters, least first; a desk can ask for a minimum."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Position in the order low < medium < high (the order the members are declared in)."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = tuple(Severity)


class FieldWeights(_Strict):
    """How much a term hit counts in each part of a document."""

    title: float = Field(default=3.0, ge=0)
    lead: float = Field(default=2.0, ge=0)
    body: float = Field(default=1.0, ge=0)


TermList = list[str]


def _check_groups(groups: dict[str, TermList]) -> dict[str, TermList]:
    for name, terms in groups.items():
        _slug(name)
        if not terms:
            raise ValueError(f"clause groups.{name}: empty group")
        for index, term in enumerate(terms):
            if not isinstance(term, str) or not term.strip("*= "):
                raise ValueError(f"clause groups.{name}[{index}]: empty term")
    return groups


class TopicSpec(_Strict):
    """A watch topic: named term groups, a rule over them, exclusions, threshold and severity."""

    id: Slug
    title: str = Field(min_length=1)
    description: str = ""
    severity: Severity = Severity.MEDIUM
    threshold: float = Field(default=4.0, ge=0)
    weights: FieldWeights = FieldWeights()
    groups: dict[str, TermList] = Field(default_factory=dict)
    rule: Any
    exclude: list[Any] = Field(default_factory=list)

    @field_validator("groups")
    @classmethod
    def _groups_are_not_empty(cls, value: dict[str, TermList]) -> dict[str, TermList]:
        return _check_groups(value)

    @model_validator(mode="after")
    def _rules_parse(self) -> TopicSpec:
        parse_rule(self.rule, "rule", self.groups)
        for index, clause in enumerate(self.exclude):
            parse_rule(clause, f"exclude[{index}]", self.groups)
        return self


class TopicsFile(_Strict):
    """Topics plus groups shared by all of them (a topic's own group of the same name wins)."""

    groups: dict[str, TermList] = Field(default_factory=dict)
    topics: list[TopicSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _share_groups(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("groups", {}), dict):
            return data
        shared = data.get("groups") or {}
        topics = data.get("topics")
        if isinstance(topics, list):
            data = {
                **data,
                "topics": [
                    {**t, "groups": {**shared, **(t.get("groups") or {})}}
                    if isinstance(t, dict)
                    else t
                    for t in topics
                ],
            }
        return data

    @field_validator("groups")
    @classmethod
    def _groups_are_not_empty(cls, value: dict[str, TermList]) -> dict[str, TermList]:
        return _check_groups(value)

    @model_validator(mode="after")
    def _unique_ids(self) -> TopicsFile:
        _reject_duplicates([t.id for t in self.topics], "topic")
        return self


class ChannelKind(StrEnum):
    """Where a desk reads its alerts: email, a Slack webhook, files (for tests and demos), or any
    service Apprise reaches (Teams, Telegram, Discord, Mattermost, a JSON webhook…)."""

    EMAIL = "email"
    SLACK = "slack"
    FILE = "file"
    APPRISE = "apprise"


class ChannelSpec(_Strict):
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


class QuietHours(_Strict):
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


class AlertBudget(_Strict):
    """Alerts sent at once per topic and channel in each clock hour; the rest go in one summary."""

    per_hour: int = Field(ge=0)
    topics: dict[Slug, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

    def limit(self, topic_id: str) -> int:
        """The hourly limit for one topic: its own, else the desk's."""
        return self.topics.get(topic_id, self.per_hour)


class SourceHealthSpec(_Strict):
    """An operators' desk hears once when a source dies and once when it recovers.

    A source is dead after `after_failures` failed checks in a row, or when its checks succeed
    but no new item came for much longer than usual (the digest's silence rule).
    """

    after_failures: int = Field(default=3, ge=1)


class DigestSettings(_Strict):
    """What happens to the desk's daily digest besides its files: emailed or not."""

    email: bool


class DeskSpec(_Strict):
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


class DesksFile(_Strict):
    desks: list[DeskSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> DesksFile:
        _reject_duplicates([d.id for d in self.desks], "desk")
        return self


class Seeds(_Strict):
    """The validated, cross-checked content of sources.yaml, topics.yaml and desks.yaml."""

    sources: tuple[SourceSpec, ...]
    topics: tuple[TopicSpec, ...]
    desks: tuple[DeskSpec, ...]

    def topic(self, topic_id: str) -> TopicSpec:
        return next(t for t in self.topics if t.id == topic_id)


def _reject_duplicates(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"duplicate {what} id {item_id!r}")
        seen.add(item_id)
