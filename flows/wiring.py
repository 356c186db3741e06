"""Composition root: builds the adapters of one run from settings and seeds."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from alerts.channels import Channel, FileChannel, SlackWebhookChannel, SmtpChannel
from alerts.models import AlertMessage
from alerts.outbox import Outbox
from alerts.routing import plan_alerts
from flows.settings import Settings
from monitors.dedup import DedupPolicy
from monitors.fetch import Fetcher, FetchPolicy
from monitors.match import Matcher
from monitors.models import NewItem, OutboxDraft, StoryNews, TopicMatch
from monitors.store import Store, create_engine
from seeds.loader import load_seeds
from seeds.models import Seeds


def seeds_from(
    settings: Settings,
    sources: Path | None = None,
    topics: Path | None = None,
    desks: Path | None = None,
) -> Seeds:
    """Seeds from explicit paths, else the DESKWATCH_*_FILE settings, else the bundled files."""
    return load_seeds(
        sources or settings.sources_file,
        topics or settings.topics_file,
        desks or settings.desks_file,
    )


def open_store(settings: Settings) -> Store:
    url = settings.state_url.get_secret_value()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Store(create_engine(url))


@dataclass
class Runtime:
    """The live adapters of one run; tasks look it up by key instead of receiving it."""

    settings: Settings
    seeds: Seeds
    store: Store
    fetcher: Fetcher
    matcher: Matcher
    outbox: Outbox
    webhook_client: httpx.Client

    def plan_alerts(
        self, item: NewItem, found: Sequence[TopicMatch], news: StoryNews
    ) -> list[OutboxDraft]:
        return plan_alerts(self.seeds.desks, self.seeds.topics, item, found, news)

    @property
    def dedup(self) -> DedupPolicy:
        """Story clustering, retention and update rate from settings."""
        return dedup_policy(self.settings)

    def channel_for(self, alert: AlertMessage) -> Channel:
        """The configured transport for an alert's channel, else the file channel."""
        settings = self.settings
        if alert.channel == "email" and settings.smtp_url is not None:
            return SmtpChannel(settings.smtp_url.get_secret_value(), settings.smtp_sender)
        webhook = settings.slack_webhook_for(alert.webhook)
        if alert.channel == "slack" and webhook is not None:
            return SlackWebhookChannel(webhook.get_secret_value(), self.webhook_client)
        return FileChannel(settings.outbox_dir)

    def close(self) -> None:
        self.fetcher.close()
        self.webhook_client.close()
        self.store.dispose()


def dedup_policy(settings: Settings) -> DedupPolicy:
    """The story clustering policy the settings ask for."""
    return DedupPolicy(
        threshold=settings.dedup_threshold,
        retention=timedelta(days=settings.retention_days),
        update_interval=timedelta(hours=settings.update_interval_hours),
    )


_RUNTIMES: dict[str, Runtime] = {}
_LOCK = threading.Lock()


def build_runtime(settings: Settings, seeds: Seeds) -> Runtime:
    policy = FetchPolicy(
        timeout_s=settings.fetch_timeout_s,
        max_bytes=settings.max_body_bytes,
        allow_private_networks=settings.allow_private_networks,
    )
    store = open_store(settings)
    return Runtime(
        settings=settings,
        seeds=seeds,
        store=store,
        fetcher=Fetcher(policy),
        matcher=Matcher(seeds.topics),
        outbox=Outbox(store.engine),
        webhook_client=httpx.Client(timeout=settings.fetch_timeout_s),
    )


@contextmanager
def registered_runtime(settings: Settings, seeds: Seeds) -> Iterator[str]:
    """Build a runtime, register it under a fresh key for tasks, close it afterwards."""
    key = uuid.uuid4().hex
    runtime = build_runtime(settings, seeds)
    with _LOCK:
        _RUNTIMES[key] = runtime
    try:
        yield key
    finally:
        with _LOCK:
            _RUNTIMES.pop(key, None)
        runtime.close()


def runtime(key: str) -> Runtime:
    with _LOCK:
        return _RUNTIMES[key]
