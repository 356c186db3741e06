"""Channels against real loopback servers: aiosmtpd for SMTP, an HTTP server for Slack.

How SMTP failures are classified is tested once, on the transport, in test_smtp.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from alerts.delivery.channels import FileChannel, SlackWebhookChannel, SmtpChannel
from alerts.delivery.pacing import Pacer
from alerts.delivery.render import message_id_for
from flows.local.sinks import SlackWebhookSink, SmtpSink, free_port
from monitors.errors import DeliveryError, PermanentDeliveryError
from tests.support.builders import an_alert

SENDER = "deskwatch <alerts@example.org>"


make_alert = an_alert


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


# --- SMTP ------------------------------------------------------------------------------------


def test_smtp_delivers_a_parseable_message() -> None:
    alert = make_alert()
    with SmtpSink() as sink:
        SmtpChannel(sink.url, SENDER, timeout=5).send(alert)
        [msg] = sink.messages
        assert sink.envelope_recipients == [["desk@example.org", "editor@example.org"]]
    assert msg["Message-ID"] == message_id_for(alert.alert_key)
    assert msg["Subject"] == "[deskwatch] Troop deployment: North Korean troops arrive in Kursk"
    assert msg["List-Id"] == "<newsdesk.deskwatch>"
    assert msg["From"] == SENDER
    assert msg.get_content_type() == "multipart/alternative"
    assert "**North Korean troops**" in body_text(msg)
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and "<mark" in str(html.get_content())


def test_smtp_channel_failures_come_classified_from_the_transport() -> None:
    with SmtpSink(refuse={"nobody@example.org"}) as sink:
        with pytest.raises(PermanentDeliveryError) as caught:
            SmtpChannel(sink.url, SENDER, timeout=5).send(
                make_alert(recipients=["nobody@example.org"])
            )
        assert sink.messages == []
    assert str(caught.value) == f"smtp 127.0.0.1:{sink.port}: all recipients refused [550]"


def test_smtp_without_recipients_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError):
        SmtpChannel("smtp://127.0.0.1:25", SENDER).send(make_alert(recipients=[]))


# --- Slack -----------------------------------------------------------------------------------


def test_slack_webhook_receives_the_payload(client: httpx.Client) -> None:
    with SlackWebhookSink() as sink:
        SlackWebhookChannel(sink.url, client).send(make_alert(channel="slack"))
        [payload] = sink.payloads
    assert "North Korean troops arrive in Kursk" in payload["text"]
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "section"
    assert blocks[0]["text"]["text"] == (
        "*<https://news.example.org/kursk|North Korean troops arrive in Kursk>*"
    )
    assert any("*North Korean troops*" in b.get("text", {}).get("text", "") for b in blocks)


def test_slack_short_429_is_waited_out_and_sent_once(client: httpx.Client) -> None:
    with SlackWebhookSink(rate_limit_first=1, retry_after=0.2) as sink:
        channel = SlackWebhookChannel(sink.url, client, max_wait_s=5)
        started = time.monotonic()
        channel.send(make_alert(channel="slack"))
        assert time.monotonic() - started >= 0.2
        assert (sink.requests, len(sink.payloads)) == (2, 1)


def test_slack_long_429_is_left_to_the_outbox(client: httpx.Client) -> None:
    with SlackWebhookSink(rate_limit_first=1, retry_after=120) as sink:
        channel = SlackWebhookChannel(sink.url, client, max_wait_s=30)
        with pytest.raises(DeliveryError) as caught:
            channel.send(make_alert(channel="slack"))
        assert not isinstance(caught.value, PermanentDeliveryError)
        assert caught.value.retry_after == 120
        # The webhook stays off limits for this channel: no request until Retry-After passes.
        with pytest.raises(DeliveryError) as again:
            channel.send(make_alert(channel="slack"))
        assert again.value.retry_after is not None and again.value.retry_after > 100
        assert sink.requests == 1 and sink.payloads == []


def test_slack_pacing_spaces_messages_to_one_webhook(client: httpx.Client) -> None:
    with SlackWebhookSink() as sink:
        channel = SlackWebhookChannel(sink.url, client, pacer=Pacer(rate=10.0, burst=1))
        started = time.monotonic()
        for n in range(4):
            channel.send(make_alert(channel="slack", alert_key=f"k{n}"))
        assert time.monotonic() - started >= 0.3  # three gaps of 0.1 s
        assert len(sink.payloads) == 4


def test_slack_404_is_permanent_and_hides_the_url(client: httpx.Client) -> None:
    with SlackWebhookSink(fail_with=404) as sink:
        with pytest.raises(PermanentDeliveryError) as caught:
            SlackWebhookChannel(sink.url, client).send(make_alert(channel="slack"))
        message = str(caught.value)
        assert "404" in message and "slack webhook" in message
        assert sink.url not in message and "/services/hook" not in message
        assert str(sink.port) not in message


def test_slack_5xx_and_connection_errors_are_transient(client: httpx.Client) -> None:
    with SlackWebhookSink(fail_with=503) as sink:
        with pytest.raises(DeliveryError) as caught:
            SlackWebhookChannel(sink.url, client).send(make_alert(channel="slack"))
        assert not isinstance(caught.value, PermanentDeliveryError)
    dead = f"http://127.0.0.1:{free_port()}/services/T000/B000/secret-token"
    with pytest.raises(DeliveryError) as caught:
        SlackWebhookChannel(dead, client).send(make_alert(channel="slack"))
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "secret-token" not in str(caught.value)


# --- files -----------------------------------------------------------------------------------


def test_file_channel_writes_eml_once(tmp_path: Path) -> None:
    channel = FileChannel(tmp_path)
    alert = make_alert()
    channel.send(alert)
    channel.send(alert)
    files = list((tmp_path / "newsdesk").iterdir())
    assert len(files) == 1 and files[0].name.endswith(".eml")
    assert files[0] == channel.path_for(alert)
    assert b"Message-ID: " + message_id_for(alert.alert_key).encode() in files[0].read_bytes()


def test_file_channel_writes_slack_json_once(tmp_path: Path) -> None:
    channel = FileChannel(tmp_path)
    alert = make_alert(channel="slack", alert_key="newsdesk|slack|troop-deployment|story-1")
    channel.send(alert)
    channel.send(alert)
    files = list((tmp_path / "newsdesk").iterdir())
    assert len(files) == 1 and files[0].name.endswith(".slack.json")
    assert "North Korean troops arrive in Kursk" in files[0].read_text(encoding="utf-8")
