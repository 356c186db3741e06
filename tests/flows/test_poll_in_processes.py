"""A poll cycle whose source checks run in a process pool gives what the thread runner gives."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from flows.local.replay import ReplaySite, write_demo_sources
from flows.poll import PollSummary, poll_flow
from flows.settings import load_settings
from monitors.models import SourceStatus
from seeds.loader import load_file
from seeds.models import SourcesFile
from tests.conftest import REPLAY_SITE

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _cycle(state: Path, runner: str, base_url: str, monkeypatch: pytest.MonkeyPatch) -> PollSummary:
    """One poll of the replay site into a fresh state folder, checks on the given task runner."""
    monkeypatch.setenv("DESKWATCH_STATE_URL", f"sqlite:///{state / 'state.db'}")
    monkeypatch.setenv("DESKWATCH_OUTBOX_DIR", str(state / "outbox"))
    monkeypatch.setenv("DESKWATCH_TASK_RUNNER", runner)
    monkeypatch.setenv("DESKWATCH_TASK_WORKERS", "2")
    sources = write_demo_sources(base_url, state / "sources.yaml")
    return poll_flow(load_settings())(str(sources))


def _items(state: Path) -> int:
    """How many items the cycle recorded in the state folder's SQLite file."""
    with closing(sqlite3.connect(state / "state.db")) as db:
        (count,) = db.execute("SELECT count(*) FROM items").fetchone()
    return int(count)


def _outcome(summary: PollSummary) -> list[tuple[str, str, int, int, int]]:
    """What each source check found, without its timing.

    Not its alerts: which copy of a story alerts first, and whether a later copy sends an
    update, depends on which check records its copy first.
    """
    return [
        (r.source_id, r.status.value, r.items_in_feed, r.items_new, r.matches)
        for r in summary.reports
    ]


def _alerted(summary: PollSummary) -> set[tuple[str, str, str]]:
    """Which desks were alerted on which channel about which topic."""
    return {(a.desk_id, a.channel, a.topic_id) for a in summary.delivery.sent_alerts}


def test_a_cycle_on_a_process_pool_records_and_delivers_what_threads_do(
    state_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No SMTP or Slack settings: every alert goes to the file channel under each outbox dir.
    with ReplaySite(REPLAY_SITE) as site:
        in_processes = _cycle(state_env / "processes", "process", site.base_url, monkeypatch)
        in_threads = _cycle(state_env / "threads", "thread", site.base_url, monkeypatch)

    sources = load_file(state_env / "processes" / "sources.yaml", SourcesFile).sources
    assert [r.source_id for r in in_processes.reports] == [s.id for s in sources if s.enabled]
    assert {r.status for r in in_processes.reports} == {SourceStatus.OK}
    assert _outcome(in_processes) == _outcome(in_threads)
    assert _items(state_env / "processes") == _items(state_env / "threads") > 0

    delivered = in_processes.delivery
    assert delivered.sent > 0 and delivered.failed == 0 and delivered.retrying == 0
    assert _alerted(in_processes) == _alerted(in_threads)
    written = list((state_env / "processes" / "outbox").rglob("*.*"))
    assert len(written) == delivered.sent
