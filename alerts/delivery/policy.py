"""When a desk hears about an alert: now, after quiet hours, in a summary, or only in the digest.

Pure decisions over a desk's rules, the alert, the time and how many alerts the desk already got;
alerts.delivery.outbox does the counting and applies the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from alerts.models import AlertMessage
from monitors.models import TopicMatch
from seeds.models import DeskSpec, QuietHours

BUDGET_WINDOW = timedelta(hours=1)
SUMMARY_PREFIX = "summary:"  # story keys of summary rows; real story keys are URLs or hashes


class Action(StrEnum):
    """What the outbox does with a due alert."""

    SEND = "send"
    HOLD = "hold"  # quiet hours: carried by the summary sent when they end
    DEFER = "defer"  # a summary due inside quiet hours: wait until they end
    OVER_BUDGET = "over-budget"  # carried by the topic's burst summary at the window's end
    DIGEST_ONLY = "digest-only"  # the desk reads only its digest: never sent


@dataclass(frozen=True, slots=True)
class Decision:
    """An action, and for held or budgeted alerts the period whose summary carries them."""

    action: Action
    start: datetime | None = None  # quiet period or budget window start (UTC)
    until: datetime | None = None  # when the summary (or the deferred row) is due (UTC)


SEND_NOW = Decision(Action.SEND)


def follows(desk: DeskSpec, match: TopicMatch) -> bool:
    """Whether the desk wants immediate alerts about this match at all."""
    if desk.mode == "digest-only" or match.topic not in desk.topics:
        return False
    if match.score < desk.min_score:
        return False
    return desk.min_severity is None or match.severity.rank >= desk.min_severity.rank


def budget_window(now: datetime) -> tuple[datetime, datetime]:
    """The clock hour (UTC) containing `now`: budgets count alerts sent within it."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + BUDGET_WINDOW


def hourly_limit(desk: DeskSpec, topic_id: str) -> int | None:
    """Immediate alerts allowed per hour for a topic on one channel; None without a budget."""
    return desk.budget.limit(topic_id) if desk.budget else None


def quiet_period(
    quiet: QuietHours, timezone: str, now: datetime
) -> tuple[datetime, datetime] | None:
    """The quiet period containing `now`, as UTC [start, end), or None outside quiet hours."""
    zone = ZoneInfo(timezone)
    moment = now.astimezone(UTC)
    today = moment.astimezone(zone).date()
    wraps = quiet.end_time <= quiet.start_time
    for day in (today - timedelta(days=1), today):
        start = datetime.combine(day, quiet.start_time, tzinfo=zone).astimezone(UTC)
        end_day = day + timedelta(days=1) if wraps else day
        end = datetime.combine(end_day, quiet.end_time, tzinfo=zone).astimezone(UTC)
        # Compared in UTC: wall times of one zone compare naively across a DST change.
        if start <= moment < end:
            return start, end
    return None


def decide(
    desk: DeskSpec | None, alert: AlertMessage, now: datetime, sent_this_hour: int
) -> Decision:
    """The action for a due alert; `sent_this_hour` counts its desk/channel/topic's sends."""
    if desk is None:
        return SEND_NOW  # a desk removed from desks.yaml: what was queued still goes out
    if desk.mode == "digest-only":
        return Decision(Action.DIGEST_ONLY)
    quiet = quiet_period(desk.quiet_hours, desk.timezone, now) if desk.quiet_hours else None
    if quiet is not None and not _breaks_through(desk, alert):
        action = Action.DEFER if alert.kind == "summary" else Action.HOLD
        return Decision(action, *quiet)
    if alert.kind == "summary":
        return SEND_NOW  # a summary is the remedy for a flood, never part of one
    limit = hourly_limit(desk, alert.topic_id)
    if limit is not None and sent_this_hour >= limit:
        return Decision(Action.OVER_BUDGET, *budget_window(now))
    return SEND_NOW


def _breaks_through(desk: DeskSpec, alert: AlertMessage) -> bool:
    """A single alert severe enough to be sent inside the desk's quiet hours (never a summary)."""
    quiet = desk.quiet_hours
    return alert.kind != "summary" and quiet is not None and quiet.lets_through(alert.severity)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def burst_story_key(window_start: datetime) -> str:
    """The story key of a topic's burst summary for one budget window."""
    return f"{SUMMARY_PREFIX}burst-{_stamp(window_start)}"


def quiet_story_key(quiet_end: datetime) -> str:
    """The story key of a desk's quiet-hours summary, named by the end of the quiet period."""
    return f"{SUMMARY_PREFIX}quiet-{_stamp(quiet_end)}"
