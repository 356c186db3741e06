"""A static site served on 127.0.0.1 for the demo and tests: validators, 304s and fault hooks."""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import mimetypes
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flows.local.served import ServedInThread

PLACEHOLDER = "{base}"
_AGO = re.compile(rb"\{ago:(\d+)\}")
_TEXT_TYPES = {
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".json": "application/json",
    ".yaml": "application/yaml",
}
_MIB = 1024 * 1024
_FILLER = (b"<p>" + b"filler text for a page that never ends " * 40 + b"</p>\n") * 40
_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class _Hooks:
    """What the test hooks ask of one path; the defaults serve the file as it is."""

    delay: float = 0.0
    redirect: tuple[str, int] | None = None
    status: tuple[int, dict[str, str]] | None = None
    huge_mib: int | None = None


@dataclass(frozen=True)
class Resource:
    """A file as served: bytes after `{base}` substitution, type and validators."""

    body: bytes
    content_type: str
    etag: str
    last_modified: int

    @property
    def last_modified_header(self) -> str:
        """Last-Modified as an HTTP date."""
        return email.utils.formatdate(self.last_modified, usegmt=True)


def render(data: bytes, base_url: str, today: date | None = None) -> bytes:
    """Fill `{base}` with the site's URL and `{ago:N}` with an RFC 822 time N minutes before today.

    Relative times keep the replayed items inside the retention window whenever the demo runs;
    anchoring them at the start of the current UTC day keeps the bytes (and ETags) stable all day.
    """
    day = today or datetime.now(UTC).date()
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)

    def ago(found: re.Match[bytes]) -> bytes:
        moment = midnight - timedelta(minutes=int(found.group(1)))
        return email.utils.format_datetime(moment).encode()

    return _AGO.sub(ago, data.replace(PLACEHOLDER.encode(), base_url.encode()))


