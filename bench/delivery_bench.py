"""Delivery throughput: alerts a second through the outbox to a local SMTP server and webhook.

Each figure is the median of five drains of 200 fresh alerts (after one warm-up drain) from a
SQLite outbox: claim, decide, send, mark sent. The webhook figure is unpaced; with the default
pacing a webhook takes about one message a second after a burst of ten, by design.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from alerts.delivery.channels import Channel, SlackWebhookChannel, SmtpChannel
from alerts.delivery.outbox import DeliveryReport, Outbox, deliver_pending
from alerts.models import AlertMessage
from flows.local.sinks import SlackWebhookSink, SmtpSink
from flows.settings import Settings
from monitors.models import OutboxDraft
from monitors.store import Store, create_engine
from seeds.models import ChannelKind, Severity

ALERTS = 200
REPEATS = 5
SENDER = "deskwatch <alerts@deskwatch.localhost>"


class _Discard:
    """A channel that takes every alert and does nothing: the outbox's own cost."""

    def send(self, alert: AlertMessage) -> None:
        return None


def _queue(store: Store, channel: ChannelKind, count: int) -> None:
    """`count` alerts for one desk and channel, queued in one transaction."""
    now = datetime.now(UTC)
    drafts: list[OutboxDraft] = []
    for n in range(count):
        story = f"https://wire.example/bench/{n}"
        alert = AlertMessage(
            alert_key=f"bench-desk|{channel}|{story}",
            desk_id="bench-desk",
            desk_name="Bench desk",
            channel=channel,
            topic_id="arms-transfers",
            topic_title="Arms transfers",
            severity=Severity.HIGH,
            score=6.0,
            headline=f"North Korean shells reach the front, report {n}",
            url=story,
            outlet="Bench Wire",
            detected_at=now,
            recipients=["bench-desk@newsroom.example"],
        )
        payload = alert.model_dump_json()
        draft = OutboxDraft(
            alert.alert_key, "bench-desk", channel, "arms-transfers", story, payload
        )
        drafts.append(draft)
    store.outbox.queue(drafts, now)


def _rate(directory: Path, channel: ChannelKind, make: Callable[[], Channel]) -> dict[str, float]:
    """Median seconds to drain ALERTS fresh alerts through one channel, and alerts a second."""
    times: list[float] = []
    for run in range(REPEATS + 1):
        store = Store(create_engine(f"sqlite:///{directory / f'{channel}-{run}.db'}"))
        _queue(store, channel, ALERTS)
        started = time.perf_counter()
        report = _drain(store, make())
        elapsed = time.perf_counter() - started
        store.dispose()
        if report.sent != ALERTS:
            raise RuntimeError(f"{channel}: sent {report.sent} of {ALERTS}: {report.errors[:1]}")
        if run:  # the first drain warms caches and imports
            times.append(elapsed)
    median = statistics.median(times)
    return {"alerts": ALERTS, "median_s": round(median, 3), "alerts_per_s": round(ALERTS / median)}


def _drain(store: Store, target: Channel) -> DeliveryReport:
    return deliver_pending(Outbox(store.outbox), lambda _alert: target)


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="deskwatch-bench-") as tmp,
        SmtpSink() as smtp,
        SlackWebhookSink() as slack,
        httpx.Client(timeout=10) as client,
    ):
        directory = Path(tmp)
        figures["outbox_only"] = _rate(directory, ChannelKind.FILE, _Discard)
        figures["smtp"] = _rate(directory, ChannelKind.EMAIL, lambda: SmtpChannel(smtp.url, SENDER))
        figures["webhook_unpaced"] = _rate(
            directory, ChannelKind.SLACK, lambda: SlackWebhookChannel(slack.url, client)
        )
    defaults = Settings.model_fields
    figures["webhook_paced_rate_per_s"] = defaults["slack_rate_per_s"].default
    figures["webhook_paced_burst"] = defaults["slack_burst"].default
    for name in ("outbox_only", "smtp", "webhook_unpaced"):
        f = figures[name]
        print(
            f"   {name:<16} {f['alerts_per_s']:>6} alerts/s  ({f['alerts']} in {f['median_s']} s)"
        )
    return figures
