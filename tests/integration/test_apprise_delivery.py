"""Apprise alerts through the real outbox and wiring, to a JSON webhook on 127.0.0.1.

The receiver is the Slack stand-in (`flows.local.sinks.SlackWebhookSink`): it keeps any JSON
object posted to its path, and can be told to answer 500. Apprise reaches it as
`json://127.0.0.1:PORT/services/hook`, its generic JSON-webhook service.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from alerts.delivery.apprise_channel import AppriseChannel, render_notice
from alerts.delivery.outbox import DeliveryReport, deliver_pending
from alerts.models import AlertMessage
from flows.local.sinks import SlackWebhookSink
from flows.settings import Settings
from flows.wiring import Runtime, build_runtime
from monitors.errors import DeliveryError, SettingsError
from monitors.store import OutboxStatus
from seeds.loader import load_seeds
from seeds.models import DeskSpec, Seeds
from tests.support.outbox_rows import alert_for, queue_story

NOW = datetime(2024, 12, 17, 9, 10, tzinfo=UTC)
TOKEN = "s3cr3t-t0ken"  # the part of an Apprise URL that must never be shown


def ops_seeds(target: str = "ops-hook") -> Seeds:
    """The bundled seeds with one desk that reads its alerts through an apprise target."""
    desk = DeskSpec.model_validate(
        {
            "id": "ops-desk",
            "name": "Ops desk",
            "topics": ["troop-deployment"],
            "channels": [{"kind": "apprise", "target": target}],
        }
    )
    return load_seeds().model_copy(update={"desks": (desk,)})


def ops_alert(story: str) -> AlertMessage:
    """A high-severity alert of the ops desk, for its apprise target."""
    return alert_for("ops-desk", "apprise", "troop-deployment", story, NOW, webhook="ops-hook")


@pytest.fixture
def receiver() -> Iterator[SlackWebhookSink]:
    with SlackWebhookSink() as sink:
        yield sink


@pytest.fixture
def runtime(database_url: str, receiver: SlackWebhookSink) -> Iterator[Runtime]:
    """A run's adapters on the test database; `ops-hook` is the receiver, with a token."""
    url = f"json://deskwatch:{TOKEN}@127.0.0.1:{receiver.port}{receiver.path}"
    settings = Settings(
        state_url=SecretStr(database_url), apprise_urls={"ops-hook": SecretStr(url)}
    )
    rt = build_runtime(settings, ops_seeds())
    try:
        yield rt
    finally:
        rt.close()


def deliver(rt: Runtime, when: datetime) -> DeliveryReport:
    return deliver_pending(rt.outbox, rt.channel_for, at(when), rt.lease, desks=rt.seeds.desks)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_an_apprise_alert_reaches_the_webhook_once(
    runtime: Runtime, receiver: SlackWebhookSink
) -> None:
    alert = ops_alert("s1")
    queue_story(runtime.store, "s1", NOW, [alert])
    assert deliver(runtime, NOW).sent == 1
    assert deliver(runtime, NOW + timedelta(minutes=5)).sent == 0  # sent rows stay sent
    (payload,) = receiver.payloads
    notice = render_notice(alert)
    assert payload["title"] == notice.title == f"[deskwatch] {alert.topic_title}: Headline of s1"
    assert payload["message"] == notice.body and "**North Korean troops**" in notice.body
    assert payload["type"] == "warning"  # a high-severity topic
    assert Counter(runtime.store.outbox.counts()) == {OutboxStatus.SENT: 1}


def test_a_500_is_retried_on_the_next_run_then_delivered_once(
    runtime: Runtime, receiver: SlackWebhookSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    queue_story(runtime.store, "s1", NOW, [ops_alert("s1")])
    receiver.fail_with = 500
    first = deliver(runtime, NOW)
    assert (first.sent, first.retrying) == (0, 1)
    (row,) = runtime.store.outbox.list_rows([OutboxStatus.PENDING])
    assert row.attempts == 1 and row.next_attempt_at is not None and row.next_attempt_at > NOW
    assert row.last_error is not None and row.last_error.startswith("apprise ops-hook: not delive")
    assert "500" in row.last_error
    receiver.fail_with = None
    assert deliver(runtime, NOW + timedelta(seconds=1)).sent == 0  # still backing off
    assert deliver(runtime, NOW + timedelta(hours=1)).sent == 1
    assert deliver(runtime, NOW + timedelta(hours=2)).sent == 0
    assert len(receiver.payloads) == 1 and receiver.requests == 2
    # Apprise's debug lines hold the URL: none reaches the logs, nor does the token. (urllib3's
    # own debug lines name host and path; docs/DELIVERY.md says to keep it above debug.)
    assert TOKEN not in caplog.text
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("urllib3")]
    assert ours and not any(str(receiver.port) in line for line in ours)
    assert TOKEN not in row.last_error


def test_one_apprise_channel_per_url_per_run(runtime: Runtime) -> None:
    channel = runtime.channel_for(ops_alert("s1"))
    assert isinstance(channel, AppriseChannel) and channel is runtime.channel_for(ops_alert("s2"))
    assert TOKEN not in repr(channel) and "ops-hook" in repr(channel)


def test_an_unknown_apprise_target_is_a_one_line_settings_error(state_env: object) -> None:
    settings = Settings(apprise_urls={"ops-teams": SecretStr(f"json://u:{TOKEN}@127.0.0.1/x")})
    with pytest.raises(SettingsError) as caught:
        build_runtime(settings, ops_seeds("ops-telegram"))
    message = str(caught.value)
    assert message.startswith("DESKWATCH_APPRISE_URLS: no URL for target 'ops-telegram'")
    assert "'ops-desk'" in message and "known: ops-teams" in message
    assert "\n" not in message and TOKEN not in message


def test_a_url_apprise_cannot_use_is_retried_without_showing_it() -> None:
    with pytest.raises(DeliveryError) as caught:
        AppriseChannel("ops-hook", f"nosuchservice://{TOKEN}@example.invalid/")
    assert str(caught.value).startswith("DESKWATCH_APPRISE_URLS[ops-hook]: not a URL Apprise")
    assert TOKEN not in str(caught.value) and type(caught.value) is DeliveryError
