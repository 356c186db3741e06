"""The Prefect flows end to end against the replay site, a real SMTP server and a Slack receiver."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.exceptions import ParameterTypeError

from flows.local.replay import ReplaySite, write_demo_sources
from flows.local.sinks import SlackWebhookSink, SmtpSink
from flows.poll import PollSummary, daily_digest, poll_sources
from monitors.errors import SeedError
from monitors.models import SourceStatus
from seeds.models import SourceKind
from tests.conftest import REPLAY_SITE

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def sinks(
    state_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SmtpSink, SlackWebhookSink]]:
    with SmtpSink() as smtp, SlackWebhookSink() as slack:
        monkeypatch.setenv("DESKWATCH_SMTP_URL", smtp.url)
        monkeypatch.setenv("DESKWATCH_SLACK_WEBHOOK_URL", slack.url)
        yield smtp, slack


def test_a_cycle_alerts_once_per_story_and_a_replay_sends_nothing(
    sinks: tuple[SmtpSink, SlackWebhookSink], state_env: Path
) -> None:
    smtp, slack = sinks
    with ReplaySite(REPLAY_SITE) as site:
        sources = str(write_demo_sources(site.base_url, state_env / "sources.yaml"))
        first = poll_sources(sources)
        assert [r.status for r in first.reports] == [SourceStatus.OK] * len(first.reports)
        assert first.delivery.sent > 0 and first.delivery.failed == 0
        emails = [a for a in first.delivery.sent_alerts if a.channel == "email"]
        assert len(smtp.messages) == len(emails) > 0
        assert len(slack.payloads) == sum(a.channel == "slack" for a in first.delivery.sent_alerts)
        assert all("blocks" in payload for payload in slack.payloads)
        message_ids = {m["Message-ID"] for m in smtp.messages}
        assert len(message_ids) == len(smtp.messages)

        # At once again: nothing is due; forced, every feed answers 304.
        waiting = poll_sources(sources)
        assert {r.status for r in waiting.reports} == {SourceStatus.NOT_DUE}
        assert all(r.detail.startswith("not due (next at ") for r in waiting.reports)
        second = poll_sources(sources, force=True)
        assert {r.status for r in second.reports} == {SourceStatus.NOT_MODIFIED}
        assert second.delivery.sent == 0
        assert len(smtp.messages) == len(emails)


def test_daily_digest_lists_every_alerted_story(
    sinks: tuple[SmtpSink, SlackWebhookSink], state_env: Path
) -> None:
    with ReplaySite(REPLAY_SITE) as site:
        sources = str(write_demo_sources(site.base_url, state_env / "sources.yaml"))
        summary = poll_sources(sources)
        written = daily_digest("today", sources_file=sources)
    alerted = {(a.desk_id, a.headline) for a in summary.delivery.sent_alerts}
    for desk_id, paths in written.items():
        md, html, data = (Path(p) for p in paths)
        assert md.exists() and html.exists()
        digest = json.loads(data.read_text())
        stories = [s for t in digest["topics"] for s in t["stories"]]
        # A story is listed under its best-scoring copy; the others are "also reported by".
        headlines = {s["headline"] for s in stories}
        headlines |= {c["headline"] for s in stories for c in s["also_reported_by"]}
        desk_alerted = {h for d, h in alerted if d == desk_id}
        assert desk_alerted <= headlines
        assert all(s["alerted"] for s in stories if s["headline"] in desk_alerted)


def _with_a_dead_source(sources: Path) -> Path:
    """The demo sources plus `dead-wire`, a feed on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with sources.open("a", encoding="utf-8") as out:
        out.write(
            f"  - {{id: dead-wire, name: Dead Wire, kind: rss, url: 'http://127.0.0.1:{dead}/x'}}\n"
        )
    return sources


def test_a_poll_with_a_failing_source_ends_failed_naming_it_and_publishes_the_table(
    sinks: tuple[SmtpSink, SlackWebhookSink], state_env: Path
) -> None:
    with ReplaySite(REPLAY_SITE) as site:
        sources = _with_a_dead_source(write_demo_sources(site.base_url, state_env / "s.yaml"))
        state = poll_sources(str(sources), return_state=True)
    assert state.is_failed()
    assert state.message == "1 of 6 sources failed: dead-wire (connect-error)"
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, PollSummary) and len(summary.failed_sources) == 1
    with get_client(sync_client=True) as client:
        run_id = state.state_details.flow_run_id
        assert run_id is not None
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                key=ArtifactFilterKey(any_=["poll-sources"]),
            )
        )
    table = str(artifact.data)
    assert artifact.key == "poll-sources"
    assert "| dead-wire | failed | 0 | 0 | 0 | connect-error" in table
    assert "| demo-nknews | ok | 4 |" in table


def test_kinds_that_select_no_enabled_source_refuse_the_run(state_env: Path) -> None:
    sources = state_env / "sources.yaml"
    # One feed and nothing else: a transcripts poll would check nothing and look healthy.
    sources.write_text(
        "sources:\n  - {id: wire, name: Wire, kind: rss, url: 'http://127.0.0.1:9/feed.xml'}\n",
        encoding="utf-8",
    )
    with pytest.raises(SeedError, match="no enabled source of podcast"):
        poll_sources(str(sources), kinds=[SourceKind.PODCAST])


def test_a_typo_in_kinds_is_refused_naming_the_choices(state_env: Path) -> None:
    with pytest.raises(ParameterTypeError, match="rss"):
        poll_sources(kinds=["rs"])  # type: ignore[list-item]
