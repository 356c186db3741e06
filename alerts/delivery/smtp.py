"""One SMTP transport for alerts and digests: connect, send, and classify every failure once."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from monitors.errors import DeliveryError, PermanentDeliveryError, SettingsError

log = logging.getLogger(__name__)

_SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# Authentication trouble is never the message's fault: fixed credentials will let it through,
# so these 5xx replies stay retryable instead of failing every message for good.
_AUTH_CODES = frozenset({530, 534, 535, 538})


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to reach an SMTP server, parsed from an smtp URL."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """`smtp host:port`, the prefix of every failure message (never the credentials)."""
        return f"smtp {self.host}:{self.port}"


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


def smtp_failure(target: SmtpTarget, exc: Exception) -> DeliveryError:
    """The delivery error for a failed send: permanent only when a retry cannot help."""
    where = target.where
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        error = PermanentDeliveryError if all(c >= 500 for c in codes) else DeliveryError
        return error(f"{where}: all recipients refused {codes}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(f"{where}: authentication failed ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPResponseException):
        permanent = exc.smtp_code >= 500 and exc.smtp_code not in _AUTH_CODES
        error = PermanentDeliveryError if permanent else DeliveryError
        return error(f"{where}: {exc.smtp_code} {_reply(exc.smtp_error, target.password)}")
    # Anything else (refused connection, hang-up, TLS trouble, timeout) may pass on a retry.
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else ""
    return DeliveryError(f"{where}: {type(exc).__name__} {reason}".rstrip())


def _reply(raw: bytes | str, secret: str | None) -> str:
    """The server's reply text on one short line, with the password scrubbed just in case."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if secret:
        text = text.replace(secret, "***")  # before cutting, so no part of it can be left over
    return " ".join(text.split())[:200]


class SmtpTransport:
    """Sends each message over its own SMTP connection (plain, STARTTLS or SMTPS, with auth)."""

    def __init__(
        self, url: str, timeout: float = 10.0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.target = parse_smtp_url(url)
        self._timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        t = self.target
        return f"SmtpTransport({t.scheme}://{t.host}:{t.port})"

    def send(self, message: EmailMessage) -> None:
        """Send one message; DeliveryError: retry later; PermanentDeliveryError: never."""
        try:
            refused = self._deliver(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            # `from None`: a server's reply to AUTH can echo what it was sent.
            raise smtp_failure(self.target, exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_failure(self.target, exc) from exc
        if refused:
            # Some recipients took it: raising would make the retry re-send to them too.
            log.warning("%s: %d recipient(s) refused", self.target.where, len(refused))

    def _deliver(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        target, timeout = self.target, self._timeout
        smtp: smtplib.SMTP
        if target.scheme == "smtps":
            context = self._tls_context()
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=timeout)
        with smtp:
            if target.scheme == "smtp+starttls":
                smtp.starttls(context=self._tls_context())
            if target.username is not None:
                smtp.login(target.username, target.password or "")
            return smtp.send_message(message)

    def _tls_context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()
