"""Local stand-ins for an SMTP server and a Slack incoming webhook, on 127.0.0.1 only."""

from __future__ import annotations

import hmac
import json
import socket
import ssl
import threading
from collections.abc import Collection
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from flows.local.served import ServedInThread

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port the OS just reported free (aiosmtpd's Controller cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _SmtpHandler:
    """aiosmtpd hooks: enforce auth when configured, refuse listed mailboxes, keep messages."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._sink.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self._sink.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self._sink.record(bytes(raw), list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Accept LOGIN/PLAIN with exactly the configured user and password."""
        expected = self._sink.auth
        ok = (
            expected is not None
            and mechanism in ("LOGIN", "PLAIN")
            and isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, expected[0].encode())
            and hmac.compare_digest(auth_data.password, expected[1].encode())
        )
        if ok:
            self._sink.record_login(expected[0] if expected else "")
        return AuthResult(success=bool(ok), handled=False)


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""

    host = LOOPBACK

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        refuse: Collection[str] = (),
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        port: int = 0,
    ) -> None:
        self.auth = auth
        self.refuse = frozenset(address.lower() for address in refuse)  # answered with 550
        self.starttls = starttls  # offered and required before MAIL (and before AUTH)
        self.implicit_tls = implicit_tls  # TLS from the first byte, like smtps:// on 465
        self.port = port  # kept across stop/start, so a test can take the server down and back
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._recipients: list[list[str]] = []
        self._logins: list[str] = []
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """`smtp://127.0.0.1:PORT` (without credentials)."""
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        """A snapshot of the messages received so far."""
        with self._lock:
            return list(self._messages)

    @property
    def envelope_recipients(self) -> list[list[str]]:
        """RCPT TO addresses of each received message, in order."""
        with self._lock:
            return [list(r) for r in self._recipients]

    @property
    def logins(self) -> list[str]:
        """User names that authenticated successfully."""
        with self._lock:
            return list(self._logins)

    def record(self, raw: bytes, recipients: list[str]) -> None:
        """Parse and keep one received message."""
        message = BytesParser(policy=default_policy).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(message)
            self._recipients.append(recipients)

    def record_login(self, user: str) -> None:
        """Note one successful authentication."""
        with self._lock:
            self._logins.append(user)

    def start(self) -> Self:
        """Start serving on a free port (or the port it had before)."""
        handler = _SmtpHandler(self)
        self.port = self.port or free_port(self.host)
        tls = self.starttls is not None or self.implicit_tls is not None
        self._controller = Controller(
            handler,
            hostname=self.host,
            port=self.port,
            ssl_context=self.implicit_tls,
            server_hostname=self.host,  # the greeting's name: no DNS lookup per connection
            tls_context=self.starttls,
            require_starttls=self.starttls is not None,
            authenticator=handler.authenticate if self.auth else None,
            # Without TLS configured, plain AUTH is allowed: loopback tests need no certificates.
            auth_require_tls=tls,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True
    sink: SlackWebhookSink


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, text = self.server.sink.answer(self.path, body)
        payload = text.encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the demo print what matters themselves."""


class SlackWebhookSink(ServedInThread):
    """A Slack incoming-webhook stand-in on 127.0.0.1 that keeps every accepted JSON payload."""

    host = LOOPBACK
    path = "/services/hook"
    thread_name = "slack-sink"

    def __init__(
        self,
        *,
        rate_limit_first: int = 0,
        retry_after: float = 1,
        fail_with: int | None = None,
    ) -> None:
        super().__init__()
        self.rate_limit_first = rate_limit_first
        self.retry_after = retry_after
        self.fail_with = fail_with
        self.port = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._payloads: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        """The webhook URL to configure, e.g. `http://127.0.0.1:PORT/services/hook`."""
        return f"http://{self.host}:{self.port}{self.path}"

    @property
    def payloads(self) -> list[dict[str, Any]]:
        """A snapshot of the JSON bodies answered with 200."""
        with self._lock:
            return list(self._payloads)

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, str], str]:
        """Decide the reply to one POST, the way Slack would: status, headers, body text."""
        with self._lock:
            self.requests += 1
            if self.requests <= self.rate_limit_first:
                seconds = self.retry_after
                shown = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
                return 429, {"Retry-After": shown}, "rate_limited"
            if self.fail_with is not None:
                return self.fail_with, {}, "forced_failure"
            if path != self.path:
                return 404, {}, "no_service"
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, {}, "invalid_payload"
            if not isinstance(payload, dict):
                return 400, {}, "invalid_payload"
            self._payloads.append(payload)
            return 200, {}, "ok"

    def _make_server(self) -> _WebhookServer:
        server = _WebhookServer((self.host, 0), _WebhookHandler)
        server.sink = self
        return server
