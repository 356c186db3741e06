"""The one place that reads the environment: DESKWATCH_* settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as EnvironmentParseError

from monitors.errors import SettingsError
from monitors.schedule import PollPolicy

# A secret setting may name a Prefect Secret block instead of holding the value, e.g.
# DESKWATCH_SMTP_URL=secret-block:newsroom-smtp; flows.wiring resolves it when a run starts.
SECRET_BLOCK_PREFIX = "secret-block:"


class Settings(BaseSettings):
    """Runtime configuration; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(env_prefix="DESKWATCH_", extra="ignore")

    state_url: SecretStr = SecretStr("sqlite:///var/deskwatch.db")  # may hold a password
    digest_dir: Path = Path("var/digests")
    outbox_dir: Path = Path("var/outbox")
    smtp_url: SecretStr | None = None
    smtp_sender: str = "deskwatch <alerts@deskwatch.localhost>"
    slack_webhook_url: SecretStr | None = None
    # Named webhooks for desks.yaml `webhook:` names, as JSON: {"korea-desk": "https://..."}
    slack_webhooks: dict[str, SecretStr] = Field(default_factory=dict)
    # Apprise URLs for desks.yaml `kind: apprise` channels' `target:` names, as JSON:
    # {"ops-teams": "msteams://…", "night-telegram": "tgram://…"}. They hold tokens: secrets.
    apprise_urls: dict[str, SecretStr] = Field(default_factory=dict)
    # Where Prefect tells the operators that a poll or source-health run failed or crashed
    # (`deskwatch operators setup`): any URL that takes a Slack-style JSON POST.
    operator_webhook_url: SecretStr | None = None
    allow_private_networks: bool = False
    fetch_timeout_s: float = Field(default=20.0, gt=0)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    sources_file: Path | None = None
    topics_file: Path | None = None
    desks_file: Path | None = None
    # One alert per story (monitors.dedup): the Jaccard estimate above which a copy joins a
    # story, how long items and stories are kept, and the least time between a story's updates.
    dedup_threshold: float = Field(default=0.55, gt=0, le=1)
    retention_days: int = Field(default=30, gt=0)
    update_interval_hours: float = Field(default=6.0, ge=0)
    # Delivery: how long a claimed alert is reserved for one worker; Slack pacing per webhook
    # (messages a second on average, a short burst allowed, 0 turns pacing off) and the longest
    # Retry-After waited out within a run (a longer one defers the alert to a later run).
    delivery_lease_s: float = Field(default=300.0, gt=0)
    slack_rate_per_s: float = Field(default=1.0, ge=0)
    slack_burst: int = Field(default=10, ge=1)
    slack_max_wait_s: float = Field(default=30.0, ge=0)
    # Where a poll's source checks run: threads of the flow's process (the default; fetching
    # is mostly waiting) or a pool of processes, past one core for parsing and matching. Workers:
    # None leaves Prefect's default (PREFECT_TASKS_RUNNER_*_MAX_WORKERS, else its own).
    task_runner: Literal["thread", "process"] = "thread"
    task_workers: int | None = Field(default=None, ge=1)

    # Polling (monitors.schedule): each source by its poll_minutes, lengthened by the server's
    # hints, a quiet feed (up to poll_minutes × the quiet factor) and backoff, never past the
    # maximum; a new source's first poll alerts only items this recent (0: all of them).
    # Per host within a run: requests at once, and the least seconds between two starts.
    max_poll_interval_hours: float = Field(default=24.0, gt=0)
    quiet_poll_factor: float = Field(default=4.0, ge=1)
    first_poll_window_hours: float = Field(default=24.0, ge=0)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_spacing_s: float = Field(default=1.0, ge=0)

    @field_validator("state_url")
    @classmethod
    def _supported_database(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        # The driver is spelled out: a bare postgresql:// would ask for psycopg2, not installed.
        if not url.startswith(("sqlite:///", "postgresql+psycopg://", SECRET_BLOCK_PREFIX)):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    def slack_webhook_for(self, name: str | None) -> SecretStr | None:
        """The webhook URL for a desk's named webhook, else the default one."""
        if name and name in self.slack_webhooks:
            return self.slack_webhooks[name]
        return self.slack_webhook_url

    def poll_policy(self) -> PollPolicy:
        """The bounds of every source's schedule and the first-poll window."""
        window = self.first_poll_window_hours
        return PollPolicy(
            max_interval=timedelta(hours=self.max_poll_interval_hours),
            quiet_factor=self.quiet_poll_factor,
            first_poll_window=timedelta(hours=window) if window else None,
        )

    def apprise_url_for(self, target: str | None) -> SecretStr | None:
        """The Apprise URL an apprise channel's `target:` names; None when there is none."""
        return self.apprise_urls.get(target) if target else None


def load_settings() -> Settings:
    """Read settings, turning a validation failure into a one-line SettingsError."""
    try:
        return Settings()
    except EnvironmentParseError as exc:
        # A dict setting's value is JSON; pydantic-settings names the field, not the variable.
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else "settings"
        raise SettingsError(f"DESKWATCH_{field.upper()}: not valid JSON") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise SettingsError(
            f"DESKWATCH_{field.upper()}: {first['msg'].removeprefix('Value error, ')}"
        ) from exc
