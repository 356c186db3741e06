"""Source health for operators: tell a desk once when a source dies and once when it recovers.

A source is dead after N failed checks in a row (the desk's `source_health.after_failures`), or
when its checks succeed but it has been silent much longer than usual (the digest's rule,
alerts.digest.health). It is alive again when its last check succeeded and it is not silent.
Between the two (a failure or two after an outage) nothing is said: the outage goes on.

What the desk was already told is read back from the outbox (story keys `source-down:…` and
`source-up:…`), so a repeated check never repeats a message and a recovery is announced only
for a source that was announced down. The keys carry the outage's start (last success, or last
item for a silence) and the recovery time: two checks racing queue one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from alerts.delivery.routing import alert_key
from alerts.digest.health import source_healths
from alerts.models import AlertMessage, DigestSource, Passage
from monitors.models import OutboxDraft, SourceStatus
from monitors.store import Store
from monitors.store.rows import StoryMark
from seeds.models import DeskSpec, Seeds, Severity

EventKind = Literal["source-down", "source-up"]
PREFIX = "source-"  # story keys of health notices; real story keys are URLs or hashes
TOPIC_ID = "source-health"
TOPIC_TITLE = "Source health"


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """A source died or recovered, as one desk should hear it."""

    kind: EventKind
    source: DigestSource
    since: datetime | None  # down: the outage's start (None: never worked); up: recovery time
    headline: str
    details: tuple[str, ...]

    @property
    def story_key(self) -> str:
        """`source-down:<source id>:<since>`: one per outage, one per recovery."""
        return f"{self.kind}:{self.source.source_id}:{_stamp(self.since)}"


def is_dead(health: DigestSource, after_failures: int) -> bool:
    """N failures in a row, or silent although it has brought items before."""
    if health.status is SourceStatus.FAILED:
        return health.consecutive_failures >= after_failures
    return health.status is SourceStatus.SILENT and health.last_item_at is not None


def is_alive(health: DigestSource, after_failures: int) -> bool:
    """Its last check succeeded and it is not dead (a source yet to bring an item is alive)."""
    worked = health.status not in (SourceStatus.FAILED, SourceStatus.NEVER_CHECKED)
    return worked and not is_dead(health, after_failures)


def last_told(marks: Iterable[StoryMark]) -> dict[str, EventKind]:
    """Per source id, the kind of the latest notice the desk was queued (marks oldest first)."""
    told: dict[str, EventKind] = {}
    for mark in marks:
        kind, _, rest = mark.story_key.partition(":")
        source_id, _, _ = rest.partition(":")
        if kind == "source-down":
            told[source_id] = "source-down"
        elif kind == "source-up":
            told[source_id] = "source-up"
    return told


def health_events(
    healths: Sequence[DigestSource], told: Mapping[str, EventKind], after_failures: int
) -> list[SourceEvent]:
    """What the desk must hear now: a death not yet told, a recovery after a told death."""
    events: list[SourceEvent] = []
    for health in healths:
        was_down = told.get(health.source_id) == "source-down"
        if not was_down and is_dead(health, after_failures):
            events.append(_down(health))
        elif was_down and is_alive(health, after_failures):
            events.append(_up(health))
    return events


def _down(health: DigestSource) -> SourceEvent:
    name = health.name
    if health.status is SourceStatus.FAILED:
        n = health.consecutive_failures
        headline = f"{name}: {n} failed checks in a row"
        why = f"Last error: {health.reason}" + (f" ({health.detail})" if health.detail else "")
        last_ok = f"Last successful check: {_when(health.last_ok_at)}"
        return SourceEvent("source-down", health, health.last_ok_at, headline, (why, last_ok))
    headline = f"{name}: {health.reason}"
    checked = f"Checks succeed (last at {_when(health.last_checked_at)}) but bring nothing new."
    last_item = f"Last new item: {_when(health.last_item_at)}"
    return SourceEvent("source-down", health, health.last_item_at, headline, (checked, last_item))


def _up(health: DigestSource) -> SourceEvent:
    headline = f"{health.name}: checks succeed again"
    details = (
        f"Last successful check: {_when(health.last_ok_at)}",
        f"Last new item: {_when(health.last_item_at)}",
    )
    return SourceEvent("source-up", health, health.last_ok_at, headline, details)


def notice_drafts(
    desk: DeskSpec, events: Sequence[SourceEvent], urls: Mapping[str, str], now: datetime
) -> list[OutboxDraft]:
    """One outbox draft per event and desk channel, keyed `desk|channel|source-down:…`."""
    drafts: list[OutboxDraft] = []
    for event in events:
        for channel in desk.channels:
            message = AlertMessage(
                alert_key=alert_key(desk.id, channel.kind, event.story_key),
                kind=event.kind,
                desk_id=desk.id,
                desk_name=desk.name,
                channel=channel.kind,
                topic_id=TOPIC_ID,
                topic_title=TOPIC_TITLE,
                # A death may break through quiet hours set to let high alerts in; a recovery
                # can wait for the morning summary.
                severity=Severity.HIGH if event.kind == "source-down" else Severity.MEDIUM,
                score=0.0,
                headline=event.headline,
                url=urls.get(event.source.source_id, ""),
                outlet=event.source.name,
                detected_at=now,
                passages=[Passage(text=line) for line in event.details],
                timezone=desk.timezone,
                recipients=list(channel.to),
                webhook=channel.webhook,
            )
            drafts.append(
                OutboxDraft(
                    alert_key=message.alert_key,
                    desk_id=desk.id,
                    channel=channel.kind,
                    topic_id=TOPIC_ID,
                    story_key=event.story_key,
                    payload_json=message.model_dump_json(),
                    kind=event.kind,
                )
            )
    return drafts


def _stamp(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- the shell: read the store, queue what must be said -----------------------------------


def operator_desks(seeds: Seeds) -> list[DeskSpec]:
    """The desks that asked to hear about source health."""
    return [d for d in seeds.desks if d.source_health is not None]


def queue_source_notices(store: Store, seeds: Seeds, now: datetime) -> list[SourceEvent]:
    """Evaluate every enabled source and queue what each operators' desk must hear now."""
    desks = operator_desks(seeds)
    if not desks:
        return []
    with store.digest_reads() as reads:
        healths = source_healths(reads, seeds.sources, now)
    urls = {s.id: s.url for s in seeds.sources}
    queued: list[SourceEvent] = []
    for desk in desks:
        assert desk.source_health is not None
        told = last_told(store.outbox.story_marks(desk.id, PREFIX))
        events = health_events(healths, told, desk.source_health.after_failures)
        store.outbox.queue(notice_drafts(desk, events, urls, now), now)
        queued.extend(events)
    return queued
