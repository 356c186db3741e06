"""Every exception deskwatch raises on purpose.

DeskwatchError
 ├── SeedError          a seed file (sources/topics/desks YAML) is unreadable or invalid
 ├── SettingsError      an environment setting is malformed
 ├── FetchError         a fetch could not produce a usable body (carries a FetchFailure)
 └── DeliveryError      a channel could not deliver an alert
      └── PermanentDeliveryError   retrying will not help (bad address, 4xx webhook)

Failures of a single source never propagate as exceptions out of a poll run: the pipeline
turns them into a SourceReport with a status and a fixed, low-cardinality reason.
"""

from __future__ import annotations


class DeskwatchError(Exception):
    """Base of every deliberate deskwatch error; its message is one line for a human."""


class SeedError(DeskwatchError):
    """A seed file is unreadable or invalid."""


class SettingsError(DeskwatchError):
    """An environment setting is malformed."""


class FetchError(DeskwatchError):
    """A fetch failed; `reason` is one of monitors.fetch.REASONS."""

    def __init__(self, reason: str, detail: str, *, transient: bool) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.transient = transient


class DeliveryError(DeskwatchError):
    """A channel failed to deliver; the outbox will retry with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """A channel refused an alert for good; the outbox marks it failed and shows it."""
