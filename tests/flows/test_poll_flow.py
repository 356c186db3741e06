"""The Prefect flows end to end against the replay site, a real SMTP server and a Slack receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.local.replay import ReplaySite, write_demo_sources
from flows.local.sinks import SlackWebhookSink, SmtpSink
from flows.poll import daily_digest, poll_sources
from monitors.models import SourceStatus
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

        second = poll_sources(sources)
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
