"""The digest as one email (HTML part + the Markdown as the text part) and the ways to send it."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from alerts.delivery.channels import parse_smtp_url, safe_dir_name, write_atomic
from alerts.delivery.render import SUBJECT_MAX, label, one_line
from alerts.digest.html import render_digest_html
from alerts.digest.markdown import render_digest_markdown
from alerts.digest.text import plural, stories
from alerts.models import Digest
from monitors.errors import DeliveryError, PermanentDeliveryError
from seeds.models import ChannelKind, DeskSpec


def digest_subject(d: Digest) -> str:
    """`[deskwatch] Korea desk digest 2024-12-18: 6 stories, 9 alerts sent`."""
    s = d.summary
    counts = f"{stories(s.stories)}, {plural(s.alerts_sent, 'alert')} sent"
    return one_line(f"[deskwatch] {d.desk_name} digest {d.date.isoformat()}: {counts}", SUBJECT_MAX)


def render_digest_email(d: Digest, sender: str, recipients: list[str]) -> EmailMessage:
    """multipart/alternative: the Markdown as text/plain, the page as text/html; deterministic."""
    fingerprint = hashlib.sha256(d.model_dump_json().encode("utf-8")).hexdigest()
    msg = EmailMessage()
    msg["Subject"] = digest_subject(d)
    msg["From"] = one_line(sender)
    if recipients:
        msg["To"] = ", ".join(one_line(r) for r in recipients)
    msg["Date"] = format_datetime(d.data_as_of or d.window_end)
    # Same digest, same Message-ID: a re-send is recognisably the same mail; new data, new mail.
    msg["Message-ID"] = f"<digest-{fingerprint[:32]}@deskwatch>"
    msg["List-Id"] = f"<{label(d.desk_id)}.deskwatch>"
    msg["X-Deskwatch-Digest"] = f"{label(d.desk_id)} {d.date.isoformat()}"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_digest_markdown(d))
    msg.add_alternative(render_digest_html(d), subtype="html")
    msg.set_boundary(f"deskwatch-digest-{fingerprint[32:64]}")
    return msg


def digest_recipients(desk: DeskSpec) -> list[str]:
    """The addresses of the desk's email channels, in order, each once."""
    found = [a for c in desk.channels if c.kind is ChannelKind.EMAIL for a in c.to]
    return list(dict.fromkeys(found))


def digest_mail_name(d: Digest) -> str:
    """`<desk>/digest-<YYYY-MM-DD>`: where the file mailer puts this digest's `.eml`."""
    return f"{safe_dir_name(d.desk_id)}/digest-{d.date.isoformat()}"


class DigestMailer(Protocol):
    """Sends one digest email; returns where it went; DeliveryError when it could not."""

    def send(self, message: EmailMessage, name: str) -> str: ...


class FileDigestMailer:
    """Writes `<directory>/<name>.eml` instead of sending (no SMTP server configured)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage, name: str) -> str:
        """Write the message atomically; the same digest rewrites identical bytes."""
        path = self.directory / f"{name}.eml"
        try:
            write_atomic(path, message.as_bytes())
        except OSError as exc:
            raise DeliveryError(f"file: {type(exc).__name__}: {exc.strerror}") from exc
        return str(path)


class SmtpDigestMailer:
    """Sends over SMTP (`smtp://`, `smtp+starttls://`, `smtps://`); the URL is never reported."""

    def __init__(
        self, url: str, timeout: float = 20.0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._target = parse_smtp_url(url)
        self._timeout = timeout
        self._context = ssl_context

    def __repr__(self) -> str:
        return f"SmtpDigestMailer({self._target.scheme}://{self._target.host}:{self._target.port})"

    def send(self, message: EmailMessage, name: str) -> str:
        """Send once; a refusal of every recipient is permanent, anything else is retryable."""
        where = f"smtp {self._target.host}:{self._target.port}"
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused:
            raise PermanentDeliveryError(f"{where}: all recipients refused") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where}: {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}") from None
        return f"{where} to {message['To']}"

    def _deliver(self, message: EmailMessage) -> None:
        t = self._target
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if t.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(t.host, t.port, timeout=self._timeout, context=context)
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=self._timeout)
        with smtp:
            if t.scheme == "smtp+starttls":
                smtp.starttls(context=context)
            if t.username is not None:
                smtp.login(t.username, t.password or "")
            smtp.send_message(message)


def mailer_for(
    desk: DeskSpec, smtp_url: str | None, outbox_dir: Path, timeout: float = 20.0
) -> DigestMailer | None:
    """SMTP for a desk with email recipients, else `.eml` files; None without email/file channel."""
    # Like alerts: with no SMTP server configured, or for a desk whose only way to receive mail
    # is a file channel, the message lands under the outbox directory for someone to look at.
    if digest_recipients(desk) and smtp_url:
        return SmtpDigestMailer(smtp_url, timeout)
    kinds = {c.kind for c in desk.channels}
    if kinds & {ChannelKind.EMAIL, ChannelKind.FILE}:
        return FileDigestMailer(outbox_dir)
    return None


def email_digest(d: Digest, desk: DeskSpec, sender: str, mailer: DigestMailer) -> str:
    """Render the digest email for the desk's recipients and send it; return where it went."""
    message = render_digest_email(d, sender, digest_recipients(desk))
    return mailer.send(message, digest_mail_name(d))
