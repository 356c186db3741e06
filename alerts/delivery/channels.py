"""Delivery channels: SMTP email, Slack incoming webhook, and a file channel for local runs."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import httpx

from alerts.delivery.pacing import Pacer
from alerts.delivery.render import label
from alerts.delivery.render_summary import email_message, slack_json, slack_payload
from alerts.models import AlertMessage
from monitors.errors import DeliveryError, PermanentDeliveryError, SettingsError
from seeds.models import ChannelKind

log = logging.getLogger(__name__)

FILE_SENDER = "deskwatch <deskwatch@localhost>"  # placeholder From for .eml files nobody sends
_SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# Authentication trouble is never the alert's fault: fixed credentials will let it through,
# so these 5xx replies stay retryable instead of failing every alert for good.
_AUTH_CODES = frozenset({530, 534, 535, 538})


class Channel(Protocol):
    """Delivers one alert; DeliveryError means retry later, PermanentDeliveryError means never."""

    def send(self, alert: AlertMessage) -> None: ...


# --- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to reach an SMTP server, parsed from an smtp URL."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse `smtp://`, `smtp+starttls://` or `smtps://[user:pass@]host[:port]`."""
    # Messages below never quote the URL: it may carry a password.
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port or _SMTP_PORTS.get(scheme, 0)
    except ValueError:
        raise SettingsError("smtp url: malformed host or port") from None
    if scheme not in _SMTP_PORTS:
        raise SettingsError(f"smtp url: unsupported scheme {scheme!r}")
    if not parts.hostname:
        raise SettingsError("smtp url: missing host")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpTarget(scheme, parts.hostname, port, username, password)


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
        self._target = parse_smtp_url(url)
        self._sender = sender
        self._timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        t = self._target
        return f"SmtpChannel({t.scheme}://{t.host}:{t.port})"

    def send(self, alert: AlertMessage) -> None:
        """Send one alert; classify every failure as transient or permanent."""
        if not alert.recipients:
            raise PermanentDeliveryError("email alert has no recipients")
        msg = email_message(alert, self._sender)
        where = f"smtp {self._target.host}:{self._target.port}"
        try:
            refused = self._deliver(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            error = PermanentDeliveryError if all(c >= 500 for c in codes) else DeliveryError
            raise error(f"{where}: all recipients refused {codes}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where}: authentication failed ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            permanent = exc.smtp_code >= 500 and exc.smtp_code not in _AUTH_CODES
            error = PermanentDeliveryError if permanent else DeliveryError
            raise error(f"{where}: {exc.smtp_code} {self._reply(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else ""
            raise DeliveryError(f"{where}: {type(exc).__name__} {reason}".rstrip()) from exc
        if refused:
            # Some recipients took it: raising would make the retry re-send to them too.
            log.warning("%s: %d recipient(s) refused", where, len(refused))

    def _deliver(self, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
        target, timeout = self._target, self._timeout
        smtp: smtplib.SMTP
        if target.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(
                target.host, target.port, timeout=timeout, context=self._tls_context()
            )
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=timeout)
        with smtp:
            if target.scheme == "smtp+starttls":
                smtp.starttls(context=self._tls_context())
            if target.username is not None:
                smtp.login(target.username, target.password or "")
            return smtp.send_message(msg)

    def _tls_context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _reply(self, raw: bytes | str) -> str:
        """The server's reply text on one short line, with the password scrubbed just in case."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        text = " ".join(text.split())[:200]
        secret = self._target.password
        return text.replace(secret, "***") if secret else text


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


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; these files are meant to be read
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def safe_dir_name(name: str) -> str:
    """`name` as one path segment: only [A-Za-z0-9_-], so never `..`, `/` or a hidden file."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "unnamed"


def safe_file_name(alert_key: str) -> str:
    """A readable, collision-free file name stem for an alert key (no dots, no slashes)."""
    readable = label(alert_key)[:80].strip("-")
    return f"{readable}-{hashlib.sha256(alert_key.encode('utf-8')).hexdigest()[:12]}"


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
        try:
            write_atomic(self.path_for(alert), data)
        except OSError as exc:
            raise DeliveryError(f"file channel: {type(exc).__name__}: {exc.strerror}") from exc
