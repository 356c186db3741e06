"""A loopback HTTP server for politeness tests: canned answers per path, hits counted, and the
most requests it ever had in flight at once (what a per-host cap must bound)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flows.local.served import ServedInThread


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FeedServer(ServedInThread):
    """Serves `answers[path]` (404 otherwise), each after `delay_s`; thread-safe counters."""

    thread_name = "feed-server"

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.answers: dict[str, Answer] = {}
        self.hits: dict[str, int] = {}
        self.starts: list[float] = []  # time.monotonic() of each request's arrival
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def _make_server(self) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._enter(self.path)
                try:
                    time.sleep(server.delay_s)
                    answer = server.answers.get(self.path, Answer(404, b"not here"))
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                finally:
                    server._leave()

            def log_message(self, format: str, *args: object) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        return httpd

    def _enter(self, path: str) -> None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            self.starts.append(time.monotonic())
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
