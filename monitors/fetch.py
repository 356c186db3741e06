"""HTTP fetching: one client per run, conditional GET, size cap, classified outcomes."""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from monitors.models import FetchResult, FetchStatus, Validators

log = logging.getLogger(__name__)

# Fixed, low-cardinality failure reasons (kept on the source and shown to operators).
REASONS = (
    "timeout",
    "connect-error",
    "dns-error",
    "tls-error",
    "http-4xx",
    "http-5xx",
    "rate-limited",
    "too-large",
    "blocked-address",
    "bad-url",
    "protocol-error",
)

USER_AGENT = "deskwatch/0.1 (+media monitoring; respects ETag and Last-Modified)"


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits for every request of a run."""

    timeout_s: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allow_private_networks: bool = False
    user_agent: str = USER_AGENT


class _BlockedAddress(Exception):
    """Raised from the request hook when a URL resolves to a non-public address."""


class Fetcher:
    """Wraps one httpx.Client; `get` never raises for network or HTTP trouble."""

    def __init__(self, policy: FetchPolicy, transport: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        hooks = {"request": [] if policy.allow_private_networks else [_refuse_private_address]}
        self._client = httpx.Client(
            timeout=policy.timeout_s,
            follow_redirects=True,
            max_redirects=policy.max_redirects,
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
            event_hooks=hooks,
            transport=transport,
        )

    @property
    def client(self) -> httpx.Client:
        return self._client

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, validators: Validators | None = None) -> FetchResult:
        """GET `url`, sending validators if given; classify whatever happens."""
        if not url.startswith(("http://", "https://")):
            return FetchResult(FetchStatus.HARD, url, "bad-url", "not an http(s) URL")
        headers = _conditional_headers(validators)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                return self._read(url, response)
        except _BlockedAddress as exc:
            return FetchResult(FetchStatus.HARD, url, "blocked-address", str(exc))
        except httpx.HTTPError as exc:
            return _classify_exception(url, exc)

    def _read(self, url: str, response: httpx.Response) -> FetchResult:
        code = response.status_code
        final_url = str(response.url)
        if code == 304:
            return FetchResult(FetchStatus.NOT_MODIFIED, url, "not-modified", "", final_url, code)
        if code >= 400:
            return _classify_status(url, final_url, code)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
            return _too_large(url, final_url, code, self.policy.max_bytes)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.policy.max_bytes:
                return _too_large(url, final_url, code, self.policy.max_bytes)
            chunks.append(chunk)
        return FetchResult(
            FetchStatus.OK,
            url,
            final_url=final_url,
            status_code=code,
            body=b"".join(chunks),
            content_type=response.headers.get("content-type", ""),
            headers=dict(response.headers),
            validators=Validators(
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            ),
        )


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _too_large(url: str, final_url: str, code: int, cap: int) -> FetchResult:
    return FetchResult(
        FetchStatus.HARD, url, "too-large", f"body over {cap} bytes", final_url, code
    )


def _classify_status(url: str, final_url: str, code: int) -> FetchResult:
    if code == 429:
        return FetchResult(FetchStatus.SOFT, url, "rate-limited", "HTTP 429", final_url, code)
    if code >= 500:
        return FetchResult(FetchStatus.SOFT, url, "http-5xx", f"HTTP {code}", final_url, code)
    return FetchResult(FetchStatus.HARD, url, "http-4xx", f"HTTP {code}", final_url, code)


def _classify_exception(url: str, exc: httpx.HTTPError) -> FetchResult:
    """Map an httpx exception onto (status, reason); the detail is the first line only."""
    detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return FetchResult(FetchStatus.SOFT, url, "timeout", detail)
    if isinstance(exc, httpx.ConnectError):
        lowered = detail.lower()
        if "name or service" in lowered or "getaddrinfo" in lowered or "resolution" in lowered:
            return FetchResult(FetchStatus.SOFT, url, "dns-error", detail)
        if "ssl" in lowered or "certificate" in lowered:
            return FetchResult(FetchStatus.HARD, url, "tls-error", detail)
        return FetchResult(FetchStatus.SOFT, url, "connect-error", detail)
    if isinstance(exc, httpx.TooManyRedirects | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchResult(FetchStatus.HARD, url, "bad-url", detail)
    return FetchResult(FetchStatus.SOFT, url, "protocol-error", detail)


def _refuse_private_address(request: httpx.Request) -> None:
    """Request hook: refuse loopback, private, link-local and reserved destinations."""
    host = request.url.host
    try:
        infos = socket.getaddrinfo(host, request.url.port or 0, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return  # let the transport report the DNS failure itself
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise _BlockedAddress(f"{host} resolves to non-public address {address}")


def host_of(url: str) -> str:
    """The lowercase host of a URL, or '' when there is none."""
    return (urlsplit(url).hostname or "").lower()
