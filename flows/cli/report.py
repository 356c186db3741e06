"""Plain-text tables of a cycle for the terminal."""

from __future__ import annotations

from flows.poll import PollSummary
from monitors.models import SourceStatus


def print_cycle(summary: PollSummary, digests: dict[str, list[str]]) -> None:
    """Sources, alerts sent (to whom) and digest paths."""
    print("\nSources")
    print(f"  {'source':<26} {'status':<13} {'new':>4} {'match':>5} {'alerts':>6}  reason")
    for r in summary.reports:
        reason = r.note[:60]
        print(
            f"  {r.source_id:<26} {r.status.value:<13} {r.items_new:>4} {r.matches:>5} "
            f"{r.alerts_queued:>6}  {reason}"
        )
    delivery = summary.delivery
    print(f"\nAlerts sent: {delivery.sent} new", end="")
    print(f", {delivery.retrying} to retry, {delivery.failed} failed" if delivery.errors else "")
    if delivery.held or delivery.suppressed or delivery.dropped:
        print(
            f"  held for quiet hours: {delivery.held} · over budget (in a summary): "
            f"{delivery.suppressed} · digest only: {delivery.dropped}"
        )
    for alert in delivery.sent_alerts:
        print(
            f"  {alert.desk_id:<15} {alert.channel:<6} {alert.to[:34]:<34} "
            f"{alert.topic_id:<22} {alert.headline[:60]}"
        )
    for error in delivery.errors[:10]:
        print(f"  ! {error[:120]}")
    print("\nDigests")
    for desk_id, paths in digests.items():
        print(f"  {desk_id:<15} {paths[0]}")
    failed = summary.failed_sources
    waiting = sum(r.status is SourceStatus.NOT_DUE for r in summary.reports)
    checked = len(summary.reports) - waiting
    not_due = f" ({waiting} not due)" if waiting else ""
    print(
        f"\n{checked - len(failed)} of {checked} sources ok{not_due}; {delivery.sent} alerts sent."
    )
