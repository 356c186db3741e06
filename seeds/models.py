"""Seed models: what to watch (topics), where (sources); desks are in seeds.desks."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from seeds.base import HttpUrlText, Severity, Slug, StrictModel, check_slug, reject_duplicates
from seeds.desks import (
    AlertBudget,
    ChannelKind,
    ChannelSpec,
    DesksFile,
    DeskSpec,
    DigestSettings,
    QuietHours,
    SourceHealthSpec,
)
from seeds.rules import parse_rule


class SourceKind(StrEnum):
    """How a source is read: a feed, or an index page linking to transcript pages."""

    RSS = "rss"
    TRANSCRIPT_PAGE = "transcript_page"
    PODCAST = "podcast"


class SourceSpec(StrictModel):
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


class SourcesFile(StrictModel):
    sources: list[SourceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        reject_duplicates([s.id for s in self.sources], "source")
        return self


class FieldWeights(StrictModel):
    """How much a term hit counts in each part of a document."""

    title: float = Field(default=3.0, ge=0)
    lead: float = Field(default=2.0, ge=0)
    body: float = Field(default=1.0, ge=0)


TermList = list[str]


def _check_groups(groups: dict[str, TermList]) -> dict[str, TermList]:
    for name, terms in groups.items():
        check_slug(name)
        if not terms:
            raise ValueError(f"clause groups.{name}: empty group")
        for index, term in enumerate(terms):
            if not isinstance(term, str) or not term.strip("*= "):
                raise ValueError(f"clause groups.{name}[{index}]: empty term")
    return groups


class TopicSpec(StrictModel):
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


class TopicsFile(StrictModel):
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
        reject_duplicates([t.id for t in self.topics], "topic")
        return self


class Seeds(StrictModel):
    """The validated, cross-checked content of sources.yaml, topics.yaml and desks.yaml."""

    sources: tuple[SourceSpec, ...]
    topics: tuple[TopicSpec, ...]
    desks: tuple[DeskSpec, ...]

    def topic(self, topic_id: str) -> TopicSpec:
        return next(t for t in self.topics if t.id == topic_id)


__all__ = [
    "AlertBudget",
    "ChannelKind",
    "ChannelSpec",
    "DeskSpec",
    "DesksFile",
    "DigestSettings",
    "FieldWeights",
    "QuietHours",
    "Seeds",
    "Severity",
    "SourceHealthSpec",
    "SourceKind",
    "SourceSpec",
    "SourcesFile",
    "TopicSpec",
    "TopicsFile",
]
