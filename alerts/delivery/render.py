"""Pure renderers for one alert: an email message and a Slack incoming-webhook payload."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from urllib.parse import urlsplit

import jinja2
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from alerts.models import AlertMessage, OtherOutlet, Passage

SUBJECT_MAX = 200
SLACK_TEXT_MAX = 3000  # Slack rejects a section whose text is longer
SLACK_MAX_BLOCKS = 50  # Slack rejects a message with more blocks
SLACK_MAX_PASSAGES = 10  # more would bury the headline; the rest are counted instead
HEADLINE_MAX = 500
SLACK_URL_MAX = 2000  # a longer link could not share a section with its label

# C0/C1 controls, line/paragraph separators and bidi overrides: none belongs in a one-line field,
# and bidi overrides can make a subject or headline read differently from what it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MRKDWN = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        # Full-width look-alikes: the text reads the same but can never open bold/italic/code.
        "*": "\uff0a",
        "_": "\uff3f",
        "~": "\uff5e",
        "`": "\uff40",
    }
)
# A word joiner after "@" stops Slack from parsing a bare @channel/@here/@everyone.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)

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
    return truncate(" ".join(_CONTROL.sub(" ", text).split()), limit)


def safe_url(url: str) -> str | None:
    """The URL when it is an absolute http(s) link, else None (no javascript: or data: links)."""
    candidate = url.strip().replace(" ", "%20")
    if _CONTROL.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    return candidate if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def iso(when: datetime | None) -> str:
    """An ISO 8601 timestamp to the second, or "unknown"."""
    return "unknown" if when is None else when.isoformat(timespec="seconds")


def highlight_runs(passage: Passage) -> Runs:
    """Split a passage into (text, highlighted) runs; bad spans are clamped, overlaps merged."""
    text = _CONTROL.sub(" ", passage.text)  # same length, so the spans still line up
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


def label(text: str) -> str:
    """A lowercase [a-z0-9-] label (for List-Id and file names); never empty."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "desk"


# --- email -----------------------------------------------------------------------------------


def message_id_for(alert_key: str) -> str:
    """The deterministic Message-ID for an alert key, so a re-send is recognisably the same mail."""
    return f"<{hashlib.sha256(alert_key.encode('utf-8')).hexdigest()[:32]}@deskwatch>"


def email_subject(alert: AlertMessage) -> str:
    """`[deskwatch] [Update: ]<topic>: <headline>` on one line, capped."""
    return one_line(
        f"[deskwatch] {_update(alert)}{alert.topic_title}: {alert.headline}", SUBJECT_MAX
    )


def _update(alert: AlertMessage) -> str:
    """The prefix that tells a story's update from its first alert."""
    return "Update: " if alert.kind == "update" else ""


def render_email(alert: AlertMessage, sender: str) -> EmailMessage:
    """A multipart/alternative (text + HTML) email for one alert."""
    return build_email(alert, sender, email_subject(alert), "alert_email", _email_context(alert))


def build_email(
    alert: AlertMessage, sender: str, subject: str, template: str, context: dict[str, object]
) -> EmailMessage:
    """Headers from the alert, text and HTML parts from `<template>.{txt,html}.j2`."""
    env = template_environment()
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = one_line(sender)
    if alert.recipients:
        msg["To"] = ", ".join(one_line(r) for r in alert.recipients)
    detected = alert.detected_at
    msg["Date"] = format_datetime(detected if detected.tzinfo else detected.replace(tzinfo=UTC))
    msg["Message-ID"] = message_id_for(alert.alert_key)
    msg["List-Id"] = f"<{label(alert.desk_id)}.deskwatch>"
    msg["X-Deskwatch-Alert-Key"] = one_line(alert.alert_key)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies back to us
    msg.set_content(env.get_template(f"{template}.txt.j2").render(context))
    msg.add_alternative(env.get_template(f"{template}.html.j2").render(context), subtype="html")
    # A key-derived boundary keeps re-renders byte-identical, so .eml files are idempotent.
    msg.set_boundary("deskwatch-" + hashlib.sha256(alert.alert_key.encode()).hexdigest()[:40])
    return msg


def _email_context(alert: AlertMessage) -> dict[str, object]:
    return {
        "alert": alert,
        "headline": one_line(_update(alert) + alert.headline),
        "url": safe_url(alert.url),
        "published": iso(alert.published),
        "detected": iso(alert.detected_at),
        "passages": [highlight_runs(p) for p in alert.passages],
        "others": [(one_line(o.outlet), safe_url(o.url)) for o in alert.also_reported_by],
    }


# --- Slack -----------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Feed text made inert for Slack mrkdwn: no mention, link or formatting survives."""
    return _BROADCAST.sub("@\u2060", _CONTROL.sub(" ", text).translate(_MRKDWN))


