"""`deskwatch outbox` and the wiring of delivery: secrets from Prefect blocks, one channel per
webhook per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from pydantic import SecretStr

from alerts.delivery.apprise_channel import render_notice
from alerts.delivery.channels import FILE_SENDER, SlackWebhookChannel, SmtpChannel
from alerts.delivery.outbox import Outbox
from alerts.delivery.render import message_id_for
from alerts.delivery.render_summary import email_message, slack_json

# Imported while collecting, as the CLI would: urllib3 then files its optional-dependency
# warning under its own filter instead of under the tests' "error".
from flows import cli
from flows.cli import commands, main
from flows.cli.commands import LINE_MAX
from flows.local.sinks import SmtpSink
from flows.settings import Settings
from flows.wiring import build_runtime, resolve_secrets
from monitors.errors import SettingsError
from monitors.store import OutboxStatus, Store, create_engine
from seeds.loader import load_seeds
from tests.support.outbox_rows import alert_for, queue_story

NOW = datetime(2024, 12, 17, 9, 10, tzinfo=UTC)


@pytest.fixture
def queued(state_env: Path) -> Store:
    """Three email alerts in the state store of `state_env`: pending, failed and sent."""
    store = Store(create_engine(f"sqlite:///{state_env / 'state.db'}"))
    for n in range(3):
        alert = alert_for("korea-desk", "email", "arms-transfers", f"s{n}", NOW)
        queue_story(store, f"s{n}", NOW, [alert])
    box = Outbox(store.outbox)
    waiting, failing, sending = box.claim(NOW, timedelta(minutes=5))
    box.mark_retry(waiting, "timeout", NOW + timedelta(minutes=1))
    box.mark_failed(failing, "smtp 127.0.0.1:2525: 550 mailbox\nunavailable")
    box.mark_sent(sending, NOW)
    return store


def test_outbox_lists_waiting_and_failed_alerts(
    queued: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["id", "status", "desk"]
    assert [line.split()[1] for line in lines[1:]] == ["failed", "pending"]  # soonest due first
    assert "Headline of s1" in lines[1] and "smtp 127.0.0.1:2525: 5" in lines[1]
    assert "2024-12-17 09:11Z  Headline of s0" in lines[2] and lines[2].endswith("timeout")
    assert main(["outbox", "--status", "sent"]) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]] == ["sent"]
    assert main(["outbox", "--status", "suppressed"]) == 0
    assert capsys.readouterr().out == "no suppressed alerts\n"


def test_outbox_list_cuts_long_headlines_and_errors_to_one_readable_line(
    queued: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    headline = "Defence ministry confirms a second rotation of troops " * 4
    alert = alert_for("korea-desk", "slack", "troop-deployment", "long", NOW, headline=headline)
    queue_story(queued, "long", NOW, [alert])
    assert main(["outbox", "--status", "all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= LINE_MAX for line in lines)
    (long_line,) = [line for line in lines if "slack" in line]
    assert long_line.endswith("  Defence ministry confirms a second ro…")  # no error yet
    (failed,) = [line for line in lines if " failed " in line]
    assert failed.endswith("…")  # the whole error is in `outbox show`


def test_outbox_retry_and_drop(queued: Store, capsys: pytest.CaptureFixture[str]) -> None:
    failed = _id(queued, "failed")
    assert main(["outbox", "retry", str(failed)]) == 0
    assert capsys.readouterr().out == f"alert {failed}: failed -> pending, due now\n"
    assert main(["outbox", "drop", str(failed)]) == 0
    assert capsys.readouterr().out == f"alert {failed}: pending -> dropped\n"
    (row,) = [r for r in queued.outbox.list_rows(list(OutboxStatus)) if r.id == failed]
    assert (row.status, row.attempts, row.last_error) == (
        "dropped",
        0,
        "dropped by an operator",
    )
    assert main(["outbox", "retry", str(failed)]) == 0  # a dropped alert can come back
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["outbox", "retry", "999"], "no alert with id 999"),
        (["outbox", "drop"], "outbox drop: give the alert id"),
        (["outbox", "show", "999"], "no alert with id 999"),
        (["outbox", "show"], "outbox show: give the alert id"),
        (["outbox", "retry", "SENT"], "is sent; only pending, failed, suppressed, dropped"),
    ],
)
def test_outbox_errors_are_one_line(
    queued: Store, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    args = [str(_id(queued, "sent")) if a == "SENT" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_outbox_lists_every_status_and_refuses_an_unknown_one(
    queued: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox", "--status", "all"]) == 0
    listed = [line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]]
    assert sorted(listed) == ["failed", "pending", "sent"]
    with pytest.raises(SystemExit) as refused:
        main(["outbox", "--status", "delivered"])
    assert refused.value.code == 2 and "invalid choice: 'delivered'" in capsys.readouterr().err


def test_cli_and_commands_agree_on_exit_codes() -> None:
    assert commands.EXIT_BAD_INPUT == cli.EXIT_BAD_INPUT


def _id(store: Store, status: str) -> int:
    (row,) = store.outbox.list_rows([OutboxStatus(status)])
    return row.id


# --- outbox show ----------------------------------------------------------------------------


def test_outbox_show_prints_the_email_the_file_channel_writes(
    queued: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = _id(queued, "failed")
    assert main(["outbox", "show", str(failed)]) == 0
    header, _, message = capsys.readouterr().out.partition("\n\n")
    assert header.splitlines() == [
        f"id:           {failed}",
        "status:       failed",
        "attempts:     1",
        "next attempt: 2024-12-17T09:10:00+00:00",
        "last error:   smtp 127.0.0.1:2525: 550 mailbox unavailable",
        "alert key:    korea-desk|email|s1",
    ]
    alert = alert_for("korea-desk", "email", "arms-transfers", "s1", NOW)
    # No SMTP server is configured: the message is the .eml the file channel writes.
    assert message.encode() == email_message(alert, FILE_SENDER).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(message.encode())
    assert parsed["Message-ID"] == message_id_for(alert.alert_key)


def test_outbox_show_uses_the_smtp_sender_when_smtp_sends_it(
    queued: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKWATCH_SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("DESKWATCH_SMTP_SENDER", "Newsroom alerts <alerts@newsroom.example>")
    assert main(["outbox", "show", str(_id(queued, "sent"))]) == 0
    message = capsys.readouterr().out.partition("\n\n")[2]
    parsed = BytesParser(policy=policy.default).parsebytes(message.encode())
    assert parsed["From"] == "Newsroom alerts <alerts@newsroom.example>"


@pytest.mark.parametrize("channel", ["slack", "file"])
def test_outbox_show_prints_the_slack_payload(
    state_env: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    channel: str,
) -> None:
    monkeypatch.setenv("DESKWATCH_STATE_URL", database_url)
    store = Store(create_engine(database_url))
    alert = alert_for("korea-desk", channel, "troop-deployment", "s9", NOW)
    queue_story(store, "s9", NOW, [alert])
    (row,) = store.outbox.list_rows()
    store.dispose()
    assert main(["outbox", "show", str(row.id)]) == 0
    header, _, payload = capsys.readouterr().out.partition("\n\n")
    assert "status:       pending" in header and "last error:   -" in header
    assert payload == slack_json(alert)  # what Slack receives, or the .slack.json file holds


def test_outbox_show_prints_an_apprise_title_and_markdown_body(
    state_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(create_engine(f"sqlite:///{state_env / 'state.db'}"))
    alert = alert_for("ops-desk", "apprise", "troop-deployment", "s7", NOW, webhook="ops-hook")
    queue_story(store, "s7", NOW, [alert])
    (row,) = store.outbox.list_rows()
    assert main(["outbox", "show", str(row.id)]) == 0
    shown = capsys.readouterr().out.partition("\n\n")[2]
    notice = render_notice(alert)
    assert shown == f"title: {notice.title}\n\n{notice.body}\n"


# --- wiring ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("prefect_harness")
def test_a_prefect_secret_block_supplies_the_smtp_url(state_env: Path) -> None:
    from prefect.blocks.system import Secret

    with SmtpSink(auth=("desk", "pa55word")) as sink:
        secret_url = f"smtp://desk:pa55word@127.0.0.1:{sink.port}"
        Secret(value=secret_url).save("deskwatch-test-smtp", overwrite=True)
        settings = Settings(smtp_url=SecretStr("secret-block:deskwatch-test-smtp"))
        rt = build_runtime(settings, load_seeds())
        try:
            alert = alert_for("korea-desk", "email", "arms-transfers", "s1", NOW)
            channel = rt.channel_for(alert)
            assert isinstance(channel, SmtpChannel) and channel is rt.channel_for(alert)
            channel.send(alert)
            assert sink.logins == ["desk"] and len(sink.messages) == 1
            assert "pa55word" not in repr(rt.settings) and "pa55word" not in repr(channel)
        finally:
            rt.close()


@pytest.mark.usefixtures("prefect_harness")
def test_a_prefect_secret_block_supplies_an_apprise_url(state_env: Path) -> None:
    from prefect.blocks.system import Secret

    Secret(value="tgram://123456:bot-token/-100200300").save("deskwatch-test-tg", overwrite=True)
    named = {"ops-telegram": SecretStr("secret-block:deskwatch-test-tg")}
    resolved = resolve_secrets(Settings(apprise_urls=named))
    url = resolved.apprise_url_for("ops-telegram")
    assert url is not None and url.get_secret_value() == "tgram://123456:bot-token/-100200300"
    with pytest.raises(SettingsError, match=r"DESKWATCH_APPRISE_URLS\[ops-teams\]"):
        resolve_secrets(Settings(apprise_urls={"ops-teams": SecretStr("secret-block:none")}))


@pytest.mark.usefixtures("prefect_harness")
def test_a_missing_secret_block_is_a_one_line_settings_error(state_env: Path) -> None:
    settings = Settings(slack_webhooks={"korea-desk": SecretStr("secret-block:no-such-block")})
    with pytest.raises(SettingsError) as caught:
        resolve_secrets(settings)
    message = str(caught.value)
    assert "DESKWATCH_SLACK_WEBHOOKS[korea-desk]" in message and "'no-such-block'" in message
    assert "\n" not in message


def test_one_slack_channel_per_webhook_url_per_run(state_env: Path) -> None:
    url = SecretStr("https://hooks.example/services/T/B/x")
    settings = Settings(slack_webhooks={"korea-desk": url, "diplomacy-desk": url})
    rt = build_runtime(settings, load_seeds())
    try:
        korea = rt.channel_for(alert_for("korea-desk", "slack", "arms-transfers", "s1", NOW))
        diplomacy = alert_for("diplomacy-desk", "slack", "seoul-moscow", "s1", NOW)
        assert isinstance(korea, SlackWebhookChannel) and korea is rt.channel_for(diplomacy)
    finally:
        rt.close()
