"""`deskwatch outbox` and the wiring of delivery: secrets from Prefect blocks, one channel per
webhook per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from alerts.delivery.channels import SlackWebhookChannel, SmtpChannel
from alerts.delivery.outbox import Outbox

# Imported while collecting, as the CLI would: urllib3 then files its optional-dependency
# warning under its own filter instead of under the tests' "error".
from flows import cli
from flows.cli import commands, main
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
    assert "550 mailbox unavailable" in lines[1] and "2024-12-17 09:11Z  timeout" in lines[2]
    assert main(["outbox", "--status", "sent"]) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]] == ["sent"]
    assert main(["outbox", "--status", "suppressed"]) == 0
    assert capsys.readouterr().out == "no suppressed alerts\n"


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
