"""Prefect tasks: each wraps exactly one core call and takes plain data (run inputs, ids)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from alerts.delivery.outbox import deliver_pending
from alerts.delivery.source_alerts import queue_source_notices
from alerts.digest.email import email_digest, mailer_for
from alerts.digest.read import build_digest
from alerts.digest.text import summary_line
from alerts.digest.text import title as digest_title
from alerts.digest.writer import RenderedDigest, render_digest, write_rendered
from flows.settings import Settings
from flows.wiring import RunInputs, runtime_for
from monitors.errors import DeliveryError
from monitors.models import SourceReport
from monitors.pipeline import check_source
from seeds.models import DeskSpec, SourceSpec


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
    held: int = 0  # quiet hours: carried by the summary sent when they end
    suppressed: int = 0  # over budget: carried by the topic's burst summary
    dropped: int = 0  # the desk reads only its digest


@task(name="check-source", cache_policy=NO_CACHE, task_run_name="check-{source.id}")
def check_source_task(inputs: RunInputs, source: SourceSpec) -> SourceReport:
    """Fetch, parse, extract, match and record one source."""
    rt = runtime_for(inputs)
    return check_source(
        source,
        rt.fetcher,
        rt.store,
        rt.matcher,
        rt.plan_alerts,
        dedup=rt.dedup,
        polling=rt.settings.poll_policy(),
    )


@task(name="prune-state", cache_policy=NO_CACHE)
def prune_task(inputs: RunInputs) -> dict[str, int]:
    """Drop items, stories and delivered alerts older than the retention window."""
    rt = runtime_for(inputs)
    return rt.store.prune(datetime.now(UTC) - rt.dedup.retention)


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(inputs: RunInputs) -> DeliverySummary:
    """Drain the outbox once, by the desks' rules (quiet hours, budgets, digest-only)."""
    rt = runtime_for(inputs)
    report = deliver_pending(rt.outbox, rt.channel_for, lease=rt.lease, desks=rt.seeds.desks)
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
        held=report.held,
        suppressed=report.suppressed,
        dropped=report.dropped,
    )


class DigestOutput(BaseModel):
    """One written digest: its files, its Markdown (for the artifact) and the email outcome."""

    desk_id: str
    title: str
    summary: str
    paths: list[str]
    markdown: str
    emailed_to: str | None = None  # where the email went (SMTP server or .eml file)
    email_error: str | None = None  # it should have gone and did not
    email_note: str | None = None  # it had nowhere to go


@task(name="write-digest", cache_policy=NO_CACHE, task_run_name="digest-{desk_id}-{day}")
def digest_task(inputs: RunInputs, desk_id: str, day: date, email: bool = False) -> DigestOutput:
    """Build and atomically write one desk's digest for one local day; email it when asked."""
    rt = runtime_for(inputs)
    desk = next(d for d in rt.seeds.desks if d.id == desk_id)
    digest = build_digest(rt.store, desk, rt.seeds.topics, rt.seeds.sources, day)
    rendered = render_digest(digest)  # once: the files, the email and the artifact share it
    paths = write_rendered(rendered, rt.settings.digest_dir)
    output = DigestOutput(
        desk_id=desk_id,
        title=digest_title(digest),
        summary=summary_line(digest),
        paths=[str(paths.md), str(paths.html), str(paths.json)],
        markdown=rendered.markdown,
    )
    return output.model_copy(update=_email_digest(rt.settings, rendered, desk)) if email else output


def _email_digest(settings: Settings, rendered: RenderedDigest, desk: DeskSpec) -> dict[str, str]:
    """Send the digest like the desk's alerts go (SMTP, else a file); the outcome in words."""
    smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    mailer = mailer_for(desk, smtp_url, settings.outbox_dir, settings.fetch_timeout_s)
    if mailer is None:
        return {"email_note": "the desk has no email or file channel"}
    try:
        return {"emailed_to": email_digest(rendered, desk, settings.smtp_sender, mailer)}
    except DeliveryError as exc:
        return {"email_error": str(exc)}


class HealthSummary(BaseModel):
    """What a source-health check queued: one line per source that died or recovered."""

    down: list[str]
    up: list[str]


@task(name="check-source-health", cache_policy=NO_CACHE)
def source_health_task(inputs: RunInputs) -> HealthSummary:
    """Queue a notice for each source that died or recovered since the desks were last told."""
    rt = runtime_for(inputs)
    events = queue_source_notices(rt.store, rt.seeds, datetime.now(UTC))
    return HealthSummary(
        down=[e.headline for e in events if e.kind == "source-down"],
        up=[e.headline for e in events if e.kind == "source-up"],
    )
