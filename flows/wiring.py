"""Composition root: builds the adapters of one run from settings and seeds, once per process."""

from __future__ import annotations

import atexit
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from alerts.delivery.apprise_channel import AppriseChannel
from alerts.delivery.channels import (
    Channel,
    EmailTransport,
    FileChannel,
    SlackWebhookChannel,
    SmtpChannel,
    email_transport,
)
from alerts.delivery.outbox import Outbox
from alerts.delivery.pacing import Pacer
from alerts.delivery.routing import plan_alerts
from alerts.models import AlertMessage
from flows.settings import SECRET_BLOCK_PREFIX, Settings, load_settings
from monitors.dedup import DedupPolicy
from monitors.errors import DeliveryError, SettingsError, StoreError
from monitors.fetch import Fetcher, FetchPolicy
from monitors.match import Matcher
from monitors.models import NewItem, OutboxDraft, StoryNews, TopicMatch
from monitors.store import Store
from monitors.store import open_store as open_database
from seeds.loader import load_seeds
from seeds.models import ChannelKind, Seeds


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


def resolve_secrets(settings: Settings) -> Settings:
    """Settings with each `secret-block:NAME` value replaced by that Prefect Secret block's."""
    updates: dict[str, object] = {}
    for name in ("state_url", "smtp_url", "slack_webhook_url", "operator_webhook_url"):
        value = getattr(settings, name)
        if value is not None and _is_reference(value):
            updates[name] = _secret_block(value, f"DESKWATCH_{name.upper()}")
    for name in ("slack_webhooks", "apprise_urls"):
        named: dict[str, SecretStr] = getattr(settings, name)
        if any(_is_reference(v) for v in named.values()):
            updates[name] = {
                k: _secret_block(v, f"DESKWATCH_{name.upper()}[{k}]") if _is_reference(v) else v
                for k, v in named.items()
            }
    state_url = updates.get("state_url")
    if isinstance(state_url, SecretStr) and not state_url.get_secret_value().startswith(
        ("sqlite:", "postgresql")
    ):
        raise SettingsError("DESKWATCH_STATE_URL: the Secret block holds no database URL")
    return settings.model_copy(update=updates) if updates else settings


def _is_reference(value: SecretStr) -> bool:
    return value.get_secret_value().startswith(SECRET_BLOCK_PREFIX)


def _secret_block(reference: SecretStr, setting: str) -> SecretStr:
    """The text a Prefect Secret block holds; errors name the setting and block, not values."""
    name = reference.get_secret_value().removeprefix(SECRET_BLOCK_PREFIX).strip()
    if not name:
        raise SettingsError(f"{setting}: {SECRET_BLOCK_PREFIX} needs a block name")
    from prefect.blocks.system import Secret  # only runs that name a block talk to Prefect

    try:
        block = Secret.load(name)  # runs are synchronous: this is the blocking form
        value = block.get() if isinstance(block, Secret) else None
    except Exception as exc:
        # A missing block, an unreachable API, a wrong block type: all one configuration error.
        reason = type(exc).__name__
        raise SettingsError(
            f"{setting}: Prefect Secret block {name!r} not loaded ({reason})"
        ) from None
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{setting}: Prefect Secret block {name!r} holds no text")
    return SecretStr(value)


def open_store(settings: Settings) -> Store:
    url = settings.state_url.get_secret_value()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"database: cannot create {folder}: {exc.strerror or exc}") from None
    return open_database(url)


_CHANNEL_LOCK = threading.Lock()


@dataclass
class Runtime:
    """The live adapters of one run in one process; tasks get it from `runtime_for`."""

    settings: Settings
    seeds: Seeds
    store: Store
    fetcher: Fetcher
    matcher: Matcher
    outbox: Outbox
    webhook_client: httpx.Client
    channels: dict[tuple[str, str], Channel] = field(default_factory=dict, repr=False)

    def plan_alerts(
        self, item: NewItem, found: Sequence[TopicMatch], news: StoryNews
    ) -> list[OutboxDraft]:
        return plan_alerts(self.seeds.desks, self.seeds.topics, item, found, news)

    @property
    def dedup(self) -> DedupPolicy:
        """Story clustering, retention and update rate from settings."""
        return dedup_policy(self.settings)

    def channel_for(self, alert: AlertMessage) -> Channel:
        """The configured transport for an alert's channel, else the file channel.

        One channel per transport and run: a Slack webhook's pacing spans all its alerts.
        """
        settings = self.settings
        smtp_url = settings.smtp_url
        smtp = email_transport(alert.recipients, smtp_url is not None) is EmailTransport.SMTP
        if alert.channel is ChannelKind.EMAIL and smtp and smtp_url is not None:
            return self._cached(
                ("email", ""),
                lambda: SmtpChannel(smtp_url.get_secret_value(), settings.smtp_sender),
            )
        webhook = settings.slack_webhook_for(alert.webhook)
        if alert.channel is ChannelKind.SLACK and webhook is not None:
            url = webhook.get_secret_value()
            # Keyed by URL, not by name: Slack limits each webhook, whatever desks share it.
            return self._cached(("slack", url), lambda: self._slack_channel(url))
        if alert.channel is ChannelKind.APPRISE:
            return self._apprise_channel(alert.webhook)  # an apprise channel's `target:`
        return self._cached(("file", ""), lambda: FileChannel(settings.outbox_dir))

    def _apprise_channel(self, target: str | None) -> Channel:
        url = self.settings.apprise_url_for(target)
        if target is None or url is None:
            # Checked when the run starts; an alert queued before desks.yaml changed gets here.
            raise DeliveryError(f"DESKWATCH_APPRISE_URLS: no URL for target {target!r}")
        secret = url.get_secret_value()
        # Keyed by URL: several targets (or desks) naming one service share its channel.
        return self._cached(("apprise", secret), lambda: AppriseChannel(target, secret))

    def _cached(self, key: tuple[str, str], make: Callable[[], Channel]) -> Channel:
        with _CHANNEL_LOCK:
            if key not in self.channels:
                self.channels[key] = make()
            return self.channels[key]

    def _slack_channel(self, url: str) -> SlackWebhookChannel:
        settings = self.settings
        rate = settings.slack_rate_per_s or None
        return SlackWebhookChannel(
            url,
            self.webhook_client,
            pacer=Pacer(rate, settings.slack_burst),
            max_wait_s=settings.slack_max_wait_s,
        )

    @property
    def lease(self) -> timedelta:
        """How long a claimed alert stays reserved for this run."""
        return timedelta(seconds=self.settings.delivery_lease_s)

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


