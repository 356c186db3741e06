"""Prefect flows: poll every source once and deliver; write the daily digests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo

from prefect import Flow, flow, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from pydantic import BaseModel, WithJsonSchema

from alerts.files import label
from flows.settings import Settings
from flows.tasks import (
    DeliverySummary,
    DigestOutput,
    HealthSummary,
    check_source_task,
    deliver_task,
    digest_task,
    prune_task,
    source_health_task,
)
from flows.wiring import RunInputs, run_adapters
from monitors.errors import DeliveryError, SeedError
from monitors.models import SourceReport, SourceStatus
from monitors.schedule import is_due
from monitors.store import SourceState
from seeds.models import SourceKind, SourceSpec

# A digest day as a deployment parameter: the UI offers the two words or a date. The pattern
# lets the server refuse a typo when a run is created (JSON Schema leaves "format" unchecked).
IsoDate = Annotated[
    date, WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"})
]
Day = Literal["today", "yesterday"] | IsoDate


class PollSummary(BaseModel):
    reports: list[SourceReport]
    delivery: DeliverySummary

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [r for r in self.reports if r.status is SourceStatus.FAILED]


def incomplete_reason(summary: PollSummary) -> str:
    """What went wrong in a poll run ('' when nothing did): failing sources, failed alerts."""
    failed = summary.failed_sources
    parts = []
    if failed:
        names = ", ".join(f"{r.source_id} ({r.reason})" for r in failed)
        parts.append(f"{len(failed)} of {len(summary.reports)} sources failed: {names}")
    if summary.delivery.failed:
        parts.append(f"{summary.delivery.failed} alert(s) could not be delivered")
    return "; ".join(parts)


def sources_markdown(summary: PollSummary) -> str:
    """The per-source table of a poll run, as Markdown for the run's artifact."""
    lines = [
        "| source | status | new | matches | alerts | reason |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in summary.reports:
        cells = [r.source_id, r.status.value, r.items_new, r.matches, r.alerts_queued, r.note[:80]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    d = summary.delivery
    lines.append(f"\nAlerts sent: {d.sent}; to retry: {d.retrying}; failed: {d.failed}.")
    return "\n".join(lines)


@flow(name="poll-sources", log_prints=True)
def poll_sources(
    sources_file: str | None = None,
    topics_file: str | None = None,
    desks_file: str | None = None,
    kinds: list[SourceKind] | None = None,
    deliver: bool = True,
    force: bool = False,
) -> PollSummary:
    """Check every enabled source (of the given kinds; one task each) that is due (all of
    them with `force`), then drain the outbox.

    Publishes the per-source table, "not due (next at …)" for the sources skipped; ends Failed,
    naming the failed sources, when a source or an alert failed; refuses a `kinds` that selects
    no enabled source.
    """
    inputs = RunInputs.fresh(sources_file, topics_file, desks_file)
    with run_adapters(inputs) as rt:
        sources = [s for s in rt.seeds.sources if s.enabled and (not kinds or s.kind in kinds)]
        if not sources:
            wanted = ", ".join(k.value for k in kinds) if kinds else "any kind"
            raise SeedError(f"kinds: no enabled source of {wanted} to poll")
        # Checks go to the flow's task runner (threads, or worker processes that build their
        # own adapters from `inputs`); delivery and pruning run here, once each.
        due, waiting = split_due(sources, rt.store.source_states(), datetime.now(UTC), force)
        futures = check_source_task.map(unmapped(inputs), due) if due else []
        checked = {r.source_id: r for r in (future.result() for future in futures)}
        reports = [checked.get(s.id) or waiting[s.id] for s in sources]
        delivery = (
            deliver_task(inputs)
            if deliver
            else DeliverySummary(sent=0, retrying=0, failed=0, sent_alerts=[], errors=[])
        )
        prune_task(inputs)  # once per poll: keeps the store's size flat under a steady stream
    return _finish(PollSummary(reports=reports, delivery=delivery))


def split_due(
    sources: Sequence[SourceSpec],
    states: Mapping[str, SourceState],
    now: datetime,
    force: bool = False,
) -> tuple[list[SourceSpec], dict[str, SourceReport]]:
    """The sources a run checks (every one with `force`), and a "not due" report for the rest."""
    due: list[SourceSpec] = []
    waiting: dict[str, SourceReport] = {}
    for source in sources:
        state = states.get(source.id)
        next_at = state.next_due_at if state else None
        if force or next_at is None or is_due(next_at, now):
            due.append(source)
        else:
            waiting[source.id] = SourceReport(
                source_id=source.id,
                status=SourceStatus.NOT_DUE,
                detail=f"not due (next at {next_at:%Y-%m-%d %H:%M} UTC)",
                next_due_at=next_at,
            )
    return due, waiting


def _finish(summary: PollSummary) -> PollSummary:
    """Publish the per-source table; the summary, or a Failed state naming what failed."""
    reason = incomplete_reason(summary)
    create_markdown_artifact(
        key="poll-sources",
        markdown=sources_markdown(summary),
        description=reason or _all_ok(summary),
    )
    if not reason:
        return summary
    # A returned state becomes the run's final state, with no traceback in the log; the summary
    # stays its data, for a caller that asks for the state (`return_state=True`).
    return cast(PollSummary, Failed(message=reason, data=summary))


def _all_ok(summary: PollSummary) -> str:
    waiting = sum(r.status is SourceStatus.NOT_DUE for r in summary.reports)
    checked = f"{len(summary.reports) - waiting} sources ok"
    return f"{checked}, {waiting} not due" if waiting else checked


def poll_flow(settings: Settings) -> Flow[..., PollSummary]:
    """`poll_sources` with the task runner the settings choose (DESKWATCH_TASK_RUNNER)."""
    runner: Any  # with_options wants TaskRunner[PrefectFuture], which neither runner's type is
    if settings.task_runner == "process":
        runner = ProcessPoolTaskRunner(max_workers=settings.task_workers)
    elif settings.task_workers:
        runner = ThreadPoolTaskRunner(max_workers=settings.task_workers)
    else:
        return poll_sources
    return poll_sources.with_options(task_runner=runner)


def resolve_day(day: Day | str, timezone: str, now: datetime | None = None) -> date:
    """'today', 'yesterday' (in the desk's timezone), a date or an ISO date."""
    if isinstance(day, date):
        return day
    local_today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    if day == "today":
        return local_today
    if day == "yesterday":
        return local_today - timedelta(days=1)
    return date.fromisoformat(day)


@flow(name="daily-digest", log_prints=True)
def daily_digest(
    day: Day = "yesterday",  # in each desk's timezone; the UI offers both words or a date
    desk: str | None = None,
    sources_file: str | None = None,
    topics_file: str | None = None,
    desks_file: str | None = None,
    email: bool | None = None,  # None: as each desk says (`digest: {email: …}` in desks.yaml)
) -> dict[str, list[str]]:
    """Write, publish (artifact) and email, when asked or the desk wants it, each desk's digest."""
    inputs = RunInputs.fresh(sources_file, topics_file, desks_file)
    outputs: list[DigestOutput] = []
    with run_adapters(inputs) as rt:
        # A desk that follows no topic (an operators' desk) has no digest unless asked by name:
        # the sources it watches are in every other desk's digest.
        desks = [d for d in rt.seeds.desks if d.id == desk or (desk is None and d.topics)]
        if not desks:
            known = ", ".join(d.id for d in rt.seeds.desks)
            raise SeedError(f"unknown desk {desk!r} (known: {known})")
        for d in desks:
            send = d.emails_digest if email is None else email
            outputs.append(digest_task(inputs, d.id, resolve_day(day, d.timezone), send))
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


@flow(name="source-health", log_prints=True)
def source_health(
    sources_file: str | None = None,
    topics_file: str | None = None,
    desks_file: str | None = None,
    deliver: bool = True,
) -> HealthSummary:
    """Tell the operators' desks which sources died or recovered, once each, then deliver."""
    inputs = RunInputs.fresh(sources_file, topics_file, desks_file)
    with run_adapters(inputs) as rt:
        if not any(d.source_health for d in rt.seeds.desks):
            print("source health: no desk has source_health set; nothing to tell")
        summary = source_health_task(inputs)
        delivered = deliver_task(inputs) if deliver else None
    for line in summary.down + summary.up:
        print(f"source health: {line}")
    if delivered is not None and delivered.failed:
        # As a poll run does: the run ends Failed, the failed rows wait in the outbox.
        reason = f"{delivered.failed} alert(s) could not be delivered"
        return cast(HealthSummary, Failed(message=reason, data=summary))
    return summary
