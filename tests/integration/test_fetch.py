"""Fetching over real loopback HTTP: conditional GET, caps, timeouts and classified failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.local.replay import ReplaySite
from monitors.fetch import Fetcher, FetchPolicy
from monitors.models import FetchStatus, Validators


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ReplaySite]:
    (tmp_path / "feed.xml").write_text(
        "<rss version='2.0'><channel><title>t</title></channel></rss>"
    )
    (tmp_path / "page.html").write_text("<html><body><p>hello</p></body></html>")
    with ReplaySite(tmp_path) as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    client = Fetcher(FetchPolicy(timeout_s=1.0, max_bytes=100_000, allow_private_networks=True))
    yield client
    client.close()


def test_second_get_with_stored_validators_is_not_modified(
    site: ReplaySite, fetcher: Fetcher
) -> None:
    first = fetcher.get(site.url("/feed.xml"))
    assert first.status is FetchStatus.OK and first.validators.etag
    second = fetcher.get(site.url("/feed.xml"), first.validators)
    assert second.status is FetchStatus.NOT_MODIFIED
    sent = site.requests[-1].headers
    assert sent.get("if-none-match") == first.validators.etag


def test_changed_content_is_fetched_again(site: ReplaySite, fetcher: Fetcher) -> None:
    first = fetcher.get(site.url("/feed.xml"))
    site.replace("/feed.xml", b"<rss version='2.0'><channel><title>new</title></channel></rss>")
    again = fetcher.get(site.url("/feed.xml"), first.validators)
    assert again.status is FetchStatus.OK and b"new" in again.body


def test_redirect_is_followed(site: ReplaySite, fetcher: Fetcher) -> None:
    site.add_redirect("/old-feed", "/feed.xml")
    result = fetcher.get(site.url("/old-feed"))
    assert result.status is FetchStatus.OK and result.final_url.endswith("/feed.xml")


@pytest.mark.parametrize(
    ("status", "expected", "reason"),
    [
        (404, FetchStatus.HARD, "http-4xx"),
        (503, FetchStatus.SOFT, "http-5xx"),
        (429, FetchStatus.SOFT, "rate-limited"),
    ],
)
def test_http_errors_are_classified(
    site: ReplaySite, fetcher: Fetcher, status: int, expected: FetchStatus, reason: str
) -> None:
    site.add_status("/feed.xml", status)
    result = fetcher.get(site.url("/feed.xml"))
    assert (result.status, result.reason) == (expected, reason)


def test_slow_server_times_out_softly(site: ReplaySite, fetcher: Fetcher) -> None:
    site.add_slow("/page.html", 3.0)
    result = fetcher.get(site.url("/page.html"))
    assert (result.status, result.reason) == (FetchStatus.SOFT, "timeout")


def test_huge_body_is_cut_off(site: ReplaySite, fetcher: Fetcher) -> None:
    site.add_huge("/page.html", 2)
    result = fetcher.get(site.url("/page.html"))
    assert (result.status, result.reason) == (FetchStatus.HARD, "too-large")
    assert result.body == b""


def test_refused_connection_is_soft() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher = Fetcher(FetchPolicy(timeout_s=1.0, allow_private_networks=True))
    result = fetcher.get(f"http://127.0.0.1:{port}/feed.xml")
    fetcher.close()
    assert (result.status, result.reason) == (FetchStatus.SOFT, "connect-error")


def test_private_addresses_are_refused_unless_allowed(site: ReplaySite) -> None:
    guarded = Fetcher(FetchPolicy(timeout_s=1.0))
    result = guarded.get(site.url("/feed.xml"))
    guarded.close()
    assert (result.status, result.reason) == (FetchStatus.HARD, "blocked-address")
    assert site.requests == []


def test_non_http_url_is_a_bad_url(fetcher: Fetcher) -> None:
    assert fetcher.get("file:///etc/passwd").reason == "bad-url"


def test_validators_are_sent_only_when_known(site: ReplaySite, fetcher: Fetcher) -> None:
    fetcher.get(site.url("/feed.xml"), Validators())
    assert "if-none-match" not in site.requests[-1].headers
