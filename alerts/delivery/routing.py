"""Desk routing: which desk hears about which match, on which channels. Pure.

When each alert goes out (quiet hours, budgets) is decided at delivery, in alerts.delivery.policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerts.delivery.policy import follows
from alerts.models import AlertMessage, Change, OtherOutlet, Passage, TopicHit
from monitors.models import NewItem, OutboxDraft, StoryNews, TopicMatch
from seeds.models import ChannelKind, DeskSpec, Severity, TopicSpec


def alert_key(desk_id: str, channel: ChannelKind, story_key: str) -> str:
    """The idempotency key of an alert: one per desk, channel and story, whatever its topics."""
    return f"{desk_id}|{channel}|{story_key}"


def update_key(base_key: str, number: int) -> str:
    """The key of a story's Nth update alert: unique, so replays queue it once."""
    return f"{base_key}|update-{number}"


def leading_first(found: Sequence[TopicMatch]) -> list[TopicMatch]:
    """Matches by severity, then score (highest first), then topic id: the first leads."""
    return sorted(found, key=lambda m: (-Severity(m.severity).rank, -m.score, m.topic))


def plan_alerts(
    desks: Sequence[DeskSpec],
    topics: Sequence[TopicSpec],
    item: NewItem,
    found: Sequence[TopicMatch],
    news: StoryNews | None = None,
) -> list[OutboxDraft]:
    """One draft per (desk, channel) for a story with matches the desk follows and scores enough.

    The draft names every such topic. A desk already told the story gets nothing, or an update
    when the copy states a material new fact. A digest-only desk gets no drafts at all: its
    digest reads the matches themselves.
    """
    news = news or StoryNews()
    titles = {t.id: t.title for t in topics}
    drafts: list[OutboxDraft] = []
    for desk in desks:
        hits = leading_first([m for m in found if follows(desk, m)])
        if not hits:
            continue
        for channel in desk.channels:
            base = _message(desk, channel.kind, titles, item, hits)
            planned = _for_story(base, news)
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
                    topic_id=message.topic_id,
                    story_key=item.story_key,
                    payload_json=message.model_dump_json(),
                    kind=message.kind,
                )
            )
    return drafts


def _for_story(message: AlertMessage, news: StoryNews) -> AlertMessage | None:
    """The new alert, the story's update, or None when the desk already has the story."""
    others = [OtherOutlet(outlet=o, url=u) for o, u in news.others]
    if (message.desk_id, message.channel) not in news.told:
        return message.model_copy(update={"also_reported_by": others})
    if not news.update or not news.changes:
        return None
    changes = [Change(fact=c.fact, earlier=list(c.earlier)) for c in news.changes]
    return message.model_copy(
        update={
            "alert_key": update_key(message.alert_key, news.update),
            "kind": "update",
            "changes": changes,
            "also_reported_by": others,
        }
    )


def _message(
    desk: DeskSpec,
    channel: ChannelKind,
    titles: dict[str, str],
    item: NewItem,
    hits: Sequence[TopicMatch],
) -> AlertMessage:
    """The alert about the item's story; the leading (first) match fills the top-level fields."""
    topics = [
        TopicHit(
            topic_id=m.topic,
            title=titles[m.topic],
            severity=m.severity,
            score=m.score,
            passages=[Passage(text=e.text, highlights=list(e.highlights)) for e in m.evidence],
        )
        for m in hits
    ]
    lead = topics[0]
    return AlertMessage(
        alert_key=alert_key(desk.id, channel, item.story_key),
        desk_id=desk.id,
        desk_name=desk.name,
        channel=channel,
        topic_id=lead.topic_id,
        topic_title=lead.title,
        severity=lead.severity,
        score=lead.score,
        headline=item.title,
        url=item.url,
        outlet=item.outlet,
        published=item.published,
        detected_at=item.detected_at,
        passages=list(lead.passages),
        topics=topics,
        timezone=desk.timezone,
    )
