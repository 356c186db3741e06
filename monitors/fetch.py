"""HTTP fetching: one client per run, conditional GET, size cap, classified outcomes."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from monitors.hostlimit import HostLimiter
from monitors.models import FetchReason, FetchResult, FetchStatus, Validators

log = logging.getLogger(__name__)

# Failures that may fix themselves by the next run (status soft); every other one is hard.
TRANSIENT = frozenset(
    {
        FetchReason.TIMEOUT,
        FetchReason.CONNECT_ERROR,
        FetchReason.DNS_ERROR,
        FetchReason.HTTP_5XX,
        FetchReason.RATE_LIMITED,
        FetchReason.PROTOCOL_ERROR,
    }
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
    per_host_concurrency: int = 2  # requests to one host at once
    per_host_spacing_s: float = 0.0  # least time between two request starts to one host


class _BlockedAddress(Exception):
    """Raised from the request hook when a URL resolves to a non-public address.

    A signal through httpx back to Fetcher.get, which turns it into a result at once.
    """


class Fetcher:
    """Wraps one httpx.Client; `get` never raises for network or HTTP trouble."""

    def __init__(self, policy: FetchPolicy, transport: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        self.limiter = HostLimiter(policy.per_host_concurrency, policy.per_host_spacing_s)
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
            return _failure(url, FetchReason.BAD_URL, "not an http(s) URL")
        headers = _conditional_headers(validators)
        try:
            # Redirects are followed inside the slot of the host first asked.
            with (
                self.limiter.slot(host_of(url)),
                self._client.stream("GET", url, headers=headers) as response,
            ):
                return self._read(url, response)
        except _BlockedAddress as exc:
            return _failure(url, FetchReason.BLOCKED_ADDRESS, str(exc))
        except httpx.HTTPError as exc:
            return _classify_exception(url, exc)

    def _read(self, url: str, response: httpx.Response) -> FetchResult:
        code = response.status_code
        final_url = str(response.url)
        if code == 304:
            return FetchResult(
                FetchStatus.NOT_MODIFIED,
                url,
                FetchReason.NOT_MODIFIED,
                "",
                final_url,
                code,
                headers=dict(response.headers),
            )
        if code >= 400:
            failed = _classify_status(url, final_url, code)
            # Retry-After and Cache-Control of a refusal matter to the source's schedule.
            return dataclasses.replace(failed, headers=dict(response.headers))
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


def _failure(
    url: str, reason: FetchReason, detail: str, final_url: str = "", code: int | None = None
) -> FetchResult:
    """A failed fetch, soft or hard by its reason."""
    status = FetchStatus.SOFT if reason in TRANSIENT else FetchStatus.HARD
    return FetchResult(status, url, reason, detail, final_url, code)


def _too_large(url: str, final_url: str, code: int, cap: int) -> FetchResult:
    return _failure(url, FetchReason.TOO_LARGE, f"body over {cap} bytes", final_url, code)


def _classify_status(url: str, final_url: str, code: int) -> FetchResult:
    if code == 429:
        return _failure(url, FetchReason.RATE_LIMITED, "HTTP 429", final_url, code)
    if code >= 500:
        return _failure(url, FetchReason.HTTP_5XX, f"HTTP {code}", final_url, code)
    return _failure(url, FetchReason.HTTP_4XX, f"HTTP {code}", final_url, code)


def _classify_exception(url: str, exc: httpx.HTTPError) -> FetchResult:
    """Map an httpx exception onto (status, reason); the detail is the first line only."""
    detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return _failure(url, FetchReason.TIMEOUT, detail)
    if isinstance(exc, httpx.ConnectError):
        lowered = detail.lower()
        if "name or service" in lowered or "getaddrinfo" in lowered or "resolution" in lowered:
            return _failure(url, FetchReason.DNS_ERROR, detail)
        if "ssl" in lowered or "certificate" in lowered:
            return _failure(url, FetchReason.TLS_ERROR, detail)
        return _failure(url, FetchReason.CONNECT_ERROR, detail)
    if isinstance(exc, httpx.TooManyRedirects | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return _failure(url, FetchReason.BAD_URL, detail)
    return _failure(url, FetchReason.PROTOCOL_ERROR, detail)


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