def slack_url(url: str) -> str | None:
    """A safe URL for the inside of `<url|label>`, or None when it is not a plain http(s) link."""
    safe = safe_url(url)
    if safe is None or len(safe) > SLACK_URL_MAX:
        return None
    return safe.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def render_slack(alert: AlertMessage) -> dict[str, object]:
    """An incoming-webhook payload: fallback text plus Block Kit blocks."""
    shown = alert.passages[:SLACK_MAX_PASSAGES]
    blocks: list[Block] = [
        section_block(
            _link(
                alert.url,
                _escape_within(one_line(_update(alert) + alert.headline), HEADLINE_MAX),
                "*",
            )
        ),
        context_block(
            slack_escape(one_line(alert.outlet, 200)),
            f"published {iso(alert.published)}",
            f"detected {iso(alert.detected_at)}",
        ),
        context_block(
            f"*Topic:* {slack_escape(one_line(alert.topic_title, 300))}",
            f"*Severity:* {slack_escape(one_line(alert.severity, 50))}",
            f"*Score:* {alert.score:.2f}",
        ),
    ]
    if shown:
        blocks.append(DividerBlock())
    blocks.extend(section_block(">" + _passage_mrkdwn(p, SLACK_TEXT_MAX - 1)) for p in shown)
    if hidden := len(alert.passages) - len(shown):
        blocks.append(context_block(f"+{hidden} more matching passages"))
    if alert.also_reported_by:
        blocks.append(section_block(_also_reported(alert.also_reported_by)))
    blocks.append(context_block(f"deskwatch · {slack_escape(one_line(alert.desk_name, 200))}"))
    fallback = f"[deskwatch] {_update(alert)}{alert.topic_title}: {alert.headline} — {alert.outlet}"
    return {
        "text": _escape_within(one_line(fallback), SLACK_TEXT_MAX),
        "blocks": [block.to_dict() for block in blocks[:SLACK_MAX_BLOCKS]],
    }


def render_slack_json(alert: AlertMessage) -> str:
    """The Slack payload as pretty, stable JSON text."""
    return json.dumps(render_slack(alert), ensure_ascii=False, indent=2) + "\n"


def section_block(text: str) -> SectionBlock:
    """A Slack section of mrkdwn text, cut to Slack's limit."""
    # verbatim: Slack must not auto-link channel names or URLs found in feed text.
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SLACK_TEXT_MAX), verbatim=True))


def context_block(*texts: str) -> ContextBlock:
    """A Slack context line of one or more mrkdwn texts, each cut to Slack's limit."""
    return ContextBlock(
        elements=[
            MarkdownTextObject(text=truncate(t, SLACK_TEXT_MAX), verbatim=True) for t in texts
        ]
    )


def _link(url: str, escaped_label: str, style: str = "") -> str:
    target = slack_url(url)
    text = f"<{target}|{escaped_label}>" if target else escaped_label
    return f"{style}{text}{style}"


def _escape_within(raw: str, budget: int) -> str:
    """slack_escape(raw) within `budget` characters, ending in an ellipsis if cut."""
    escaped = slack_escape(raw)
    return escaped if len(escaped) <= budget else _escape_prefix(raw, budget - 1) + "…"


def _escape_prefix(raw: str, budget: int) -> str:
    """slack_escape of the longest prefix of `raw` whose escaped form fits `budget`."""
    # Escaped length never shrinks as the prefix grows, so bisect on the raw length; cutting the
    # raw text (not the escaped one) never leaves half an entity such as "&am".
    low, high = 0, len(raw)
    while low < high:
        mid = (low + high + 1) // 2
        if len(slack_escape(raw[:mid])) <= budget:
            low = mid
        else:
            high = mid - 1
    return slack_escape(raw[:low])


def _passage_mrkdwn(passage: Passage, budget: int) -> str:
    """A passage with highlights in *bold*, within `budget` characters, markers always paired."""
    parts: list[str] = []
    left = budget - 1  # room for the ellipsis if it comes to that
    for text, marked in highlight_runs(passage):  # highlighted runs never start/end with space
        stars = "*" if marked else ""
        piece = f"{stars}{slack_escape(text)}{stars}"
        if len(piece) > left:
            cut = _escape_prefix(text, left - 2 * len(stars))
            parts.append(f"{stars}{cut}{stars}" if cut else "")
            parts.append("…")
            break
        parts.append(piece)
        left -= len(piece)
    return "".join(parts)


def _also_reported(others: list[OtherOutlet]) -> str:
    head = "*Also reported by:* "
    items: list[str] = []
    left = SLACK_TEXT_MAX - len(head) - 20  # room for " and N more"
    for index, other in enumerate(others):
        item = _link(other.url, slack_escape(one_line(other.outlet, 100)))
        if len(item) + 2 > left:
            return head + ", ".join(items) + f" and {len(others) - index} more"
        items.append(item)
        left -= len(item) + 2
    return head + ", ".join(items)