def content_type_for(path: str, body: bytes) -> str:
    """Content-Type by extension (sniffed for Atom and extensionless HTML); text is utf-8."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xml" and b"<feed" in body[:1024]:
        return "application/atom+xml; charset=utf-8"
    if suffix in _TEXT_TYPES:
        return f"{_TEXT_TYPES[suffix]}; charset=utf-8"
    if not suffix and b"<html" in body[:4096].lower():
        return "text/html; charset=utf-8"  # pretty URLs: /2024/12/story-slug
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def strong_etag(body: bytes) -> str:
    """A quoted, truncated sha256 of the bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def is_not_modified(headers: Mapping[str, str], resource: Resource) -> bool:
    """RFC 9110 order: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or resource.etag in tags
    if_modified_since = headers.get("if-modified-since")
    if not if_modified_since:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return resource.last_modified <= since.timestamp()


class ReplaySite(ServedInThread):
    """Serve a directory on 127.0.0.1 from a daemon thread; hooks bend chosen paths for tests."""

    thread_name = "replay-site"

    def __init__(self, root: Path, *, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__()
        self.root = root.resolve()
        self._address = (host, port)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._hooks: dict[str, _Hooks] = {}
        self._overrides: dict[str, tuple[bytes, int]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def _make_server(self) -> _Server:
        self._stopping.clear()
        return _Server(self._address, _Handler, self)

    def _before_stop(self) -> None:
        self._stopping.set()  # slow answers in flight are cut short

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("ReplaySite is not started")
        return f"http://{self._address[0]}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of a site path."""
        return self.base_url + _norm(path)

    # -- test hooks --------------------------------------------------------------------------

    def add_redirect(self, path: str, to_path: str, status: int = 301) -> None:
        """Answer `path` with a redirect to `to_path` (a site path or an absolute URL)."""
        self._hook(path, redirect=(to_path, status))

    def add_status(self, path: str, status: int, headers: Mapping[str, str] | None = None) -> None:
        """Answer `path` with a bare `status` (and optional headers such as Retry-After)."""
        self._hook(path, status=(status, dict(headers or {})))

    def add_slow(self, path: str, seconds: float) -> None:
        """Sleep `seconds` before answering `path`."""
        self._hook(path, delay=seconds)

    def add_huge(self, path: str, megabytes: int) -> None:
        """Stream `megabytes` MiB of filler HTML at `path`, with no Content-Length."""
        self._hook(path, huge_mib=megabytes)

    def replace(self, path: str, new_bytes: bytes) -> None:
        """Serve `new_bytes` at `path` from now on, with a new ETag and a later Last-Modified."""
        path = _norm(path)
        current = self.resource(path)
        previous = current.last_modified if current is not None else 0
        with self._lock:
            self._overrides[path] = (new_bytes, max(int(time.time()), previous + 1))

    def clear_hooks(self) -> None:
        """Drop every hook and replacement; the files on disk are served again."""
        with self._lock:
            self._hooks.clear()
            self._overrides.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    # -- serving -----------------------------------------------------------------------------

    def resource(self, path: str) -> Resource | None:
        """What `path` serves now (after replacements), or None when there is no such file."""
        path = _norm(path)
        with self._lock:
            override = self._overrides.get(path)
        if override is not None:
            raw, mtime = override
        else:
            file = self._file_for(path)
            if file is None:
                return None
            raw, mtime = file.read_bytes(), int(file.stat().st_mtime)
        content_type = content_type_for(path, raw)
        body = render(raw, self.base_url) if content_type.endswith("charset=utf-8") else raw
        return Resource(body, content_type, strong_etag(body), mtime)

    def _file_for(self, path: str) -> Path | None:
        candidate = (self.root / unquote(path).lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _hook(self, path: str, **changes: Any) -> None:
        with self._lock:
            current = self._hooks.get(_norm(path), _Hooks())
            self._hooks[_norm(path)] = dataclasses.replace(current, **changes)

    def _hooks_for(self, path: str) -> _Hooks:
        with self._lock:
            return self._hooks.get(path, _Hooks())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], site: ReplaySite) -> None:
        self.site = site
        super().__init__(address, handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet: a client hanging up mid-answer is part of the tests."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection must not pin a thread forever

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """No access log on stderr."""

    def _answer(self, *, send_body: bool) -> None:
        site = self.server.site
        path = _norm(urlsplit(self.path).path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        site._record(RecordedRequest(self.command, path, headers))
        hooks = site._hooks_for(path)
        if hooks.delay and site._stopping.wait(hooks.delay):
            self.close_connection = True
            return
        try:
            if hooks.redirect is not None:
                to, code = hooks.redirect
                self._send(code, b"", {"Location": to if "://" in to else site.url(to)}, send_body)
            elif hooks.status is not None:
                code, extra = hooks.status
                body = f"status {code}\n".encode()
                self._send(code, body, {"Content-Type": "text/plain", **extra}, send_body)
            elif hooks.huge_mib is not None:
                self._stream_huge(hooks.huge_mib, send_body)
            else:
                self._send_resource(site.resource(path), headers, send_body)
        except _CLIENT_GONE:
            self.close_connection = True

    def _send_resource(
        self, resource: Resource | None, headers: Mapping[str, str], send_body: bool
    ) -> None:
        if resource is None:
            self._send(404, b"not found\n", {"Content-Type": "text/plain"}, send_body)
            return
        validators = {"ETag": resource.etag, "Last-Modified": resource.last_modified_header}
        if is_not_modified(headers, resource):
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        extra = {"Content-Type": resource.content_type, **validators}
        self._send(200, resource.body, extra, send_body)

    def _send(self, status: int, body: bytes, headers: Mapping[str, str], send_body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _stream_huge(self, megabytes: int, send_body: bool) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        if not send_body:
            return
        self.wfile.write(b"<!doctype html><html><body>\n")
        sent, total = 0, megabytes * _MIB
        while sent < total:
            chunk = _FILLER[: total - sent]
            self.wfile.write(chunk)
            sent += len(chunk)


def _norm(path: str) -> str:
    return "/" + path.lstrip("/")


def bundled_replay_dir() -> Path:
    """The replay site shipped with the package: `site/` to serve and `sources.yaml`."""
    return Path(str(resources.files("flows.local").joinpath("replay_site")))


def write_demo_sources(base_url: str, dest: Path) -> Path:
    """Write the bundled demo sources.yaml with `{base}` filled in; return the written path."""
    template = (bundled_replay_dir() / "sources.yaml").read_bytes()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(render(template, base_url))
    return dest
