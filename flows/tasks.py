"""Prefect tasks: each wraps exactly one core call and takes plain data (a runtime key, ids)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from alerts.digest import build_digest
from alerts.digest_writer import write_digest
from alerts.outbox import deliver_pending
from flows.wiring import runtime
from monitors.models import SourceReport
from monitors.pipeline import check_source
from seeds.models import SourceSpec


class SentAlert(BaseModel):
    desk_id: str
    channel: str
    to: str
    topic_id: str
    headline: str


class DeliverySummary(BaseModel):
    sent: int
    retrying: int
    failed: int
    sent_alerts: list[SentAlert]
    errors: list[str]


@task(name="check-source", cache_policy=NO_CACHE, task_run_name="check-{source.id}")
def check_source_task(runtime_key: str, source: SourceSpec) -> SourceReport:
    """Fetch, parse, extract, match and record one source."""
    rt = runtime(runtime_key)
    return check_source(source, rt.fetcher, rt.store, rt.matcher, rt.plan_alerts)


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(runtime_key: str) -> DeliverySummary:
    """Drain the outbox once."""
    rt = runtime(runtime_key)
    report = deliver_pending(rt.outbox, rt.channel_for)
    sent = [
        SentAlert(
            desk_id=a.desk_id,
            channel=a.channel,
            to=", ".join(a.recipients) if a.channel == "email" else (a.webhook or a.channel),
            topic_id=a.topic_id,
            headline=a.headline,
        )
        for a in report.sent_alerts
    ]
    return DeliverySummary(
        sent=report.sent,
        retrying=report.retrying,
        failed=report.failed,
        sent_alerts=sent,
        errors=report.errors,
    )


@task(name="write-digest", cache_policy=NO_CACHE, task_run_name="digest-{desk_id}-{day}")
def digest_task(runtime_key: str, desk_id: str, day: date) -> list[str]:
    """Build and atomically write one desk's digest for one local day; return the paths."""
    rt = runtime(runtime_key)
    desk = next(d for d in rt.seeds.desks if d.id == desk_id)
    digest = build_digest(rt.store, desk, rt.seeds.topics, rt.seeds.sources, day, datetime.now(UTC))
    paths = write_digest(digest, rt.settings.digest_dir)
    return [str(paths.md), str(paths.html), str(paths.json)]
