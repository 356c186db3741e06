"""Pure renderers for summary alerts, and the choice between them and single-alert renderers."""

from __future__ import annotations

import json
from email.message import EmailMessage

from slack_sdk.models.blocks import Block, DividerBlock

from alerts.delivery.render import (
    SUBJECT_MAX,
    build_email,
    iso,
    local_time,
    one_line,
    render_email,
    safe_url,
)
from alerts.delivery.render_notice import render_notice_email, render_notice_slack
from alerts.delivery.render_slack import (
    SLACK_MAX_BLOCKS,
    SLACK_TEXT_MAX,
    context_block,
    render_slack,
    section_block,
    slack_escape,
    slack_url,
)
from alerts.delivery.summaries import carried
from alerts.models import NOTICE_KINDS, AlertMessage, SummaryItem

ITEM_HEADLINE_MAX = 200
ITEM_FIELD_MAX = 80
ITEM_URL_MAX = 1000  # with the capped text, one item line always fits a section


def email_message(alert: AlertMessage, sender: str) -> EmailMessage:
    """The email for any alert: a summary, a notice or a single alert."""
    if alert.kind in NOTICE_KINDS:
        return render_notice_email(alert, sender)
    return (
        render_summary_email(alert, sender)
        if alert.kind == "summary"
        else render_email(alert, sender)
    )


def slack_payload(alert: AlertMessage) -> dict[str, object]:
    """The Slack payload for any alert: a summary, a notice or a single alert."""
    if alert.kind in NOTICE_KINDS:
        return render_notice_slack(alert)
    return render_summary_slack(alert) if alert.kind == "summary" else render_slack(alert)


def slack_json(alert: AlertMessage) -> str:
    """The Slack payload for any alert as pretty, stable JSON text."""
    return json.dumps(slack_payload(alert), ensure_ascii=False, indent=2) + "\n"


def _count(alert: AlertMessage) -> str:
    n = carried(alert)
    return f"{n} alert" if n == 1 else f"{n} alerts"


def summary_subject(alert: AlertMessage) -> str:
    """`[deskwatch] <what was held> — N alerts` on one line, capped."""
    return one_line(f"[deskwatch] {alert.headline} — {_count(alert)}", SUBJECT_MAX)


def render_summary_email(alert: AlertMessage, sender: str) -> EmailMessage:
    """A multipart/alternative (text + HTML) email listing a summary's alerts."""
    context: dict[str, object] = {
        "alert": alert,
        "headline": one_line(alert.headline),
        "count": _count(alert),
        "items": [_item_context(item, alert.timezone) for item in alert.items],
        "more": alert.more_items,
    }
    return build_email(alert, sender, summary_subject(alert), "alert_summary", context)


def _item_context(item: SummaryItem, timezone: str) -> dict[str, object]:
    return {
        "headline": one_line(item.headline, ITEM_HEADLINE_MAX),
        "url": safe_url(item.url),
        "outlet": one_line(item.outlet, ITEM_FIELD_MAX),
        "topic": one_line(" + ".join([item.topic_title, *item.other_topics]), ITEM_FIELD_MAX),
        "severity": one_line(item.severity, 20),
        "detected": iso(item.detected_at),
        "detected_local": local_time(item.detected_at, timezone),
    }


def render_summary_slack(alert: AlertMessage) -> dict[str, object]:
    """An incoming-webhook payload: the summary's title, then its alerts, within Slack's limits."""
    head = slack_escape(one_line(alert.headline, 300))
    desk = slack_escape(one_line(alert.desk_name, 200))
    blocks: list[Block] = [
        section_block(f"*{head}*"),
        context_block(f"{_count(alert)} · deskwatch · {desk}"),
        DividerBlock(),
    ]
    room = SLACK_MAX_BLOCKS - len(blocks) - 1  # one left for "+N more"
    sections, listed = _item_sections(alert.items, room, alert.timezone)
    blocks.extend(section_block(text) for text in sections)
    if hidden := carried(alert) - listed:
        blocks.append(context_block(f"+{hidden} more in the digest"))
    fallback = f"[deskwatch] {alert.headline} — {_count(alert)}"
    return {
        "text": slack_escape(one_line(fallback, 1000)),
        "blocks": [block.to_dict() for block in blocks],
    }


def _item_sections(items: list[SummaryItem], room: int, timezone: str) -> tuple[list[str], int]:
    """Item lines packed into at most `room` sections of SLACK_TEXT_MAX; and how many fit."""
    sections: list[str] = []
    current: list[str] = []
    size = listed = 0
    for item in items:
        line = _item_line(item, timezone)
        if current and size + 1 + len(line) > SLACK_TEXT_MAX:
            sections.append("\n".join(current))
            current, size = [], 0
            if len(sections) == room:
                break
        size += len(line) + (1 if current else 0)
        current.append(line)
        listed += 1
    if current:
        sections.append("\n".join(current))
    return sections, listed


def _item_line(item: SummaryItem, timezone: str) -> str:
    """`• <url|headline> — outlet · topic · severity · time`, every feed field escaped."""
    text = slack_escape(one_line(item.headline, ITEM_HEADLINE_MAX))
    target = slack_url(item.url)
    link = f"<{target}|{text}>" if target and len(target) <= ITEM_URL_MAX else text
    topic = " + ".join([item.topic_title, *item.other_topics])
    extras = (one_line(item.outlet, ITEM_FIELD_MAX), one_line(topic, ITEM_FIELD_MAX))
    tail = " · ".join(slack_escape(extra) for extra in extras if extra)
    when = local_time(item.detected_at, timezone)
    return f"• {link} — {tail} · {slack_escape(one_line(item.severity, 20))} · {when}"
