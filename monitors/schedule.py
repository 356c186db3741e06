"""When a source is next due: its own interval, the server's floors, its publishing rate, backoff.

Pure decisions; the pipeline feeds them a check's outcome and stores the answer (next_due_at and
the short history it needs) on the source's state.

- The base is the source's `poll_minutes`. It is also the shortest interval: a publisher is
  never polled faster than the seed promises, however busy it is.
- Adaptive: over the last `history` successful checks, a source that brings about one new item
  a check keeps its base; one that brings fewer is polled less often, by 1/rate, at most
  `quiet_factor` × base (a source with nothing new in all of them gets exactly that). A check
  that brought news puts the source back on its base at once: news comes in bursts.
- Backoff: n consecutive failures poll every base × 2**n, capped at the maximum; a dead source
  is never dropped, only tried at the cap.
- Floors from the last response: `Retry-After` (on 429/503), `Cache-Control: max-age`, the
  feed's `<ttl>` and `sy:updatePeriod`/`sy:updateFrequency` lengthen the interval, never past
  the maximum (a floor of a week is read as "the maximum").
- A soft interval is due a little early (`early`, at most a quarter of it) so a source checked a
  few seconds into one run is still due at the same point of a later run; `Retry-After` never is.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

RETRY_AFTER_CODES = frozenset({429, 503})
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)
_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}


class Why(StrEnum):
    """What set a source's interval, kept for the report."""

    BASE = "base"
    ADAPTIVE = "adaptive"
    BACKOFF = "backoff"
    RETRY_AFTER = "retry-after"
    MAX_AGE = "max-age"
    FEED = "feed-ttl"


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """The bounds of every source's schedule, and how a new source's first poll alerts."""

    max_interval: timedelta = timedelta(hours=24)
    quiet_factor: float = 4.0  # a quiet source stretches to at most base × this
    history: int = 8  # successful checks the publishing rate is read over
    min_history: int = 3  # fewer checks than this: too early to judge, keep the base
    early: timedelta = timedelta(minutes=2)
    # A new source's first poll alerts only items published this recently; the rest of its
    # feed (and every undated item) is recorded unalerted. None: the first poll alerts them all.
    first_poll_window: timedelta | None = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Floors:
    """Intervals the last response asked for; None when it said nothing."""

    retry_after: timedelta | None = None
    max_age: timedelta | None = None
    feed: timedelta | None = None

    def longest(self) -> tuple[timedelta, Why] | None:
        """The longest floor and where it came from."""
        found = [
            (value, why)
            for value, why in (
                (self.retry_after, Why.RETRY_AFTER),
                (self.max_age, Why.MAX_AGE),
                (self.feed, Why.FEED),
            )
            if value is not None and value > timedelta(0)
        ]
        return max(found, key=lambda pair: pair[0]) if found else None


@dataclass(frozen=True, slots=True)
class Decision:
    interval: timedelta
    next_due_at: datetime
    why: Why


def decide(
    base: timedelta,
    now: datetime,
    *,
    failures: int,
    recent_new: Sequence[int],
    floors: Floors,
    policy: PollPolicy,
) -> Decision:
    """The next due time of a source just checked at `now`."""
    cap = max(policy.max_interval, base)  # a seed slower than the maximum keeps its own pace
    if failures > 0:
        interval, why = backoff(base, failures, cap), Why.BACKOFF
    else:
        interval = adaptive(base, recent_new, policy, cap)
        why = Why.ADAPTIVE if interval > base else Why.BASE
    floor = floors.longest()
    if floor is not None and min(floor[0], cap) > interval:
        interval, why = min(floor[0], cap), floor[1]
    early = timedelta(0) if why is Why.RETRY_AFTER else min(policy.early, interval / 4)
    return Decision(interval=interval, next_due_at=now + interval - early, why=why)


def backoff(base: timedelta, failures: int, cap: timedelta) -> timedelta:
    """base × 2**failures, at most `cap`."""
    return min(base * (1 << min(failures, 20)), cap)  # 2**20 bases: past any sane cap


def adaptive(
    base: timedelta, recent_new: Sequence[int], policy: PollPolicy, cap: timedelta
) -> timedelta:
    """The base, stretched by 1/rate for a source bringing under one new item a check."""
    recent = list(recent_new)[-policy.history :]
    if len(recent) < policy.min_history or recent[-1] > 0:
        return base
    rate = sum(recent) / len(recent)
    factor = policy.quiet_factor if rate <= 0 else min(policy.quiet_factor, max(1.0, 1 / rate))
    return min(base * factor, cap)


def is_due(next_due_at: datetime | None, now: datetime) -> bool:
    """A source never scheduled is due; otherwise once its time has come."""
    return next_due_at is None or next_due_at <= now


def remember(recent_new: Sequence[int], new_items: int, policy: PollPolicy) -> tuple[int, ...]:
    """The publishing history with one more successful check."""
    return (*recent_new, max(new_items, 0))[-policy.history :]


def floors_from(
    status_code: int | None,
    headers: dict[str, str],
    now: datetime,
    feed: timedelta | None = None,
) -> Floors:
    """The floors a response's headers (and its feed's own hint) ask for."""
    lowered = {k.lower(): v for k, v in headers.items()}
    wait = None
    if status_code in RETRY_AFTER_CODES:
        wait = retry_after(lowered.get("retry-after", ""), now)
    return Floors(retry_after=wait, max_age=max_age(lowered.get("cache-control", "")), feed=feed)


def retry_after(value: str, now: datetime) -> timedelta | None:
    """`Retry-After` as delay-seconds or an HTTP-date; None when absent, bad or past."""
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value)) if int(value) > 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when - now if when > now else None


def max_age(cache_control: str) -> timedelta | None:
    """`Cache-Control: max-age=N`; None without it or under no-cache/no-store."""
    if _NO_CACHE.search(cache_control):
        return None
    found = _MAX_AGE.search(cache_control)
    return timedelta(seconds=int(found.group(1))) if found and int(found.group(1)) else None


def feed_interval(ttl: str | None, period: str | None, frequency: str | None) -> timedelta | None:
    """A feed's own hint: RSS `<ttl>` minutes, or sy:updatePeriod / sy:updateFrequency."""
    hints: list[timedelta] = []
    if ttl and ttl.strip().isdigit() and int(ttl) > 0:
        hints.append(timedelta(minutes=int(ttl)))
    every = _PERIODS.get((period or "").strip().lower())
    if every is not None:
        times = (frequency or "").strip()
        hints.append(every / int(times) if times.isdigit() and int(times) > 0 else every)
    return max(hints) if hints else None
