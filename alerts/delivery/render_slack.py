"""Pure Slack renderer for one alert, and the Block Kit pieces summaries share with it."""

from __future__ import annotations

import json
import re

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from alerts.delivery.render import (
    CONTROL,
    highlight_runs,
    local_time,
    one_line,
    safe_url,
    topic_line,
    truncate,
    update_prefix,
    what_changed,
)
from alerts.models import AlertMessage, OtherOutlet, Passage, TopicHit

SLACK_TEXT_MAX = 3000  # Slack rejects a section whose text is longer
SLACK_MAX_BLOCKS = 50  # Slack rejects a message with more blocks
SLACK_MAX_PASSAGES = 10  # more would bury the headline; the rest are counted instead
HEADLINE_MAX = 500
SLACK_URL_MAX = 2000  # a longer link could not share a section with its label

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


def slack_escape(text: str) -> str:
    """Feed text made inert for Slack mrkdwn: no mention, link or formatting survives."""
    return _BROADCAST.sub("@\u2060", CONTROL.sub(" ", text).translate(_MRKDWN))


def slack_url(url: str) -> str | None:
    """A safe URL for the inside of `<url|label>`, or None when it is not a plain http(s) link."""
    safe = safe_url(url)
    if safe is None or len(safe) > SLACK_URL_MAX:
        return None
    return safe.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def render_slack(alert: AlertMessage) -> dict[str, object]:
    """An incoming-webhook payload: fallback text plus Block Kit blocks."""
    hits = alert.hits()
    blocks: list[Block] = []
    if changed := what_changed(alert.changes):
        blocks.append(section_block(slack_escape(changed)))
    headline = _escape_within(one_line(update_prefix(alert) + alert.headline), HEADLINE_MAX)
    blocks.append(section_block(_link(alert.url, headline, "*")))
    blocks.append(
        context_block(
            slack_escape(one_line(alert.outlet, 200)),
            f"published {local_time(alert.published, alert.timezone)}",
            f"detected {local_time(alert.detected_at, alert.timezone)}",
        )
    )
    blocks.extend(_topic_blocks(hits))
    if alert.also_reported_by:
        blocks.append(section_block(_also_reported(alert.also_reported_by)))
    blocks.append(context_block(f"deskwatch · {slack_escape(one_line(alert.desk_name, 200))}"))
    head = f"{update_prefix(alert)}{topic_line(hits)}: {alert.headline}"
    fallback = f"[deskwatch] {head} — {alert.outlet}"
    return {
        "text": _escape_within(one_line(fallback), SLACK_TEXT_MAX),
        "blocks": [block.to_dict() for block in blocks[:SLACK_MAX_BLOCKS]],
    }


def _topic_blocks(hits: list[TopicHit]) -> list[Block]:
    """Each topic's line and its passages; SLACK_MAX_PASSAGES in all, the rest counted."""
    blocks: list[Block] = []
    room = SLACK_MAX_PASSAGES
    for hit in hits:
        blocks.append(
            context_block(
                f"*Topic:* {slack_escape(one_line(hit.title, 300))}",
                f"*Severity:* {slack_escape(one_line(hit.severity, 50))}",
                f"*Score:* {hit.score:.2f}",
            )
        )
        shown = hit.passages[:room]
        room -= len(shown)
        if shown:
            blocks.append(DividerBlock())
        blocks.extend(section_block(">" + _passage_mrkdwn(p, SLACK_TEXT_MAX - 1)) for p in shown)
        if hidden := len(hit.passages) - len(shown):
            blocks.append(context_block(f"+{hidden} more matching passages"))
    return blocks


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
