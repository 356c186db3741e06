"""How the fetcher classifies what a server or the network does, without a server.

Each test hands the fetcher an `httpx.MockTransport` whose handler returns a response or raises
the exception the transport would; transport behaviour that needs a real socket (timeouts on a
slow server, refused connections, redirects, 304s over the wire) is in tests/integration.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from monitors.fetch import Fetcher, FetchPolicy
from monitors.models import FetchStatus, Validators

URL = "https://news.example/rss"
Handler = Callable[[httpx.Request], httpx.Response]


def fetcher_for(handler: Handler, **policy: object) -> Fetcher:
    """A fetcher whose every request goes to `handler` (no address check: nothing resolves)."""
    settings = FetchPolicy(allow_private_networks=True, **policy)  # type: ignore[arg-type]
    return Fetcher(settings, transport=httpx.MockTransport(handler))


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (404, FetchStatus.HARD, "http-4xx"),
        (410, FetchStatus.HARD, "http-4xx"),
        (429, FetchStatus.SOFT, "rate-limited"),
        (500, FetchStatus.SOFT, "http-5xx"),
        (503, FetchStatus.SOFT, "http-5xx"),
    ],
)
def test_http_error_codes_are_soft_or_hard_with_a_fixed_reason(
    code: int, status: FetchStatus, reason: str
) -> None:
    result = fetcher_for(lambda request: httpx.Response(code)).get(URL)
    assert (result.status, result.reason, result.status_code) == (status, reason, code)


@pytest.mark.parametrize(
    ("exc", "status", "reason"),
    [
        (httpx.ConnectTimeout("timed out"), FetchStatus.SOFT, "timeout"),
        (httpx.ReadTimeout("timed out"), FetchStatus.SOFT, "timeout"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), FetchStatus.SOFT, "dns-error"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]"), FetchStatus.HARD, "tls-error"),
        (httpx.ConnectError("[Errno 111] Connection refused"), FetchStatus.SOFT, "connect-error"),
        (httpx.RemoteProtocolError("peer closed connection"), FetchStatus.SOFT, "protocol-error"),
        (httpx.UnsupportedProtocol("gopher"), FetchStatus.HARD, "bad-url"),
    ],
)
def test_transport_exceptions_become_results_not_errors(
    exc: Exception, status: FetchStatus, reason: str
) -> None:
    result = fetcher_for(raising(exc)).get(URL)
    assert (result.status, result.reason) == (status, reason)
    assert "\n" not in result.detail


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "999999"}, content=b"x" * 999_999)

    result = fetcher_for(handler, max_bytes=1000).get(URL)
    assert (result.status, result.reason) == (FetchStatus.HARD, "too-large")


def test_an_undeclared_body_over_the_cap_is_cut_off() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"x" * 600, b"y" * 600]))

    result = fetcher_for(handler, max_bytes=1000).get(URL)
    assert (result.status, result.reason, result.body) == (FetchStatus.HARD, "too-large", b"")


def test_a_body_comes_back_with_its_validators_and_headers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"ETag": '"v7"', "Last-Modified": "Tue, 17 Dec 2024 08:30:00 GMT"}
        return httpx.Response(200, headers=headers | {"Content-Type": "application/rss+xml"})

    result = fetcher_for(handler).get(URL)
    assert result.status is FetchStatus.OK
    assert result.validators == Validators('"v7"', "Tue, 17 Dec 2024 08:30:00 GMT")
    assert result.content_type == "application/rss+xml"


def test_known_validators_are_sent_and_304_is_not_modified() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(304)

    result = fetcher_for(handler).get(URL, Validators('"v7"', "Tue, 17 Dec 2024 08:30:00 GMT"))
    assert result.status is FetchStatus.NOT_MODIFIED
    assert seen[0]["If-None-Match"] == '"v7"'
    assert seen[0]["If-Modified-Since"] == "Tue, 17 Dec 2024 08:30:00 GMT"


def test_a_non_http_link_is_refused_without_a_request() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    result = fetcher_for(handler).get("javascript:alert(1)")
    assert (result.status, result.reason, calls) == (FetchStatus.HARD, "bad-url", [])
