"""Prefect flows: poll every source once and deliver; write the daily digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, unmapped
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel

from alerts.files import label
from flows.settings import load_settings
from flows.tasks import (
    DeliverySummary,
    DigestOutput,
    check_source_task,
    deliver_task,
    digest_task,
    prune_task,
)
from flows.wiring import registered_runtime, seeds_from
from monitors.errors import DeliveryError, SeedError
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
        prune_task(key)  # once per poll: keeps the store's size flat under a steady stream
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
    day: str = "yesterday",  # "today", "yesterday" or YYYY-MM-DD, in each desk's timezone
    desk: str | None = None,
    sources_file: str | None = None,
    topics_file: str | None = None,
    desks_file: str | None = None,
    email: bool = False,
) -> dict[str, list[str]]:
    """Write, publish (artifact) and optionally email each desk's digest for `day` (desk-local)."""
    settings = load_settings()
    seeds = seeds_from(settings, _path(sources_file), _path(topics_file), _path(desks_file))
    desks = [d for d in seeds.desks if desk is None or d.id == desk]
    if not desks:
        known = ", ".join(d.id for d in seeds.desks)
        raise SeedError(f"unknown desk {desk!r} (known: {known})")
    outputs: list[DigestOutput] = []
    with registered_runtime(settings, seeds) as key:
        for d in desks:
            outputs.append(digest_task(key, d.id, resolve_day(day, d.timezone), email))
            _publish(outputs[-1])
    failed = [f"{o.desk_id}: {o.email_error}" for o in outputs if o.email_error]
    if failed:  # after every digest is written: the files are there, the run shows the failure
        raise DeliveryError("digest email not sent: " + "; ".join(failed))
    return {o.desk_id: o.paths for o in outputs}


def _publish(out: DigestOutput) -> None:
    """The digest as a Markdown artifact (Prefect UI, Artifacts page) and a line in the log."""
    create_markdown_artifact(
        key=f"digest-{label(out.desk_id)}",
        markdown=out.markdown,
        description=f"{out.title}. {out.summary}",
    )
    note = f"; emailed: {out.emailed_to}" if out.emailed_to else ""
    note += f"; not emailed: {out.email_note}" if out.email_note else ""
    print(f"digest {out.desk_id}: {out.paths[0]}{note}")
