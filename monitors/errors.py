"""Every exception deskwatch raises on purpose.

DeskwatchError                     one line for a human; raised as is for a wrong command argument
 ├── SeedError                     a seed file (sources/topics/desks YAML) is unreadable or invalid
 │    └── RuleError                a topic's rule or exclusion is malformed (names the clause)
 ├── SettingsError                 an environment setting is malformed
 ├── StoreError                    the state database cannot be reached or opened
 ├── LocalServerError              the demo's replay site or a local sink cannot bind its port
 ├── FeedParseError                a fetched body is not a feed and yielded no items
 └── DeliveryError                 a channel could not deliver an alert or a digest; retry later
      └── PermanentDeliveryError   retrying will not help (bad address, 4xx webhook)

Fetching never raises: monitors.fetch returns a FetchResult whose status and FetchReason say
what happened. Failures of a single source never propagate out of a poll run either: the
pipeline turns them into a SourceReport with a status and a fixed, low-cardinality reason.
RuleError and FeedParseError are also ValueErrors: pydantic reports a RuleError raised in a
seed validator as a validation error of the clause, and callers that caught ValueError still do.
Other ValueErrors raised in pydantic validators reach people as a SeedError or SettingsError;
builtin errors elsewhere mean a bug, not a bad input.
"""

from __future__ import annotations


class DeskwatchError(Exception):
    """Base of every deliberate deskwatch error; its message is one line for a human."""


class SeedError(DeskwatchError):
    """A seed file is unreadable or invalid."""


class RuleError(SeedError, ValueError):
    """A topic rule is malformed; the message starts with the clause path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"clause {path}: {message}")


class SettingsError(DeskwatchError):
    """An environment setting is malformed."""


class StoreError(DeskwatchError):
    """The state database cannot be reached or opened."""


class LocalServerError(DeskwatchError):
    """A local stand-in server cannot bind its address (the port is taken, say)."""


class FeedParseError(DeskwatchError, ValueError):
    """A body is not a feed and yielded no items; the message is the parser's reason."""


class DeliveryError(DeskwatchError):
    """A channel failed to deliver; the outbox will retry with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """A channel refused an alert for good; the outbox marks it failed and shows it."""
