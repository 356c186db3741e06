"""Pure renderers for notices to a desk about the service itself: a source died or recovered,
or a test of the desk's channels. No topic, no story: a headline, the details, a link."""

from __future__ import annotations

from email.message import EmailMessage

from slack_sdk.models.blocks import Block

from alerts.delivery.render import SUBJECT_MAX, build_email, iso, local_time, one_line, safe_url
from alerts.delivery.render_slack import (
    SLACK_TEXT_MAX,
    context_block,
    section_block,
    slack_escape,
    slack_url,
)
from alerts.models import AlertMessage

LABELS = {"source-down": "Source down", "source-up": "Source recovered", "test": "Test message"}
DETAIL_MAX = 1000


def notice_label(alert: AlertMessage) -> str:
    """`Source down`, `Source recovered` or `Test message`."""
    return LABELS.get(alert.kind, "Notice")


def notice_details(alert: AlertMessage) -> list[str]:
    """The notice's detail lines (carried as passages), each on one line and capped."""
    return [one_line(p.text, DETAIL_MAX) for p in alert.passages if p.text.strip()]


def notice_subject(alert: AlertMessage) -> str:
    """`[deskwatch] Source down: <headline>` on one line, capped."""
    return one_line(f"[deskwatch] {notice_label(alert)}: {alert.headline}", SUBJECT_MAX)


def render_notice_email(alert: AlertMessage, sender: str) -> EmailMessage:
    """A multipart/alternative email for a notice."""
    context: dict[str, object] = {
        "alert": alert,
        "label": notice_label(alert),
        "headline": one_line(alert.headline),
        "url": safe_url(alert.url),
        "details": notice_details(alert),
        "at": iso(alert.detected_at),
        "at_local": local_time(alert.detected_at, alert.timezone),
    }
    return build_email(alert, sender, notice_subject(alert), "alert_notice", context)


def render_notice_slack(alert: AlertMessage) -> dict[str, object]:
    """An incoming-webhook payload for a notice: headline, details, when and for whom."""
    head = f"*{slack_escape(notice_label(alert))}:* {slack_escape(one_line(alert.headline))}"
    link = slack_url(alert.url)
    lines = [head[:SLACK_TEXT_MAX]]
    lines += [slack_escape(line)[:SLACK_TEXT_MAX] for line in notice_details(alert)]
    blocks: list[Block] = [section_block(line) for line in lines[:40]]
    when = local_time(alert.detected_at, alert.timezone)
    desk = f"deskwatch · {slack_escape(one_line(alert.desk_name, 200))}"
    source = slack_escape(one_line(alert.outlet, 200))
    if source:
        blocks.append(context_block(when, f"<{link}|{source}>" if link else source))
    else:
        blocks.append(context_block(when))
    blocks.append(context_block(desk))
    fallback = one_line(f"[deskwatch] {notice_label(alert)}: {alert.headline}")
    return {
        "text": slack_escape(fallback)[:SLACK_TEXT_MAX],
        "blocks": [block.to_dict() for block in blocks],
    }
