"""The operator's health commands: `sources` (every source's state) and `notify test`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flows.cli.commands import EXIT_OK, EXIT_PARTIAL, LINE_MAX, _cut
from flows.settings import load_settings
from monitors.errors import DeliveryError, DeskwatchError
from seeds.loader import bundled_seed_path, load_file
from seeds.models import SourcesFile

if TYPE_CHECKING:
    from alerts.delivery.channels import Channel
    from alerts.models import AlertMessage, DigestSource
    from flows.wiring import Runtime
    from seeds.models import ChannelSpec, DeskSpec, SourceSpec


def list_sources(sources_path: Path | None) -> int:
    """`deskwatch sources`: every source with its health, last success and error, recent items."""
    from alerts.digest.health import source_healths
    from flows.wiring import open_store, resolve_secrets

    sources = load_file(sources_path or bundled_seed_path("sources.yaml"), SourcesFile).sources
    store = open_store(resolve_secrets(load_settings()))
    now = datetime.now(UTC)
    try:
        with store.digest_reads() as reads:
            healths = {h.source_id: h for h in source_healths(reads, sources, now)}
            week = reads.recent_items(now - timedelta(days=7), now)
    finally:
        store.dispose()
    print(
        f"{'source':<26} {'status':<13} {'last success':<17}  {'fails':>5} {'7d':>4}  "
        f"{'next due':<17}  last error"
    )
    for source in sources:
        line = _source_line(source, healths.get(source.id), len(week.get(source.id, [])))
        print(line.rstrip())
    return EXIT_OK


def _source_line(source: SourceSpec, health: DigestSource | None, week: int) -> str:
    """One source: id, status, last success, failures in a row, items in 7 days, next due, why."""
    if health is None:
        return f"{source.id[:26]:<26} {'disabled':<13} {'-':<17}  {0:>5} {week:>4}  {'-':<17}  "
    checked = health.last_checked_at
    # The store keeps no next-due time yet: the last check plus the source's poll interval.
    due = _minute(checked + timedelta(minutes=source.poll_minutes)) if checked else "now"
    line = (
        f"{source.id[:26]:<26} {health.status.value:<13} {_minute(health.last_ok_at):<17}  "
        f"{health.consecutive_failures:>5} {week:>4}  {due:<17}  "
    )
    why = f"{health.reason}: {health.detail}" if health.detail else health.reason
    return line + _cut(why, LINE_MAX - len(line))


def _minute(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment else "-"


def notify_test(desk_id: str, desks_path: Path | None) -> int:
    """`deskwatch notify test --desk ID`: a test message through each of the desk's channels,
    now (no quiet hours, no outbox); one line per channel; 3 when any failed."""
    from flows.wiring import build_runtime, seeds_from

    settings = load_settings()
    seeds = seeds_from(settings, desks=desks_path)
    desk = next((d for d in seeds.desks if d.id == desk_id), None)
    if desk is None:
        known = ", ".join(d.id for d in seeds.desks)
        raise DeskwatchError(f"--desk: unknown desk {desk_id!r} (known: {known})")
    rt = build_runtime(settings, seeds)
    failed = 0
    try:
        now = datetime.now(UTC)
        for channel in desk.channels:
            outcome, ok = _send_test(rt, desk, channel, now)
            failed += not ok
            print(f"{channel.kind.value:<8} {outcome}")
    finally:
        rt.close()
    return EXIT_OK if failed == 0 else EXIT_PARTIAL


def _send_test(rt: Runtime, desk: DeskSpec, spec: ChannelSpec, now: datetime) -> tuple[str, bool]:
    """Send one test message through the channel the desk's alerts would take; what happened."""
    alert = _test_message(desk, spec, now)
    try:
        channel = rt.channel_for(alert)
        channel.send(alert)
    except DeliveryError as exc:
        return "failed: " + " ".join(str(exc).split())[:200], False
    return _where(channel, alert), True


def _test_message(desk: DeskSpec, spec: ChannelSpec, now: datetime) -> AlertMessage:
    """A test notice for one channel of the desk, keyed by the minute it was sent."""
    from alerts.delivery.routing import alert_key
    from alerts.models import AlertMessage, Passage
    from seeds.models import Severity

    story = f"test:{now:%Y-%m-%dT%H:%M:%SZ}"
    return AlertMessage(
        alert_key=alert_key(desk.id, spec.kind, story),
        kind="test",
        desk_id=desk.id,
        desk_name=desk.name,
        channel=spec.kind,
        topic_id="test",
        topic_title="Test",
        severity=Severity.LOW,
        score=0.0,
        headline=f"deskwatch can reach {desk.name} through this channel",
        url="",
        outlet="",
        detected_at=now,
        passages=[Passage(text="Sent by deskwatch notify test; nothing needs doing.")],
        timezone=desk.timezone,
        recipients=list(spec.to),
        webhook=spec.webhook,
    )


def _where(channel: Channel, alert: AlertMessage) -> str:
    """Where a sent test went, in words, never a secret URL."""
    from alerts.delivery.apprise_channel import AppriseChannel
    from alerts.delivery.channels import FileChannel, SlackWebhookChannel, SmtpChannel

    if isinstance(channel, FileChannel):
        return f"written to file {channel.path_for(alert)}"
    if isinstance(channel, SmtpChannel):
        return f"sent to {', '.join(alert.recipients)} by {channel!r}"
    if isinstance(channel, SlackWebhookChannel):
        return f"sent to Slack webhook {alert.webhook or '(default)'}"
    if isinstance(channel, AppriseChannel):
        return f"sent to Apprise target {alert.webhook}"
    return f"sent by {channel!r}"
