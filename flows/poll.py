"""Prefect flows: poll every source once and deliver; write the daily digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, unmapped
from pydantic import BaseModel

from flows.settings import load_settings
from flows.tasks import DeliverySummary, check_source_task, deliver_task, digest_task
from flows.wiring import registered_runtime, seeds_from
from monitors.models import SourceReport, SourceStatus


class PollSummary(BaseModel):
    reports: list[SourceReport]
    delivery: DeliverySummary

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [r for r in self.reports if r.status is SourceStatus.FAILED]


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@flow(name="poll-sources", log_prints=True)
def poll_sources(
    sources_file: str | None = None,
    topics_file: str | None = None,
    desks_file: str | None = None,
    kinds: list[str] | None = None,
    deliver: bool = True,
) -> PollSummary:
    """Check every enabled source (of the given kinds; one task each), then drain the outbox."""
    settings = load_settings()
    seeds = seeds_from(settings, _path(sources_file), _path(topics_file), _path(desks_file))
    sources = [s for s in seeds.sources if s.enabled and (not kinds or s.kind.value in kinds)]
    with registered_runtime(settings, seeds) as key:
        futures = check_source_task.map(unmapped(key), sources)
        reports = [future.result() for future in futures]
        delivery = (
            deliver_task(key)
            if deliver
            else DeliverySummary(sent=0, retrying=0, failed=0, sent_alerts=[], errors=[])
        )
    return PollSummary(reports=reports, delivery=delivery)


def resolve_day(day: str, timezone: str, now: datetime | None = None) -> date:
    """'today', 'yesterday' (in the desk's timezone) or an ISO date."""
    local_today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    if day == "today":
        return local_today
    if day == "yesterday":
        return local_today - timedelta(days=1)
    return date.fromisoformat(day)


@flow(name="daily-digest", log_prints=True)
def daily_digest(
    day: str = "yesterday",
    desk: str | None = None,
    sources_file: str | None = None,
    topics_file: str | None = None,
    desks_file: str | None = None,
) -> dict[str, list[str]]:
    """Write each desk's digest for `day` ('today', 'yesterday' or YYYY-MM-DD, desk-local)."""
    settings = load_settings()
    seeds = seeds_from(settings, _path(sources_file), _path(topics_file), _path(desks_file))
    desks = [d for d in seeds.desks if desk is None or d.id == desk]
    if not desks:
        raise ValueError(f"unknown desk {desk!r}")
    written: dict[str, list[str]] = {}
    with registered_runtime(settings, seeds) as key:
        for d in desks:
            written[d.id] = digest_task(key, d.id, resolve_day(day, d.timezone))
    return written
