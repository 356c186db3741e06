"""Builders of realistic test values; keyword arguments replace fields.

One builder per value, so a change to a model is made once here instead of in every test file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerts.models import AlertMessage, OtherOutlet, Passage
from monitors.models import NewItem
from seeds.models import DeskSpec

AT = datetime(2024, 12, 17, 9, 0, tzinfo=UTC)


def an_alert(**changes: Any) -> AlertMessage:
    """An email alert to a news desk about North Korean troops in Kursk."""
    fields: dict[str, Any] = {
        "alert_key": "newsdesk|email|story-1",
        "desk_id": "newsdesk",
        "desk_name": "News Desk",
        "channel": "email",
        "topic_id": "troop-deployment",
        "topic_title": "Troop deployment",
        "severity": "high",
        "score": 0.87,
        "headline": "North Korean troops arrive in Kursk",
        "url": "https://news.example.org/kursk",
        "outlet": "Example News",
        "published": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "detected_at": datetime(2025, 1, 2, 3, 10, tzinfo=UTC),
        "passages": [Passage(text="10,000 North Korean troops arrived.", highlights=[(7, 26)])],
        "also_reported_by": [OtherOutlet(outlet="Other Wire", url="https://wire.example.net/a")],
        "recipients": ["desk@example.org", "editor@example.org"],
        "timezone": "Asia/Seoul",
    }
    return AlertMessage(**(fields | changes))


def a_new_item(key: str = "k1", story: str | None = None, **changes: Any) -> NewItem:
    """An item of the `wire` source seen for the first time, its own story unless told."""
    fields: dict[str, Any] = {
        "source_id": "wire",
        "item_key": key,
        "url": f"https://wire.example/{key}",
        "canonical_url": f"https://wire.example/{key}",
        "title": f"Story {key}",
        "outlet": "Wire",
        "published": AT,
        "detected_at": AT,
        "fingerprint": f"fp-{key}",
        "story_key": story or key,
    }
    return NewItem(**(fields | changes))


def a_desk(**changes: Any) -> DeskSpec:
    """The Korea desk: troops and arms by email, in Seoul time."""
    fields: dict[str, Any] = {
        "id": "korea-desk",
        "name": "Korea desk",
        "timezone": "Asia/Seoul",
        "topics": ["troop-deployment", "arms-transfers"],
        "channels": [{"kind": "email", "to": ["desk@newsroom.example"]}],
    }
    return DeskSpec.model_validate(fields | changes)
