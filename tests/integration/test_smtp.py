"""The one SMTP transport of alerts and digests, against real loopback servers.

Every failure is classified here once: aiosmtpd (refusals, auth, STARTTLS, SMTPS), a server
that hangs up, a port nobody listens on; the replies no loopback server gives are fed to the
pure classifier directly.
"""

from __future__ import annotations

import logging
import smtplib
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import quote

import pytest

from alerts.delivery.smtp import SmtpTransport, parse_smtp_url, smtp_failure
from alerts.digest.email import SmtpDigestMailer
from flows.local.sinks import SmtpSink, free_port
from monitors.errors import DeliveryError, PermanentDeliveryError, SettingsError
from tests.support.faulty_smtp import DroppingSmtpServer
from tests.support.tls import LoopbackCert, loopback_cert

PASSWORD = "s3cr:et/p@ss"  # characters that must be percent-encoded in a URL
QUOTED_PASSWORD = quote(PASSWORD, safe="")


def mail(*to: str) -> EmailMessage:
    """A small plain-text message to `to` (desk@example.org when none is given)."""
    msg = EmailMessage()
    msg["Subject"] = "[deskwatch] test"
    msg["From"] = "deskwatch <alerts@example.org>"
    msg["To"] = ", ".join(to or ("desk@example.org",))
    msg["Message-ID"] = "<transport-test@deskwatch>"
    msg.set_content("Shells crossed the border.")
    return msg


def failure(exc: Exception) -> DeliveryError:
    return smtp_failure(parse_smtp_url(f"smtp://user:{QUOTED_PASSWORD}@mail.example.org"), exc)


def test_delivers_to_every_recipient() -> None:
    with SmtpSink() as sink:
        SmtpTransport(sink.url, timeout=5).send(mail("desk@example.org", "editor@example.org"))
        assert sink.envelope_recipients == [["desk@example.org", "editor@example.org"]]
        assert sink.messages[0]["Message-ID"] == "<transport-test@deskwatch>"


def test_auth_sends_percent_decoded_credentials() -> None:
    with SmtpSink(auth=("alerts@example.org", PASSWORD)) as sink:
        url = f"smtp://alerts%40example.org:{QUOTED_PASSWORD}@127.0.0.1:{sink.port}"
        SmtpTransport(url, timeout=5).send(mail())
        assert sink.logins == ["alerts@example.org"]
        assert len(sink.messages) == 1


def test_wrong_password_is_retryable_and_never_reported() -> None:
    with SmtpSink(auth=("user", "right-password")) as sink:
        url = f"smtp://user:{QUOTED_PASSWORD}@127.0.0.1:{sink.port}"
        with pytest.raises(DeliveryError) as caught:
            SmtpTransport(url, timeout=5).send(mail())
        assert sink.messages == []
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "authentication failed (535)" in str(caught.value)
    assert PASSWORD not in str(caught.value) and "s3cr" not in str(caught.value)
    assert caught.value.__cause__ is None  # nothing chained that could hold the exchange


def test_missing_credentials_stay_retryable() -> None:
    with SmtpSink(auth=("user", "pw")) as sink:
        with pytest.raises(DeliveryError) as caught:
            SmtpTransport(sink.url, timeout=5).send(mail())
        assert sink.messages == []
    assert "530" in str(caught.value)
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_every_recipient_refused_with_5xx_is_permanent() -> None:
    with SmtpSink(refuse={"nobody@example.org", "gone@example.org"}) as sink:
        with pytest.raises(PermanentDeliveryError) as caught:
            SmtpTransport(sink.url, timeout=5).send(mail("nobody@example.org", "gone@example.org"))
        assert sink.messages == []
    assert str(caught.value) == f"smtp 127.0.0.1:{sink.port}: all recipients refused [550]"


def test_partial_refusal_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    # Raising here would make a retry re-send to the recipients who already have it.
    with SmtpSink(refuse={"nobody@example.org"}) as sink, caplog.at_level(logging.WARNING):
        SmtpTransport(sink.url, timeout=5).send(mail("desk@example.org", "nobody@example.org"))
        assert sink.envelope_recipients == [["desk@example.org"]]
    assert "1 recipient(s) refused" in caplog.text


def test_closed_port_is_retryable_and_hides_the_password() -> None:
    port = free_port()  # nothing listens here once the probe socket is closed
    transport = SmtpTransport(f"smtp://user:{QUOTED_PASSWORD}@127.0.0.1:{port}", timeout=2)
    with pytest.raises(DeliveryError) as caught:
        transport.send(mail())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert str(caught.value).startswith(f"smtp 127.0.0.1:{port}: ConnectionRefusedError")
    assert "s3cr" not in str(caught.value) and "s3cr" not in repr(transport)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCert:
    return loopback_cert(tmp_path_factory.mktemp("tls"))


