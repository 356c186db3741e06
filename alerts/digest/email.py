"""The digest as one email (HTML part + the Markdown as the text part) and the ways to send it."""

from __future__ import annotations

import hashlib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from alerts.delivery.channels import EmailTransport, FileChannel, email_transport
from alerts.delivery.render import SUBJECT_MAX, MailHeaders, multipart_email, one_line
from alerts.delivery.smtp import SmtpTransport
from alerts.digest.text import plural, stories
from alerts.digest.writer import RenderedDigest
from alerts.files import label, safe_dir_name
from alerts.models import Digest
from seeds.models import ChannelKind, DeskSpec


def digest_subject(d: Digest) -> str:
    """`[deskwatch] Korea desk digest 2024-12-18: 6 stories, 9 alerts sent`."""
    s = d.summary
    counts = f"{stories(s.stories)}, {plural(s.alerts_sent, 'alert')} sent"
    if s.digest_only:
        counts = f"{stories(s.stories)}, digest only"
    elif s.held_for_quiet_hours:
        counts += f", {s.held_for_quiet_hours} held for quiet hours"
    return one_line(f"[deskwatch] {d.desk_name} digest {d.date.isoformat()}: {counts}", SUBJECT_MAX)


def render_digest_email(
    rendered: RenderedDigest, sender: str, recipients: list[str]
) -> EmailMessage:
    """multipart/alternative: the Markdown as text/plain, the page as text/html; deterministic."""
    d = rendered.digest
    fingerprint = hashlib.sha256(d.model_dump_json().encode("utf-8")).hexdigest()
    headers = MailHeaders(
        subject=digest_subject(d),
        sender=sender,
        recipients=recipients,
        date=d.data_as_of or d.window_end,
        # Same digest, same Message-ID: a re-send is recognisably the same mail; new data, new.
        message_id=f"<digest-{fingerprint[:32]}@deskwatch>",
        desk_id=d.desk_id,
        tag=("X-Deskwatch-Digest", f"{label(d.desk_id)} {d.date.isoformat()}"),
    )
    boundary = f"deskwatch-digest-{fingerprint[32:64]}"
    return multipart_email(headers, rendered.markdown, rendered.html, boundary)


def digest_recipients(desk: DeskSpec) -> list[str]:
    """The addresses of the desk's email channels, in order, each once."""
    found = [a for c in desk.channels if c.kind is ChannelKind.EMAIL for a in c.to]
    return list(dict.fromkeys(found))


def digest_mail_name(d: Digest) -> str:
    """`<desk>/digest-<YYYY-MM-DD>`: where the file mailer puts this digest's `.eml`."""
    return f"{safe_dir_name(d.desk_id)}/digest-{d.date.isoformat()}"


def digest_transport(desk: DeskSpec, smtp_configured: bool) -> EmailTransport | None:
    """How the desk's digest leaves, by the alerts' rule; None without an email or file channel."""
    if not {c.kind for c in desk.channels} & {ChannelKind.EMAIL, ChannelKind.FILE}:
        return None
    return email_transport(digest_recipients(desk), smtp_configured)


class DigestMailer(Protocol):
    """Sends one digest email; returns where it went; DeliveryError when it could not."""

    def send(self, message: EmailMessage, name: str) -> str: ...


class FileDigestMailer:
    """Writes `<directory>/<name>.eml` through the alerts' file channel instead of sending."""

    def __init__(self, directory: Path) -> None:
        self._files = FileChannel(directory)

    def send(self, message: EmailMessage, name: str) -> str:
        """Write the message atomically; the same digest rewrites identical bytes."""
        return str(self._files.write_email(name, message))


class SmtpDigestMailer:
    """Sends through the alerts' SMTP transport; the URL is never reported."""

    def __init__(
        self, url: str, timeout: float = 20.0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._transport = SmtpTransport(url, timeout, ssl_context=ssl_context)

    def __repr__(self) -> str:
        return f"SmtpDigestMailer({self._transport!r})"

    def send(self, message: EmailMessage, name: str) -> str:
        """Send once; the transport says whether a failure is worth retrying."""
        self._transport.send(message)
        return f"{self._transport.target.where} to {message['To']}"


def mailer_for(
    desk: DeskSpec, smtp_url: str | None, outbox_dir: Path, timeout: float = 20.0
) -> DigestMailer | None:
    """The mailer `digest_transport` chooses for the desk, or None when the digest stays home."""
    transport = digest_transport(desk, bool(smtp_url))
    if transport is EmailTransport.SMTP and smtp_url:
        return SmtpDigestMailer(smtp_url, timeout)
    return FileDigestMailer(outbox_dir) if transport is EmailTransport.FILE else None


def email_digest(
    rendered: RenderedDigest, desk: DeskSpec, sender: str, mailer: DigestMailer
) -> str:
    """Make the digest email for the desk's recipients and send it; return where it went."""
    message = render_digest_email(rendered, sender, digest_recipients(desk))
    return mailer.send(message, digest_mail_name(rendered.digest))