def build_fetcher(settings: Settings) -> Fetcher:
    """The run's one HTTP client, with the limits the settings give."""
    return Fetcher(
        FetchPolicy(
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.max_body_bytes,
            allow_private_networks=settings.allow_private_networks,
            per_host_concurrency=settings.per_host_concurrency,
            per_host_spacing_s=settings.per_host_spacing_s,
        )
    )


def check_apprise_targets(settings: Settings, seeds: Seeds) -> None:
    """Every apprise channel's target has a URL in settings; else a one-line settings error."""
    for desk in seeds.desks:
        for target in (c.target for c in desk.channels if c.target is not None):
            if settings.apprise_url_for(target) is None:
                known = ", ".join(sorted(settings.apprise_urls)) or "none"
                raise SettingsError(
                    f"DESKWATCH_APPRISE_URLS: no URL for target {target!r} of desk {desk.id!r} "
                    f"(known: {known})"
                )


def build_runtime(settings: Settings, seeds: Seeds) -> Runtime:
    """The adapters of one run; `secret-block:` settings are looked up in Prefect first."""
    settings = resolve_secrets(settings)
    check_apprise_targets(settings, seeds)
    store = open_store(settings)
    return Runtime(
        settings=settings,
        seeds=seeds,
        store=store,
        fetcher=build_fetcher(settings),
        matcher=Matcher(seeds.topics),
        outbox=Outbox(store.outbox),
        webhook_client=httpx.Client(timeout=settings.fetch_timeout_s),
    )


class RunInputs(BaseModel):
    """What a run's adapters are built from besides the environment: plain, hashable data.

    Tasks receive it instead of live clients; every process (the flow's, a pool worker's) turns
    it into its own adapters with `runtime_for`, reading settings from the inherited environment.
    """

    model_config = ConfigDict(frozen=True)

    # One run's adapters are its own: closing them at its end never closes another run's.
    run_id: str
    sources_file: Path | None = None  # None: DESKWATCH_SOURCES_FILE, else the bundled seeds
    topics_file: Path | None = None
    desks_file: Path | None = None

    @classmethod
    def fresh(
        cls, sources: str | None = None, topics: str | None = None, desks: str | None = None
    ) -> RunInputs:
        """Inputs for a new run, under a run id of their own."""
        return cls(
            run_id=uuid.uuid4().hex,
            sources_file=Path(sources) if sources else None,
            topics_file=Path(topics) if topics else None,
            desks_file=Path(desks) if desks else None,
        )


# This process's adapters per run. A pool worker builds its own on its first task and closes
# them when it exits; the flow closes those of its own process when the run ends.
_RUNTIMES: dict[RunInputs, Runtime] = {}
_LOCK = threading.Lock()


def runtime_for(inputs: RunInputs) -> Runtime:
    """This process's adapters for a run, built from settings and seeds on first use."""
    with _LOCK:
        found = _RUNTIMES.get(inputs)
        if found is None:
            settings = load_settings()
            seeds = seeds_from(settings, inputs.sources_file, inputs.topics_file, inputs.desks_file)
            atexit.unregister(close_all)  # registered once, however many runs come and go
            atexit.register(close_all)
            found = _RUNTIMES[inputs] = build_runtime(settings, seeds)
        return found


def close_runtime(inputs: RunInputs) -> None:
    """Close this process's adapters for a run, if it built any."""
    with _LOCK:
        found = _RUNTIMES.pop(inputs, None)
    if found is not None:
        found.close()


def close_all() -> None:
    """Close every run's adapters in this process (at exit: a pool worker's last act)."""
    with _LOCK:
        runtimes = list(_RUNTIMES.values())
        _RUNTIMES.clear()
    for found in runtimes:
        found.close()


@contextmanager
def run_adapters(inputs: RunInputs) -> Iterator[Runtime]:
    """Build this process's adapters for a run now (bad settings fail here), close them after."""
    try:
        yield runtime_for(inputs)
    finally:
        close_runtime(inputs)
