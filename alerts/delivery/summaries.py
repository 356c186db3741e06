"""Summary alerts: one message carrying the alerts that quiet hours or a budget held back. Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.delivery.policy import burst_story_key, quiet_story_key
from alerts.models import AlertMessage, SummaryItem
from seeds.models import DeskSpec

MAX_ITEMS = 100  # listed in full; more are counted, so a long flood keeps the row small
QUIET_TOPIC = "*"  # a quiet-hours summary spans every topic of the desk


def summary_key(desk_id: str, channel: str, topic_id: str, story_key: str) -> str:
    """A summary row's key: `desk|channel|topic|summary:…` (per topic: budgets count per topic)."""
    return f"{desk_id}|{channel}|{topic_id}|{story_key}"


def summary_item(alert: AlertMessage) -> SummaryItem:
    """The part of an alert a summary lists."""
    return SummaryItem(
        alert_key=alert.alert_key,
        topic_id=alert.topic_id,
        topic_title=alert.topic_title,
        severity=alert.severity,
        score=alert.score,
        headline=alert.headline,
        url=alert.url,
        outlet=alert.outlet,
        detected_at=alert.detected_at,
        other_topics=[hit.title for hit in alert.hits()[1:]],
    )


def _span(desk: DeskSpec, start: datetime, end: datetime) -> str:
    """`22:00–07:00 KST`: a period in the desk's local time."""
    zone = ZoneInfo(desk.timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return f"{local_start:%H:%M}–{local_end:%H:%M} {local_end.tzname() or desk.timezone}"


def burst_summary(
    desk: DeskSpec, alert: AlertMessage, start: datetime, end: datetime, limit: int, now: datetime
) -> AlertMessage:
    """An empty burst summary for the alert's desk, channel and topic in one budget window."""
    story = burst_story_key(start)
    headline = f"{alert.topic_title}: more than {limit} alerts an hour ({_span(desk, start, end)})"
    return _summary(alert, "burst", story, alert.topic_id, alert.topic_title, headline, now)


def quiet_summary(
    desk: DeskSpec, alert: AlertMessage, start: datetime, end: datetime, now: datetime
) -> AlertMessage:
    """An empty quiet-hours summary for the alert's desk and channel, every topic."""
    story = quiet_story_key(end)
    headline = f"Held during quiet hours ({_span(desk, start, end)})"
    return _summary(alert, "quiet-hours", story, QUIET_TOPIC, "All topics", headline, now)


def _summary(
    alert: AlertMessage,
    reason: str,
    story: str,
    topic_id: str,
    topic_title: str,
    headline: str,
    now: datetime,
) -> AlertMessage:
    return alert.model_copy(
        update={
            "alert_key": summary_key(alert.desk_id, alert.channel, topic_id, story),
            "kind": "summary",
            "summary_of": reason,
            "topic_id": topic_id,
            "topic_title": topic_title,
            "headline": headline,
            "url": "",
            "outlet": "",
            "published": None,
            "detected_at": now,
            "passages": [],
            "topics": [],
            "changes": [],
            "also_reported_by": [],
            "items": [],
            "more_items": 0,
        }
    )


def with_item(summary: AlertMessage, alert: AlertMessage) -> AlertMessage:
    """The summary carrying one more alert (once: carrying it again changes nothing)."""
    if any(item.alert_key == alert.alert_key for item in summary.items):
        return summary
    if len(summary.items) >= MAX_ITEMS:
        return summary.model_copy(update={"more_items": summary.more_items + 1})
    first = not summary.items
    higher = alert.severity.rank > summary.severity.rank
    return summary.model_copy(
        update={
            "items": [*summary.items, summary_item(alert)],
            "severity": alert.severity if first or higher else summary.severity,
            "score": alert.score if first else max(summary.score, alert.score),
        }
    )


def carried(summary: AlertMessage) -> int:
    """How many alerts a summary carries."""
    return len(summary.items) + summary.more_items
