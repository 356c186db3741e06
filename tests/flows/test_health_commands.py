"""`deskwatch sources` and `deskwatch notify test`, against a real store, SMTP server and Slack
receiver (flows/local/sinks.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# Imported while collecting, as the CLI would: urllib3 then files its optional-dependency
# warning under its own filter instead of under the tests' "error".
from flows.cli import (
    build_parser,
    health,  # noqa: F401
    main,
)
from flows.local.sinks import SlackWebhookSink, SmtpSink, free_port
from monitors.models import FetchReason, SourceStatus
from monitors.store import Store, create_engine
from tests.support.builders import a_new_item

SOURCES = """\
# Three wires: one that works, one failing twice in a row, one switched off.
sources:
  - {id: wire-a, name: Wire A, kind: rss, url: 'https://a.example/rss', poll_minutes: 30}
  - {id: wire-b, name: Wire B, kind: rss, url: 'https://b.example/rss'}
  - {id: wire-c, name: Wire C, kind: rss, url: 'https://c.example/rss', enabled: false}
"""

DESKS = """\
# One desk reading email and Slack; the SMTP server and the webhook come from the environment.
desks:
  - id: night-desk
    name: Night desk
    topics: [troop-deployment]
    quiet_hours: {start: "00:00", end: "23:59"}
    channels:
      - {kind: email, to: [night@newsroom.example]}
      - {kind: slack, webhook: night-desk}
"""


def test_sources_lists_status_last_success_error_failures_items_and_next_due(
    state_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = state_env / "sources.yaml"
    sources.write_text(SOURCES, encoding="utf-8")
    store = Store(create_engine(f"sqlite:///{state_env / 'state.db'}"))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ok_at = now - timedelta(minutes=10)
    store.record_check("wire-a", SourceStatus.OK, FetchReason.OK, "", ok_at)
    for n in range(3):
        at = now - timedelta(hours=n + 1)
        store.record_item(a_new_item(f"a{n}", source_id="wire-a", detected_at=at), [], [])
    for minutes in (40, 20):
        at = now - timedelta(minutes=minutes)
        store.record_check("wire-b", SourceStatus.FAILED, FetchReason.HTTP_5XX, "HTTP 503", at)
    store.dispose()

    assert main(["sources", "--sources", str(sources)]) == 0
    header, a, b, c = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "source", "status", "last", "success", "fails", "7d", "next", "due", "last", "error"
    ]  # fmt: skip
    due = ok_at + timedelta(minutes=30)  # the last check plus wire-a's 30 minutes
    last_ok, next_due = (f"{t:%Y-%m-%d %H:%MZ}".split() for t in (ok_at, due))
    assert a.split() == ["wire-a", "ok", *last_ok, "0", "3", *next_due]
    assert b.split()[:5] == ["wire-b", "failed", "-", "2", "0"]
    assert b.endswith("http-5xx: HTTP 503")
    assert c.split()[:2] == ["wire-c", "disabled"]


def test_notify_test_sends_through_every_channel_at_once_despite_quiet_hours(
    state_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    desks = state_env / "desks.yaml"
    desks.write_text(DESKS, encoding="utf-8")
    with SmtpSink() as smtp, SlackWebhookSink() as slack:
        monkeypatch.setenv("DESKWATCH_SMTP_URL", smtp.url)
        monkeypatch.setenv("DESKWATCH_SLACK_WEBHOOKS", f'{{"night-desk": "{slack.url}"}}')
        assert main(["notify", "test", "--desk", "night-desk", "--desks", str(desks)]) == 0
        (mail,) = smtp.messages
        (payload,) = slack.payloads
    email, slack_line = capsys.readouterr().out.splitlines()
    assert email == f"email    sent to night@newsroom.example by SmtpChannel({smtp.url})"
    assert slack_line == "slack    sent to Slack webhook night-desk"
    assert str(mail["Subject"]).strip().startswith("[deskwatch] Test message: deskwatch can reach")
    assert str(payload["text"]).startswith("[deskwatch] Test message")


def test_notify_test_says_which_channel_failed_and_exits_3(
    state_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    desks = state_env / "desks.yaml"
    desks.write_text(DESKS, encoding="utf-8")
    with SlackWebhookSink() as slack:
        monkeypatch.setenv("DESKWATCH_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody
        monkeypatch.setenv("DESKWATCH_SLACK_WEBHOOKS", f'{{"night-desk": "{slack.url}"}}')
        assert main(["notify", "test", "--desk", "night-desk", "--desks", str(desks)]) == 3
        assert len(slack.payloads) == 1  # the other channel still got its message
    email, slack_line = capsys.readouterr().out.splitlines()
    assert email.startswith("email    failed: ") and "\n" not in email
    assert slack_line == "slack    sent to Slack webhook night-desk"


def test_notify_test_refuses_an_unknown_desk_in_one_line(
    state_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notify", "test", "--desk", "nobody"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nobody" in err and "operators" in err


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["sources"], "sources list"),
        (["sources", "list"], "sources list"),
        (["sources", "check"], "sources check"),
        (["notify", "test", "--desk", "operators"], "notify test"),
    ],
)
def test_sources_and_notify_command_lines_reach_their_commands(argv: list[str], key: str) -> None:
    assert build_parser().parse_args(argv).command_key == key
