"""Desk routing: which desk hears about which match, on which channels. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from alerts.models import AlertMessage, Passage
from monitors.models import NewItem, OutboxDraft, TopicMatch
from seeds.models import DeskSpec, TopicSpec


def alert_key(desk_id: str, channel: str, topic_id: str, story_key: str) -> str:
    """The idempotency key of an alert: one per desk, channel, topic and story."""
    return f"{desk_id}|{channel}|{topic_id}|{story_key}"


def plan_alerts(
    desks: Sequence[DeskSpec],
    topics: Sequence[TopicSpec],
    item: NewItem,
    found: Sequence[TopicMatch],
) -> list[OutboxDraft]:
    """One draft per (desk, channel, topic) for matches the desk follows and scores enough."""
    titles = {t.id: t.title for t in topics}
    drafts: list[OutboxDraft] = []
    for desk in desks:
        for match in found:
            if match.topic not in desk.topics or match.score < desk.min_score:
                continue
            for channel in desk.channels:
                message = _message(desk, channel.kind.value, titles[match.topic], item, match)
                message = message.model_copy(
                    update={"recipients": list(channel.to), "webhook": channel.webhook}
                )
                drafts.append(
                    OutboxDraft(
                        alert_key=message.alert_key,
                        desk_id=desk.id,
                        channel=channel.kind.value,
                        topic_id=match.topic,
                        story_key=item.story_key,
                        payload_json=message.model_dump_json(),
                    )
                )
    return drafts


def _message(
    desk: DeskSpec, channel: str, topic_title: str, item: NewItem, match: TopicMatch
) -> AlertMessage:
    return AlertMessage(
        alert_key=alert_key(desk.id, channel, match.topic, item.story_key),
        desk_id=desk.id,
        desk_name=desk.name,
        channel=channel,
        topic_id=match.topic,
        topic_title=topic_title,
        severity=match.severity,
        score=match.score,
        headline=item.title,
        url=item.url,
        outlet=item.outlet,
        published=item.published,
        detected_at=item.detected_at,
        passages=[Passage(text=e.text, highlights=list(e.highlights)) for e in match.evidence],
    )
