"""Desk routing: which desk hears about which match, on which channels. Pure.

When each alert goes out (quiet hours, budgets) is decided at delivery, in alerts.delivery.policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerts.delivery.policy import follows
from alerts.models import AlertMessage, OtherOutlet, Passage
from monitors.models import NewItem, OutboxDraft, StoryNews, TopicMatch
from seeds.models import ChannelKind, DeskSpec, TopicSpec


def alert_key(desk_id: str, channel: ChannelKind, topic_id: str, story_key: str) -> str:
    """The idempotency key of an alert: one per desk, channel, topic and story."""
    return f"{desk_id}|{channel}|{topic_id}|{story_key}"


def update_key(base_key: str, number: int) -> str:
    """The key of a story's Nth update alert: unique, so replays queue it once."""
    return f"{base_key}|update-{number}"


def plan_alerts(
    desks: Sequence[DeskSpec],
    topics: Sequence[TopicSpec],
    item: NewItem,
    found: Sequence[TopicMatch],
    news: StoryNews | None = None,
) -> list[OutboxDraft]:
    """One draft per (desk, channel, topic) for matches the desk follows and scores enough.

    A desk already told the story gets nothing, or an update when the copy brings new figures.
    A digest-only desk gets no drafts at all: its digest reads the matches themselves.
    """
    news = news or StoryNews()
    titles = {t.id: t.title for t in topics}
    drafts: list[OutboxDraft] = []
    for desk in desks:
        for match in found:
            if not follows(desk, match):
                continue
            for channel in desk.channels:
                base = _message(desk, channel.kind, titles[match.topic], item, match)
                planned = _for_story(base, news, match.topic)
                if planned is None:
                    continue
                message = planned.model_copy(
                    update={"recipients": list(channel.to), "webhook": channel.webhook}
                )
                drafts.append(
                    OutboxDraft(
                        alert_key=message.alert_key,
                        desk_id=desk.id,
                        channel=channel.kind,
                        topic_id=match.topic,
                        story_key=item.story_key,
                        payload_json=message.model_dump_json(),
                        kind=message.kind,
                    )
                )
    return drafts


def _for_story(message: AlertMessage, news: StoryNews, topic_id: str) -> AlertMessage | None:
    """The new alert, the story's update, or None when the desk already has the story."""
    others = [OtherOutlet(outlet=o, url=u) for o, u in news.others]
    if message.alert_key not in news.told:
        return message.model_copy(update={"also_reported_by": others})
    if not news.update or topic_id not in news.update_topics:
        return None
    key = update_key(message.alert_key, news.update)
    return message.model_copy(
        update={"alert_key": key, "kind": "update", "also_reported_by": others}
    )


def _message(
    desk: DeskSpec, channel: ChannelKind, topic_title: str, item: NewItem, match: TopicMatch
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
