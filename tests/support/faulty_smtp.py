"""An SMTP stand-in on 127.0.0.1 that fails on purpose: it hangs up at a chosen moment."""

from __future__ import annotations

import socketserver
import threading

from flows.local.served import ServedInThread
from flows.local.sinks import LOOPBACK


class _DroppingHandler(socketserver.StreamRequestHandler):
    server: _DroppingServer

    def handle(self) -> None:
        sink = self.server.sink
        if sink.stage == "connect":
            return  # closed before the greeting: the client never gets a word
        self._reply("220 deskwatch-test ESMTP")
        while line := self.rfile.readline(1000):
            command = line.decode("ascii", "replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self._reply("250 deskwatch-test")
            elif command == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                sink.record(self._read_data())
                return  # the message arrived, and the connection drops before the 250
            elif command == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("250 OK")

    def _read_data(self) -> bytes:
        lines: list[bytes] = []
        while (line := self.rfile.readline(100_000)) not in (b".\r\n", b""):
            lines.append(line)
        return b"".join(lines)

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")
        self.wfile.flush()


class _DroppingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: DroppingSmtpServer


class DroppingSmtpServer(ServedInThread):
    """An SMTP server on 127.0.0.1 that hangs up: at once, or after taking a message's data.

    `stage="data"` is the ambiguous failure: the message arrived, the client saw no reply.
    """

    host = LOOPBACK
    thread_name = "smtp-drop"

    def __init__(self, stage: str = "connect") -> None:
        if stage not in ("connect", "data"):
            raise ValueError("stage is 'connect' or 'data'")
        super().__init__()
        self.stage = stage
        self.port = 0
        self._lock = threading.Lock()
        self._received: list[bytes] = []

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def received(self) -> list[bytes]:
        """Raw message data taken before hanging up."""
        with self._lock:
            return list(self._received)

    def record(self, data: bytes) -> None:
        with self._lock:
            self._received.append(data)

    def _make_server(self) -> _DroppingServer:
        server = _DroppingServer((self.host, 0), _DroppingHandler)
        server.sink = self
        return server
