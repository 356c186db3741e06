"""Channels against real loopback servers: aiosmtpd for SMTP, an HTTP server for Slack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from alerts.delivery.channels import FileChannel, SlackWebhookChannel, SmtpChannel, parse_smtp_url
from alerts.delivery.pacing import Pacer
from alerts.delivery.render import message_id_for
from alerts.models import AlertMessage, OtherOutlet, Passage
from flows.local.sinks import SlackWebhookSink, SmtpSink, free_port
from monitors.errors import DeliveryError, PermanentDeliveryError, SettingsError
from tests.support.faulty_smtp import DroppingSmtpServer
from tests.support.tls import LoopbackCert, loopback_cert

SENDER = "deskwatch <alerts@example.org>"
PASSWORD = "s3cr:et/p@ss"  # characters that must be percent-encoded in a URL
QUOTED_PASSWORD = quote(PASSWORD, safe="")


def make_alert(**changes: Any) -> AlertMessage:
    """A realistic alert; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "alert_key": "newsdesk|email|troop-deployment|story-1",
        "desk_id": "newsdesk",
        "desk_name": "News Desk",
        "channel": "email",
        "topic_id": "troop-deployment",
        "topic_title": "Troop deployment",
        "severity": "high",
        "score": 0.87,
        "headline": "North Korean troops arrive in Kursk",
        "url": "https://news.example.org/kursk",
        "outlet": "Example News",
        "published": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "detected_at": datetime(2025, 1, 2, 3, 10, tzinfo=UTC),
        "passages": [Passage(text="10,000 North Korean troops arrived.", highlights=[(7, 26)])],
        "also_reported_by": [OtherOutlet(outlet="Other Wire", url="https://wire.example.net/a")],
        "recipients": ["desk@example.org", "editor@example.org"],
    }
    fields.update(changes)
    return AlertMessage(**fields)


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


def test_smtp_with_auth_sends_percent_decoded_credentials() -> None:
    with SmtpSink(auth=("alerts@example.org", PASSWORD)) as sink:
        url = f"smtp://alerts%40example.org:{QUOTED_PASSWORD}@127.0.0.1:{sink.port}"
        SmtpChannel(url, SENDER, timeout=5).send(make_alert())
        assert sink.logins == ["alerts@example.org"]
        assert len(sink.messages) == 1


def test_smtp_wrong_password_is_reported_without_the_password() -> None:
    with SmtpSink(auth=("user", "right-password")) as sink:
        url = f"smtp://user:{QUOTED_PASSWORD}@127.0.0.1:{sink.port}"
        with pytest.raises(DeliveryError) as caught:
            SmtpChannel(url, SENDER, timeout=5).send(make_alert())
        assert sink.messages == []
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert PASSWORD not in str(caught.value) and "s3cr" not in str(caught.value)


def test_smtp_missing_credentials_stay_retryable() -> None:
    with SmtpSink(auth=("user", "pw")) as sink:
        with pytest.raises(DeliveryError) as caught:
            SmtpChannel(sink.url, SENDER, timeout=5).send(make_alert())
        assert sink.messages == []
    assert "530" in str(caught.value)
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_smtp_refused_recipients_are_permanent() -> None:
    with SmtpSink(refuse={"nobody@example.org"}) as sink:
        with pytest.raises(PermanentDeliveryError) as caught:
            SmtpChannel(sink.url, SENDER, timeout=5).send(
                make_alert(recipients=["nobody@example.org"])
            )
        assert sink.messages == []
    assert "550" in str(caught.value)


def test_smtp_partial_refusal_is_delivered_not_retried() -> None:
    # Raising here would make the outbox re-send to the recipients who already have it.
    with SmtpSink(refuse={"nobody@example.org"}) as sink:
        alert = make_alert(recipients=["desk@example.org", "nobody@example.org"])
        SmtpChannel(sink.url, SENDER, timeout=5).send(alert)
        assert sink.envelope_recipients == [["desk@example.org"]]


def test_smtp_closed_port_is_transient_and_hides_the_password() -> None:
    port = free_port()  # nothing listens here once the probe socket is closed
    url = f"smtp://user:{QUOTED_PASSWORD}@127.0.0.1:{port}"
    channel = SmtpChannel(url, SENDER, timeout=2)
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_alert())
    assert not isinstance(caught.value, PermanentDeliveryError)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert PASSWORD not in message and "s3cr" not in message
    assert "s3cr" not in repr(channel)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCert:
    return loopback_cert(tmp_path_factory.mktemp("tls"))


def test_smtp_starttls_with_auth(cert: LoopbackCert) -> None:
    tls = cert.server_context()
    with SmtpSink(auth=("user", PASSWORD), starttls=tls) as sink:
        url = f"smtp+starttls://user:{QUOTED_PASSWORD}@127.0.0.1:{sink.port}"
        SmtpChannel(url, SENDER, timeout=5, ssl_context=cert.client_context()).send(make_alert())
        assert sink.logins == ["user"] and len(sink.messages) == 1
        # Plain SMTP to a server that requires STARTTLS is refused before any data goes.
        with pytest.raises(DeliveryError):
            SmtpChannel(sink.url, SENDER, timeout=5).send(make_alert())
        assert len(sink.messages) == 1


def test_smtps_checks_the_certificate(cert: LoopbackCert) -> None:
    with SmtpSink(implicit_tls=cert.server_context()) as sink:
        url = f"smtps://127.0.0.1:{sink.port}"
        SmtpChannel(url, SENDER, timeout=5, ssl_context=cert.client_context()).send(make_alert())
        assert len(sink.messages) == 1
        # The system trust store does not know the self-signed certificate: no delivery.
        with pytest.raises(DeliveryError) as caught:
            SmtpChannel(url, SENDER, timeout=5).send(make_alert())
        assert not isinstance(caught.value, PermanentDeliveryError)
        assert len(sink.messages) == 1


@pytest.mark.parametrize("stage", ["connect", "data"])
def test_smtp_server_hanging_up_is_transient(stage: str) -> None:
    with DroppingSmtpServer(stage) as server:
        with pytest.raises(DeliveryError) as caught:
            SmtpChannel(server.url, SENDER, timeout=5).send(make_alert())
        assert not isinstance(caught.value, PermanentDeliveryError)
        assert "SMTPServerDisconnected" in str(caught.value)
        # After DATA the message may have arrived: a retry carries the same Message-ID.
        assert len(server.received) == (1 if stage == "data" else 0)
    if stage == "data":
        received = message_from_bytes(server.received[0], policy=default_policy)
        assert received["Message-ID"] == message_id_for(make_alert().alert_key)


def test_smtp_without_recipients_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError):
        SmtpChannel("smtp://127.0.0.1:25", SENDER).send(make_alert(recipients=[]))


def test_smtp_url_forms() -> None:
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp+starttls://u:p%40x@mail.example.org").port == 587
    assert parse_smtp_url("smtp+starttls://u:p%40x@mail.example.org").password == "p@x"
    assert "p%40x" not in repr(parse_smtp_url("smtp://u:p%40x@h:2525"))
    with pytest.raises(SettingsError) as caught:
        parse_smtp_url("http://u:hunter2@h")
    assert "hunter2" not in str(caught.value)


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
