"""Pure source-health rules for the digest: failed sources and sources silent for too long.

"Silent" means no new item for longer than usual: longer than
max(48 h, 3 × the median gap between the source's new-item batches over the last 14 days),
measured at the digest's `data_as_of` time. Items detected within 10 minutes of each other
count as one batch (one check finds several items at once), so the gaps are between checks
that found something. With fewer than two batches in the 14 days the threshold is 48 h.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from alerts.models import DigestSource
from monitors.models import HEALTHY, SourceStatus
from monitors.store.rows import SourceState
from seeds.models import SourceSpec

SILENT_MIN = timedelta(hours=48)
SILENT_FACTOR = 3
LOOKBACK = timedelta(days=14)
BATCH = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """The stored outcome of a source's latest check, as the stored text."""

    status: str | None
    reason: str | None
    detail: str | None
    checked_at: datetime | None
    ok_at: datetime | None
    consecutive_failures: int


def silence_threshold(recent: Sequence[datetime]) -> timedelta:
    """max(48 h, 3 × median gap between new-item batches); 48 h with fewer than two batches."""
    batches: list[datetime] = []
    for moment in sorted(recent):
        if not batches or moment - batches[-1] > BATCH:
            batches.append(moment)
    if len(batches) < 2:
        return SILENT_MIN
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(batches))
    middle = len(gaps) // 2
    median = gaps[middle] if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2
    return max(SILENT_MIN, SILENT_FACTOR * median)


def source_health(
    spec: SourceSpec,
    check: SourceCheck | None,
    last_item: datetime | None,
    recent: Sequence[datetime],
    now: datetime,
) -> DigestSource:
    """Failed beats silent beats the stored status; a source never checked says so."""
    threshold = silence_threshold(recent)
    base = DigestSource(
        source_id=spec.id,
        name=spec.name,
        kind=spec.kind.value,
        status=SourceStatus.NEVER_CHECKED,
        last_item_at=last_item,
        silent_after_hours=round(threshold / timedelta(hours=1), 1),
    )
    if check is None or check.status is None:
        return base
    base = base.model_copy(
        update={
            "last_checked_at": check.checked_at,
            "last_ok_at": check.ok_at,
            "consecutive_failures": check.consecutive_failures,
        }
    )
    if check.status not in HEALTHY:
        reason = check.reason or check.status
        return base.model_copy(
            update={"status": SourceStatus.FAILED, "reason": reason, "detail": check.detail or ""}
        )
    quiet = now - last_item if last_item is not None else None
    if quiet is None or quiet > threshold:
        silence = {"status": SourceStatus.SILENT, "reason": _silence(quiet, threshold)}
        return base.model_copy(update=silence)
    return base.model_copy(update={"status": SourceStatus(check.status)})


def _silence(quiet: timedelta | None, threshold: timedelta) -> str:
    usual = f"usually under {_span(threshold)}"
    if quiet is None:
        return f"no new item recorded yet ({usual})"
    return f"no new item for {_span(quiet)} ({usual})"


def _span(delta: timedelta) -> str:
    """`5 days`, `30 h`: a duration for people."""
    hours = int(delta / timedelta(hours=1))  # whole hours and days: "for 6 days" means ≥ 6
    return f"{hours // 24} days" if hours >= 72 else f"{hours} h"


class HealthReads(Protocol):
    """The store reads health needs (the store's digest read model implements them)."""

    def source_states(self) -> dict[str, SourceState]: ...

    def last_item_at(self, now: datetime) -> dict[str, datetime | None]: ...

    def recent_items(self, since: datetime, now: datetime) -> dict[str, list[datetime]]: ...


def source_healths(
    reads: HealthReads, sources: Sequence[SourceSpec], now: datetime
) -> list[DigestSource]:
    """Every enabled source's health as of `now`, by the digest's rules."""
    checks = {
        source_id: SourceCheck(
            status=s.last_status,
            reason=s.last_reason,
            detail=s.last_detail,
            checked_at=s.last_checked_at,
            ok_at=s.last_ok_at,
            consecutive_failures=s.consecutive_failures,
        )
        for source_id, s in reads.source_states().items()
    }
    last_item = reads.last_item_at(now)
    recent = reads.recent_items(now - LOOKBACK, now)
    return [
        source_health(s, checks.get(s.id), last_item.get(s.id), recent.get(s.id, []), now)
        for s in sources
        if s.enabled
    ]
