"""Alerts queued straight into a store the way a poll would: item, match and outbox row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.models import AlertMessage, Passage
from monitors.models import Evidence, NewItem, OutboxDraft, TopicMatch
from monitors.store import Store

TOPIC_TITLES = {
    "troop-deployment": "North Korean troops fighting for Russia",
    "arms-transfers": "Arms and military technology between Pyongyang and Moscow",
}


def alert_for(
    desk: str, channel: str, topic: str, story: str, at: datetime, **changes: Any
) -> AlertMessage:
    """A realistic alert; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "alert_key": f"{desk}|{channel}|{story}",
        "desk_id": desk,
        "desk_name": desk.replace("-", " ").capitalize(),
        "channel": channel,
        "topic_id": topic,
        "topic_title": TOPIC_TITLES.get(topic, topic),
        "severity": "high",
        "score": 6.0,
        "headline": f"Headline of {story}",
        "url": f"https://wire.example/{story}",
        "outlet": "Example Wire",
        "detected_at": at,
        "passages": [Passage(text="North Korean troops in Kursk.", highlights=[(0, 20)])],
        "recipients": [f"{desk}@newsroom.example"] if channel == "email" else [],
        "webhook": desk if channel == "slack" else None,
    }
    return AlertMessage(**(fields | changes))


def queue_story(
    store: Store,
    story: str,
    at: datetime,
    alerts: list[AlertMessage],
) -> int:
    """Record one item of `story` with a match per alert topic and queue the alerts."""
    topics = sorted({a.topic_id for a in alerts})
    item = NewItem(
        source_id="wire",
        item_key=story,
        url=f"https://wire.example/{story}",
        canonical_url=f"https://wire.example/{story}",
        title=alerts[0].headline,
        outlet="Example Wire",
        published=at,
        detected_at=at,
        fingerprint=f"fp-{story}",
        story_key=story,
    )
    found = [TopicMatch(t, 6.0, "high", (Evidence("North Korean troops.", 0, 20),)) for t in topics]
    drafts = [
        OutboxDraft(a.alert_key, a.desk_id, a.channel, a.topic_id, story, a.model_dump_json())
        for a in alerts
    ]
    return store.record_item(item, found, drafts)
