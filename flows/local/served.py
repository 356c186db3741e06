"""A socket server run from a daemon thread: the life cycle every local stand-in shares."""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType
from typing import Self

from monitors.errors import LocalServerError


class ServedInThread:
    """Start, stop and context-manage the server `_make_server` builds; subclasses add the rest."""

    thread_name = "local-server"
    port: int = 0

    def __init__(self) -> None:
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> socketserver.TCPServer:
        """The bound server (port 0 lets the OS choose); called by `start`."""
        raise NotImplementedError

    def _before_stop(self) -> None:
        """Hook: release anything a handler may be waiting on before the server shuts down."""

    def start(self) -> Self:
        """Bind and serve in a daemon thread; starting twice is a no-op."""
        if self._server is not None:
            return self
        try:
            server = self._make_server()
        except OSError as exc:
            name = self.thread_name.replace("-", " ")
            raise LocalServerError(f"{name}: cannot listen: {exc.strerror or exc}") from None
        self.port = int(server.server_address[1])
        self._server = server
        # A short poll interval: stop() returns in ~50 ms instead of half a second.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._server is not None:
            self._before_stop()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
