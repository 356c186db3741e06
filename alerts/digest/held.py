"""Alerts held for quiet hours: the quiet-hours summary that carries them, when it goes out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from alerts.delivery.policy import SUMMARY_PREFIX
from alerts.models import DigestRelease
from monitors.store.rows import HeldAlert, OutboxStatus, QuietSummary

QUIET_PREFIX = f"{SUMMARY_PREFIX}quiet-"  # the story keys of `policy.quiet_story_key`


def carrier(alert: HeldAlert, summaries: Sequence[QuietSummary]) -> QuietSummary | None:
    """The summary of the alert's channel due soonest after the alert was queued.

    An alert is held when it is settled inside quiet hours, minutes after it was queued, so the
    first quiet period of its channel ending after that is the one whose summary carries it.
    """
    later = [s for s in summaries if s.channel == alert.channel and s.due_at > alert.created_at]
    return min(later, key=lambda s: s.due_at, default=None)


def quiet_releases(
    held: Sequence[HeldAlert], summaries: Sequence[QuietSummary]
) -> list[DigestRelease]:
    """The held alerts grouped by when their summary goes out, soonest first (unknown last)."""
    groups: dict[datetime | None, list[tuple[HeldAlert, QuietSummary | None]]] = defaultdict(list)
    for alert in held:
        found = carrier(alert, summaries)
        groups[found.due_at if found else None].append((alert, found))
    releases = [_release(due, members) for due, members in groups.items()]
    return sorted(releases, key=lambda r: (r.at is None, r.at or datetime.min))


def _release(
    due: datetime | None, members: Sequence[tuple[HeldAlert, QuietSummary | None]]
) -> DigestRelease:
    carriers = [s for _, s in members if s is not None]
    sent_at = [s.sent_at for s in carriers if s.status is OutboxStatus.SENT and s.sent_at]
    went = bool(carriers) and len(sent_at) == len(carriers)
    return DigestRelease(
        at=min(sent_at) if went else due,
        sent=went,
        alerts=len(members),
        stories=len({a.story_key for a, _ in members}),
    )
