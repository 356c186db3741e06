"""Delivery channels: SMTP email, Slack incoming webhook, and a file channel for local runs."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import httpx

from alerts.delivery.pacing import Pacer
from alerts.delivery.render_summary import email_message, slack_json, slack_payload
from alerts.delivery.smtp import SmtpTransport
from alerts.files import safe_dir_name, safe_file_name, write_atomic
from alerts.models import AlertMessage
from monitors.errors import DeliveryError, PermanentDeliveryError
from seeds.models import ChannelKind

log = logging.getLogger(__name__)

FILE_SENDER = "deskwatch <deskwatch@localhost>"  # placeholder From for .eml files nobody sends


class Channel(Protocol):
    """Delivers one alert; DeliveryError means retry later, PermanentDeliveryError means never."""

    def send(self, alert: AlertMessage) -> None: ...


# --- choosing ------------------------------------------------------------------------------


class EmailTransport(StrEnum):
    """How an email message of a desk leaves: by SMTP, or as an `.eml` file in the outbox."""

    SMTP = "smtp"
    FILE = "file"


def email_transport(recipients: Sequence[str], smtp_configured: bool) -> EmailTransport:
    """SMTP when a server is configured and the message has someone to go to, else a file."""
    # With no server (a local run) the message lands under the outbox for someone to look at.
    return EmailTransport.SMTP if smtp_configured and recipients else EmailTransport.FILE


# --- SMTP ------------------------------------------------------------------------------------


class SmtpChannel:
    """Sends each alert as one email over its own SMTP connection."""

    def __init__(
        self,
        url: str,
        sender: str,
        timeout: float = 10.0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._transport = SmtpTransport(url, timeout, ssl_context=ssl_context)
        self._sender = sender

    def __repr__(self) -> str:
        t = self._transport.target
        return f"SmtpChannel({t.scheme}://{t.host}:{t.port})"

    def send(self, alert: AlertMessage) -> None:
        """Send one alert; the transport classifies every failure as transient or permanent."""
        if not alert.recipients:
            raise PermanentDeliveryError("email alert has no recipients")
        self._transport.send(email_message(alert, self._sender))


# --- Slack -----------------------------------------------------------------------------------


class SlackWebhookChannel:
    """Posts each alert to a Slack incoming webhook; the URL is a secret and never reported.

    One instance per webhook URL and run: its pacer keeps to Slack's rate (about one message a
    second), and a 429 is waited out here when its Retry-After is short, else left to the outbox.
    """

    def __init__(
        self,
        url: str,
        client: httpx.Client,
        *,
        pacer: Pacer | None = None,
        max_wait_s: float = 30.0,
        max_tries: int = 3,
    ) -> None:
        self._url = url
        self._client = client
        self._pacer = pacer or Pacer(None)
        self._max_wait = max_wait_s
        self._max_tries = max(1, max_tries)

    def __repr__(self) -> str:
        return "SlackWebhookChannel(<secret url>)"

    def send(self, alert: AlertMessage) -> None:
        """Post one alert; a short 429 is retried here, a long one carries Retry-After."""
        payload = slack_payload(alert)
        for attempt in range(1, self._max_tries + 1):
            self._wait_turn()
            response = self._post(payload)
            status = response.status_code
            if 200 <= status < 300:
                return
            detail = f"slack webhook: HTTP {status} {self._body(response)}".rstrip()
            if status == 429:
                wait = _retry_after(response)
                if wait is not None:
                    self._pacer.pause(wait)  # every later alert to this webhook waits too
                if wait is not None and wait <= self._max_wait and attempt < self._max_tries:
                    log.info("slack webhook rate limited; retrying in %.1f s", wait)
                    continue
                raise DeliveryError(detail, retry_after=wait)
            if 400 <= status < 500:
                raise PermanentDeliveryError(detail)
            raise DeliveryError(detail)

    def _wait_turn(self) -> None:
        """Sleep until the webhook may take a message, unless that is longer than we wait."""
        blocked = self._pacer.blocked_for()
        if blocked > self._max_wait:
            raise DeliveryError(
                f"slack webhook: rate limited for {blocked:.0f} s more", retry_after=blocked
            )
        self._pacer.wait()

    def _post(self, payload: dict[str, object]) -> httpx.Response:
        try:
            return self._client.post(self._url, json=payload)
        except httpx.HTTPError as exc:
            # `from None`: httpx errors hold the request, and so the secret URL.
            raise DeliveryError(f"slack webhook: {type(exc).__name__}") from None

    def _body(self, response: httpx.Response) -> str:
        """Slack's short error code (e.g. `no_service`), on one line, never the URL."""
        text = " ".join(response.text.split())[:100]
        return text.replace(self._url, "<webhook>")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None  # an HTTP-date or garbage: let the outbox back off on its own
    return seconds if seconds >= 0 else None


# --- files -----------------------------------------------------------------------------------


class FileChannel:
    """Writes what would have been sent: `.eml` for email alerts, `.slack.json` otherwise."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, alert: AlertMessage) -> Path:
        """Where `send` writes this alert."""
        ext = "eml" if alert.channel is ChannelKind.EMAIL else "slack.json"
        return (
            self.directory
            / safe_dir_name(alert.desk_id)
            / f"{safe_file_name(alert.alert_key)}.{ext}"
        )

    def send(self, alert: AlertMessage) -> None:
        """Write the alert; writing it again replaces the file with identical content."""
        if alert.channel is ChannelKind.EMAIL:
            data = email_message(alert, FILE_SENDER).as_bytes()
        else:
            data = slack_json(alert).encode("utf-8")
        _write(self.path_for(alert), data)

    def write_email(self, name: str, message: EmailMessage) -> Path:
        """Write an email nobody sent as `<directory>/<name>.eml` (`name` made of safe names)."""
        path = self.directory / f"{name}.eml"
        _write(path, message.as_bytes())
        return path


def _write(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise DeliveryError(f"file channel: {type(exc).__name__}: {exc.strerror}") from exc