def test_starttls_with_auth(cert: LoopbackCert) -> None:
    with SmtpSink(auth=("user", PASSWORD), starttls=cert.server_context()) as sink:
        url = f"smtp+starttls://user:{QUOTED_PASSWORD}@127.0.0.1:{sink.port}"
        SmtpTransport(url, timeout=5, ssl_context=cert.client_context()).send(mail())
        assert sink.logins == ["user"] and len(sink.messages) == 1
        # Plain SMTP to a server that requires STARTTLS is refused before any data goes.
        with pytest.raises(DeliveryError):
            SmtpTransport(sink.url, timeout=5).send(mail())
        assert len(sink.messages) == 1


def test_smtps_checks_the_certificate(cert: LoopbackCert) -> None:
    with SmtpSink(implicit_tls=cert.server_context()) as sink:
        url = f"smtps://127.0.0.1:{sink.port}"
        SmtpTransport(url, timeout=5, ssl_context=cert.client_context()).send(mail())
        assert len(sink.messages) == 1
        # The system trust store does not know the self-signed certificate: no delivery.
        with pytest.raises(DeliveryError) as caught:
            SmtpTransport(url, timeout=5).send(mail())
        assert not isinstance(caught.value, PermanentDeliveryError)
        assert len(sink.messages) == 1


@pytest.mark.parametrize("stage", ["connect", "data"])
def test_server_hanging_up_is_retryable(stage: str) -> None:
    with DroppingSmtpServer(stage) as server:
        with pytest.raises(DeliveryError) as caught:
            SmtpTransport(server.url, timeout=5).send(mail())
        assert not isinstance(caught.value, PermanentDeliveryError)
        assert "SMTPServerDisconnected" in str(caught.value)
        # After DATA the message may have arrived: a retry carries the same Message-ID.
        assert len(server.received) == (1 if stage == "data" else 0)
    if stage == "data":
        received = message_from_bytes(server.received[0], policy=default_policy)
        assert received["Message-ID"] == "<transport-test@deskwatch>"


@pytest.mark.parametrize(
    ("exc", "permanent", "text"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.org": (450, b"busy")}), False, "refused [450]"),
        (
            smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"no"), "b@x.org": (451, b"later")}),
            False,
            "refused [451, 550]",
        ),
        (smtplib.SMTPDataError(554, b"Transaction failed"), True, "554 Transaction failed"),
        (smtplib.SMTPSenderRefused(553, b"not yours", "a@x.org"), True, "553 not yours"),
        (smtplib.SMTPResponseException(421, b"Try again later"), False, "421 Try again later"),
        (smtplib.SMTPAuthenticationError(538, b"Encryption required"), False, "failed (538)"),
        (smtplib.SMTPResponseException(534, b"Web login required"), False, "534 Web login"),
    ],
)
def test_replies_no_loopback_server_gives(exc: Exception, permanent: bool, text: str) -> None:
    error = failure(exc)
    assert isinstance(error, PermanentDeliveryError) is permanent
    assert str(error).startswith("smtp mail.example.org:25: ") and text in str(error)


def test_a_reply_echoing_the_password_is_scrubbed() -> None:
    error = failure(smtplib.SMTPDataError(554, f"rejected {PASSWORD}".encode()))
    assert PASSWORD not in str(error) and "***" in str(error)


def test_digest_mailer_sends_through_the_transport() -> None:
    with SmtpSink(refuse={"nobody@example.org"}) as sink:
        mailer = SmtpDigestMailer(sink.url, timeout=5)
        where = mailer.send(mail("desk@example.org"), "newsdesk/digest-2025-03-04")
        assert where == f"smtp 127.0.0.1:{sink.port} to desk@example.org"
        with pytest.raises(PermanentDeliveryError):
            mailer.send(mail("nobody@example.org"), "newsdesk/digest-2025-03-04")
        assert len(sink.messages) == 1


def test_smtp_url_forms() -> None:
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp+starttls://u:p%40x@mail.example.org").port == 587
    assert parse_smtp_url("smtp+starttls://u:p%40x@mail.example.org").password == "p@x"
    assert "p%40x" not in repr(parse_smtp_url("smtp://u:p%40x@h:2525"))
    with pytest.raises(SettingsError) as caught:
        parse_smtp_url("http://u:hunter2@h")
    assert "hunter2" not in str(caught.value)
