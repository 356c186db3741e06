"""The source-health flow and the scheduled digest's email, run as Prefect flows against a real
SMTP server (flows/local/sinks.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.local.sinks import SmtpSink
from flows.poll import daily_digest, poll_sources, source_health

pytestmark = pytest.mark.usefixtures("prefect_harness")

DESKS = """\
# An operators' desk hearing about sources, a desk that wants its digest emailed too, and one
# that reads its alerts and says nothing about its digest (not emailed).
desks:
  - id: operators
    name: Operators
    source_health: {after_failures: 3}
    channels:
      - {kind: email, to: [ops@newsroom.example]}
  - id: analysis
    name: Analysis desk
    topics: [troop-deployment]
    digest: {email: true}
    channels:
      - {kind: email, to: [analysts@newsroom.example]}
  - id: korea
    name: Korea desk
    topics: [troop-deployment]
    channels:
      - {kind: email, to: [korea@newsroom.example]}
"""


@pytest.fixture
def smtp(state_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        monkeypatch.setenv("DESKWATCH_SMTP_URL", sink.url)
        yield sink


def seed_files(folder: Path) -> tuple[str, str]:
    """A sources file with one wire nobody answers for, and the desks above."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    sources, desks = folder / "sources.yaml", folder / "desks.yaml"
    sources.write_text(
        "sources:\n"
        f"  - {{id: wire, name: Dead Wire, kind: rss, url: 'http://127.0.0.1:{dead}/rss'}}\n",
        encoding="utf-8",
    )
    desks.write_text(DESKS, encoding="utf-8")
    return str(sources), str(desks)


def test_source_health_tells_the_operators_once_after_three_failed_polls(
    smtp: SmtpSink, state_env: Path
) -> None:
    sources, desks = seed_files(state_env)
    for _ in range(2):
        poll_sources(sources, None, desks, force=True, return_state=True)
        assert source_health(sources, None, desks).down == []
    poll_sources(sources, None, desks, force=True, return_state=True)
    assert source_health(sources, None, desks).down == ["Dead Wire: 3 failed checks in a row"]
    poll_sources(sources, None, desks, force=True, return_state=True)
    assert source_health(sources, None, desks).down == []
    (mail,) = smtp.messages
    assert mail["To"] == "ops@newsroom.example"
    assert "Source down: Dead Wire" in str(mail["Subject"])


def test_the_daily_digest_emails_the_desks_that_want_it_when_not_told(
    smtp: SmtpSink, state_env: Path
) -> None:
    sources, desks = seed_files(state_env)
    written = daily_digest("today", None, sources, None, desks)
    assert set(written) == {"analysis", "korea"}  # the operators follow no topic: no digest
    (mail,) = smtp.messages
    assert mail["To"] == "analysts@newsroom.example"
    daily_digest("today", None, sources, None, desks, email=False)
    assert len(smtp.messages) == 1
