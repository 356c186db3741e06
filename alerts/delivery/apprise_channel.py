"""The Apprise channel: one alert as a title and a Markdown body, to any service Apprise reaches.

Microsoft Teams, Telegram, Discord, Mattermost, a generic JSON webhook (`json://host:port/path`)
and the rest of Apprise's list: the desk names a target, settings map it to an Apprise URL.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import apprise

from alerts.delivery.render import one_line
from alerts.delivery.render_summary import email_message
from alerts.models import AlertMessage
from monitors.errors import DeliveryError
from seeds.models import Severity

# Apprise's debug and info lines quote whole notification URLs, tokens and all. Its logger is
# kept at warnings and out of the application's handlers; the channel reads its warnings itself
# (below), scrubbed of the URL, to say why a message was not delivered.
_APPRISE_LOG = logging.getLogger(apprise.LOGGER_NAME)
_APPRISE_LOG.setLevel(logging.WARNING)
_APPRISE_LOG.propagate = False

# The renderers want a From address; only the subject and the text part are used here.
_UNUSED_SENDER = "deskwatch <deskwatch@localhost>"
REASON_MAX = 200


@dataclass(frozen=True, slots=True)
class Notice:
    """What an Apprise notification carries: a one-line title and a Markdown body."""

    title: str
    body: str
    urgent: bool


def render_notice(alert: AlertMessage) -> Notice:
    """The email's subject and text part (already Markdown: `**` highlights, `>` quotes)."""
    message = email_message(alert, _UNUSED_SENDER)
    text = message.get_body(preferencelist=("plain",))
    body = str(text.get_content()).strip() if text is not None else ""
    title = one_line(str(message["Subject"]))
    return Notice(title, body, urgent=alert.severity is Severity.HIGH)


class AppriseChannel:
    """Sends each alert through one Apprise URL; the URL holds tokens and is never reported.

    One instance per URL and run. Apprise answers a notification with True or False only, so
    every failure is transient here: retried with backoff by the outbox, and marked failed after
    its last attempt (docs/DELIVERY.md, "Apprise").
    """

    def __init__(self, target: str, url: str) -> None:
        self._target = target
        self._url = url
        asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
        self._apprise = apprise.Apprise(asset=asset)
        with _plugins_loading(), _warnings_of(url) as reasons:
            added = self._apprise.add(url)
        if not added:
            # A setting can be fixed before the alert's next attempt: transient, not permanent.
            raise DeliveryError(
                f"DESKWATCH_APPRISE_URLS[{target}]: not a URL Apprise can send to"
                f"{_because(reasons)}"
            )

    def __repr__(self) -> str:
        return f"AppriseChannel({self._target}: <secret url>)"

    def send(self, alert: AlertMessage) -> None:
        """Notify once; a refusal or an outage raises DeliveryError, retried with backoff."""
        notice = render_notice(alert)
        kind = apprise.NotifyType.WARNING if notice.urgent else apprise.NotifyType.INFO
        with _warnings_of(self._url) as reasons:
            try:
                delivered = self._apprise.notify(
                    body=notice.body,
                    title=notice.title,
                    notify_type=kind,
                    body_format=apprise.NotifyFormat.MARKDOWN,
                )
            except Exception as exc:
                # `from None`: the exception may quote the URL.
                raise DeliveryError(f"apprise {self._target}: {type(exc).__name__}") from None
        if not delivered:
            # False (the service refused or could not be reached) or None (nothing to notify):
            # Apprise does not say whether trying again can help.
            raise DeliveryError(f"apprise {self._target}: not delivered{_because(reasons)}")


def _because(reasons: list[str]) -> str:
    return f" ({reasons[-1]})" if reasons else ""


@contextmanager
def _plugins_loading() -> Iterator[None]:
    """Apprise loads its plugins on first use; one imports the deprecated `imghdr` module."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        yield


class _Collector(logging.Handler):
    """Apprise's warnings during one call, on one line each, with the URL taken out."""

    def __init__(self, url: str) -> None:
        super().__init__(logging.WARNING)
        self.url = url
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().replace(self.url, "<url>")
        self.lines.append(one_line(text, REASON_MAX))


@contextmanager
def _warnings_of(url: str) -> Iterator[list[str]]:
    """Collect what Apprise warns about while a notification is sent (one at a time per run)."""
    collector = _Collector(url)
    _APPRISE_LOG.addHandler(collector)
    try:
        yield collector.lines
    finally:
        _APPRISE_LOG.removeHandler(collector)
