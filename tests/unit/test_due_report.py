"""A poll run's due selection and its report: sources not yet due are listed with their next
time, never counted as failures, and an operator's `force` checks them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.cli.report import print_cycle
from flows.poll import PollSummary, incomplete_reason, sources_markdown, split_due
from flows.tasks import DeliverySummary
from monitors.models import FetchReason, SourceReport, SourceStatus
from monitors.store import SourceState
from seeds.models import SourceKind, SourceSpec

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def spec(source_id: str) -> SourceSpec:
    return SourceSpec(
        id=source_id, name=source_id.title(), kind=SourceKind.RSS, url=f"https://{source_id}.ex/"
    )


def state(source_id: str, next_due_at: datetime | None) -> SourceState:
    return SourceState(
        source_id=source_id,
        last_status="ok",
        last_reason="ok",
        last_detail="",
        last_checked_at=NOW - timedelta(minutes=15),
        last_ok_at=NOW - timedelta(minutes=15),
        consecutive_failures=0,
        next_due_at=next_due_at,
    )


SOURCES = [spec("wire"), spec("herald"), spec("fresh")]
STATES = {
    "wire": state("wire", NOW - timedelta(seconds=1)),
    "herald": state("herald", NOW + timedelta(minutes=45)),
    # "fresh" has no state yet: due
}


def test_only_due_sources_are_checked_and_the_others_say_when() -> None:
    due, waiting = split_due(SOURCES, STATES, NOW)
    assert [s.id for s in due] == ["wire", "fresh"]
    assert waiting["herald"].status is SourceStatus.NOT_DUE
    assert waiting["herald"].detail == "not due (next at 2025-03-04 12:45 UTC)"
    assert waiting["herald"].next_due_at == NOW + timedelta(minutes=45)


def test_force_checks_every_source_whenever_it_is_due() -> None:
    due, waiting = split_due(SOURCES, STATES, NOW, force=True)
    assert due == SOURCES and waiting == {}


def summary() -> PollSummary:
    _, waiting = split_due(SOURCES, STATES, NOW)
    reports = [
        SourceReport(source_id="wire", status=SourceStatus.OK, items_new=1),
        waiting["herald"],
        SourceReport(
            source_id="fresh", status=SourceStatus.FAILED, reason=FetchReason.HTTP_4XX, detail="404"
        ),
    ]
    delivery = DeliverySummary(sent=0, retrying=0, failed=0, sent_alerts=[], errors=[])
    return PollSummary(reports=reports, delivery=delivery)


def test_a_source_not_due_is_no_failure_in_the_run_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = summary()
    assert [r.source_id for r in run.failed_sources] == ["fresh"]
    assert incomplete_reason(run) == "1 of 3 sources failed: fresh (http-4xx)"
    assert "| herald | not-due | 0 | 0 | 0 | not due (next at 2025-03-04 12:45 UTC) |" in (
        sources_markdown(run)
    )
    print_cycle(run, {})
    lines = capsys.readouterr().out.splitlines()
    herald = next(line for line in lines if line.startswith("  herald"))
    assert herald.split()[1:5] == ["not-due", "0", "0", "0"]
    assert herald.endswith("not due (next at 2025-03-04 12:45 UTC)")
    assert lines[-1] == "1 of 2 sources ok (1 not due); 0 alerts sent."
