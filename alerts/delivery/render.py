"""Pure renderers for one alert: an email message and a Slack incoming-webhook payload."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from alerts.files import label
from alerts.models import AlertMessage, Change, Passage, TopicHit

SUBJECT_MAX = 200

# C0/C1 controls, line/paragraph separators and bidi overrides: none belongs in a one-line field,
# and bidi overrides can make a subject or headline read differently from what it is.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
Runs = list[tuple[str, bool]]


@cache
def template_environment() -> jinja2.Environment:
    """The shared Jinja2 environment over alerts/templates; HTML templates are autoescaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("alerts", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def truncate(text: str, limit: int) -> str:
    """Text capped at `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def one_line(text: str, limit: int = 10_000) -> str:
    """Text with control characters removed and whitespace collapsed, capped at `limit`."""
    return truncate(" ".join(CONTROL.sub(" ", text).split()), limit)


def safe_url(url: str) -> str | None:
    """The URL when it is an absolute http(s) link, else None (no javascript: or data: links)."""
    candidate = url.strip().replace(" ", "%20")
    if CONTROL.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    return candidate if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def iso(when: datetime | None) -> str:
    """An ISO 8601 timestamp to the second, or "unknown"."""
    return "unknown" if when is None else when.isoformat(timespec="seconds")


def local_time(when: datetime | None, timezone: str) -> str:
    """`18 Dec 2024, 19:30 KST (UTC+09:00)` in the desk's timezone, or "unknown"."""
    if when is None:
        return "unknown"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(zone)
    offset = local.strftime("%z") or "+0000"
    name = local.tzname() or ""
    # Zones without an abbreviation name themselves by their offset ("+05"): say it once.
    shown = f" {name}" if name and name[0] not in "+-" else ""
    return f"{local.day} {local:%b %Y, %H:%M}{shown} (UTC{offset[:3]}:{offset[3:]})"


def what_changed(changes: Sequence[Change]) -> str:
    """`What changed: 3,000 casualties (earlier: 1,200 casualties)`; "" when nothing did."""
    if not changes:
        return ""
    parts = [
        f"{c.fact} (earlier: {', '.join(c.earlier)})" if c.earlier else f"{c.fact} (new)"
        for c in changes
    ]
    return one_line("What changed: " + "; ".join(parts), 1000)


def topic_line(hits: Sequence[TopicHit]) -> str:
    """The topics of a message, leading first: `Arms transfers + Troops in Russia`."""
    return " + ".join(hit.title for hit in hits)


def highlight_runs(passage: Passage) -> Runs:
    """Split a passage into (text, highlighted) runs; bad spans are clamped, overlaps merged."""
    text = CONTROL.sub(" ", passage.text)  # same length, so the spans still line up
    merged: list[list[int]] = []
    for start, end in sorted(_trim_span(text, s, e) for s, e in passage.highlights):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    runs: Runs = []
    pos = 0
    for start, end in merged:
        if start > pos:
            runs.append((text[pos:start], False))
        runs.append((text[start:end], True))
        pos = end
    if pos < len(text):
        runs.append((text[pos:], False))
    return runs


def _trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A span clamped to the text and shrunk off surrounding whitespace (markup hugs words)."""
    start, end = max(0, start), min(len(text), end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- email -----------------------------------------------------------------------------------


def message_id_for(alert_key: str) -> str:
    """The deterministic Message-ID for an alert key, so a re-send is recognisably the same mail."""
    return f"<{hashlib.sha256(alert_key.encode('utf-8')).hexdigest()[:32]}@deskwatch>"


def email_subject(alert: AlertMessage) -> str:
    """`[deskwatch] [Update: ]<topic>[ + <topic>…]: <headline>` on one line, capped."""
    topics = topic_line(alert.hits())
    return one_line(f"[deskwatch] {update_prefix(alert)}{topics}: {alert.headline}", SUBJECT_MAX)


def update_prefix(alert: AlertMessage) -> str:
    """`Update: ` before the headline of an update to an earlier alert, else nothing."""
    return "Update: " if alert.kind == "update" else ""


def render_email(alert: AlertMessage, sender: str) -> EmailMessage:
    """A multipart/alternative (text + HTML) email for one alert."""
    return build_email(alert, sender, email_subject(alert), "alert_email", _email_context(alert))


@dataclass(frozen=True)
class MailHeaders:
    """What sets one deskwatch email apart; `tag` is the header saying what it is about."""

    subject: str
    sender: str
    recipients: Sequence[str]
    date: datetime
    message_id: str
    desk_id: str
    tag: tuple[str, str]


def multipart_email(headers: MailHeaders, text: str, html: str, boundary: str) -> EmailMessage:
    """multipart/alternative (text, then HTML); a fixed boundary keeps re-renders byte-identical."""
    msg = EmailMessage()
    msg["Subject"] = headers.subject
    msg["From"] = one_line(headers.sender)
    if headers.recipients:
        msg["To"] = ", ".join(one_line(r) for r in headers.recipients)
    msg["Date"] = format_datetime(headers.date)
    msg["Message-ID"] = headers.message_id
    msg["List-Id"] = f"<{label(headers.desk_id)}.deskwatch>"
    msg[headers.tag[0]] = headers.tag[1]
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies back to us
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.set_boundary(boundary)
    return msg


def build_email(
    alert: AlertMessage, sender: str, subject: str, template: str, context: dict[str, object]
) -> EmailMessage:
    """Headers from the alert, text and HTML parts from `<template>.{txt,html}.j2`."""
    env = template_environment()
    detected = alert.detected_at
    headers = MailHeaders(
        subject=subject,
        sender=sender,
        recipients=alert.recipients,
        date=detected if detected.tzinfo else detected.replace(tzinfo=UTC),
        message_id=message_id_for(alert.alert_key),
        desk_id=alert.desk_id,
        tag=("X-Deskwatch-Alert-Key", one_line(alert.alert_key)),
    )
    text = env.get_template(f"{template}.txt.j2").render(context)
    html = env.get_template(f"{template}.html.j2").render(context)
    # A key-derived boundary keeps re-renders byte-identical, so .eml files are idempotent.
    boundary = "deskwatch-" + hashlib.sha256(alert.alert_key.encode()).hexdigest()[:40]
    return multipart_email(headers, text, html, boundary)


def _email_context(alert: AlertMessage) -> dict[str, object]:
    return {
        "alert": alert,
        "headline": one_line(update_prefix(alert) + alert.headline),
        "url": safe_url(alert.url),
        "published": iso(alert.published),
        "detected": iso(alert.detected_at),
        "published_local": local_time(alert.published, alert.timezone),
        "detected_local": local_time(alert.detected_at, alert.timezone),
        "changed": what_changed(alert.changes),
        "topics": [
            {"hit": hit, "passages": [highlight_runs(p) for p in hit.passages]}
            for hit in alert.hits()
        ],
        "others": [(one_line(o.outlet), safe_url(o.url)) for o in alert.also_reported_by],
    }
