"""ReplaySite over real loopback HTTP: substitution, validators, 304s and the fault hooks."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
import trafilatura

from flows.local.replay import ReplaySite, bundled_replay_dir

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<!-- test feed: one item whose link points back at the same server -->
<rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>{base}/a.html</link><guid isPermaLink="false">a-1</guid></item>
</channel></rss>
"""
PAGE = b"<!doctype html><html><body><p>See {base}/feed.xml</p></body></html>\n"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ReplaySite]:
    (tmp_path / "feed.xml").write_bytes(FEED)
    (tmp_path / "a.html").write_bytes(PAGE)
    (tmp_path / "section").mkdir()
    (tmp_path / "section" / "index.html").write_bytes(b"<html><body>index</body></html>")
    with ReplaySite(tmp_path) as running:
        yield running


@pytest.fixture
def client(site: ReplaySite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, trust_env=False, timeout=5) as http:
        yield http


def test_serves_files_with_base_substituted(site: ReplaySite, client: httpx.Client) -> None:
    feed = client.get("/feed.xml")
    page = client.get("/a.html")

    assert site.base_url.startswith("http://127.0.0.1:")
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert f"<link>{site.base_url}/a.html</link>" in feed.text
    assert "{base}" not in feed.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert f"{site.base_url}/feed.xml" in page.text


def test_directory_serves_index_and_missing_is_404(client: httpx.Client) -> None:
    assert client.get("/section/").text == "<html><body>index</body></html>"
    assert client.get("/nothing-here.xml").status_code == 404


def test_paths_outside_the_root_are_not_served(site: ReplaySite, tmp_path: Path) -> None:
    (tmp_path.parent / "outside.txt").write_text("secret")

    assert site.resource("/../outside.txt") is None


def test_etag_then_304_on_if_none_match(client: httpx.Client) -> None:
    first = client.get("/feed.xml")
    etag = first.headers["etag"]

    second = client.get("/feed.xml", headers={"If-None-Match": etag})

    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    assert second.status_code == 304
    assert second.content == b""
    assert second.headers["etag"] == etag
    assert client.get("/feed.xml", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since_answers_304_unless_older(client: httpx.Client) -> None:
    last_modified = client.get("/feed.xml").headers["last-modified"]
    older = "Mon, 01 Jan 2001 00:00:00 GMT"

    same = client.get("/feed.xml", headers={"If-Modified-Since": last_modified})
    stale = client.get("/feed.xml", headers={"If-Modified-Since": older})

    assert same.status_code == 304
    assert stale.status_code == 200


def test_replace_changes_etag_and_last_modified(site: ReplaySite, client: httpx.Client) -> None:
    before = client.get("/feed.xml")

    site.replace("/feed.xml", FEED.replace(b"<title>a</title>", b"<title>b</title>"))
    after = client.get("/feed.xml", headers={"If-None-Match": before.headers["etag"]})

    assert after.status_code == 200
    assert "<title>b</title>" in after.text
    assert after.headers["etag"] != before.headers["etag"]
    assert _http_time(after.headers["last-modified"]) > _http_time(before.headers["last-modified"])


def test_redirect_hook(site: ReplaySite, client: httpx.Client) -> None:
    site.add_redirect("/old/feed.xml", "/feed.xml", status=308)

    hop = client.get("/old/feed.xml")
    followed = client.get("/old/feed.xml", follow_redirects=True)

    assert hop.status_code == 308
    assert hop.headers["location"] == f"{site.base_url}/feed.xml"
    assert followed.status_code == 200
    assert str(followed.url) == f"{site.base_url}/feed.xml"


def test_status_hook_with_headers(site: ReplaySite, client: httpx.Client) -> None:
    site.add_status("/feed.xml", 503, {"Retry-After": "7"})

    response = client.get("/feed.xml")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"


def test_slow_hook_trips_a_short_client_timeout(site: ReplaySite) -> None:
    site.add_slow("/a.html", 3.0)

    with (
        httpx.Client(base_url=site.base_url, trust_env=False, timeout=0.3) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.get("/a.html")


def test_huge_hook_streams_past_a_cap(site: ReplaySite, client: httpx.Client) -> None:
    site.add_huge("/huge.html", megabytes=3)
    cap = 1024 * 1024
    received = 0

    with client.stream("GET", "/huge.html") as response:
        assert "content-length" not in response.headers
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > cap:
                break

    assert received > cap


def test_requests_are_recorded_with_headers(site: ReplaySite, client: httpx.Client) -> None:
    etag = client.get("/feed.xml").headers["etag"]
    client.get("/feed.xml", headers={"If-None-Match": etag})

    recorded = site.requests

    assert [(r.method, r.path) for r in recorded] == [("GET", "/feed.xml")] * 2
    assert "if-none-match" not in recorded[0].headers
    assert recorded[1].headers["if-none-match"] == etag
    site.clear_requests()
    assert site.requests == []


def test_explicit_port_is_used(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(PAGE)
    port = _free_port()

    with ReplaySite(tmp_path, port=port) as chosen:
        base_url = chosen.base_url
        response = httpx.get(chosen.url("/a.html"), trust_env=False, timeout=5)

    assert base_url == f"http://127.0.0.1:{port}"
    assert response.status_code == 200
    assert f"http://127.0.0.1:{port}/feed.xml" in response.text


def _bundled_files() -> list[Path]:
    root = bundled_replay_dir()
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", _bundled_files(), ids=lambda p: p.name)
def test_bundled_fixture_describes_itself(path: Path) -> None:
    text = path.read_text(encoding="utf-8").lstrip()
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)

    assert text.startswith(("<!--", "#")), f"{path} must start with a comment"


def test_bundled_site_links_resolve() -> None:
    with (
        ReplaySite(bundled_replay_dir() / "site") as bundled,
        httpx.Client(trust_env=False, timeout=5) as http,
    ):
        links: set[str] = set()
        for feed in bundled.root.rglob("feed.xml"):
            body = http.get(bundled.url(feed.relative_to(bundled.root).as_posix())).content
            items = ElementTree.fromstring(body).iter("item")
            links |= {item.findtext("link") or "" for item in items}
        index = http.get(bundled.url("/podcast/index.html")).text
        episode = re.escape(bundled.base_url) + r"/podcast/episodes/[^\s\"<]+"
        links |= set(re.findall(episode, index))
        statuses = {link: http.get(link).status_code for link in links if link}

    assert len(statuses) == 13  # 11 feed items and 2 transcript episodes
    assert set(statuses.values()) == {200}, statuses


def test_bundled_articles_extract_their_paragraphs() -> None:
    site_root = bundled_replay_dir() / "site"
    pages = [p for p in site_root.rglob("*") if p.is_file() and p.suffix != ".xml"]
    pages = [p for p in pages if p.name != "index.html"]

    word_counts = {p.name: len(_main_text(p).split()) for p in pages}

    assert len(word_counts) >= 10
    assert all(count >= 150 for count in word_counts.values()), word_counts


def test_nav_only_page_names_the_region_only_in_its_chrome() -> None:
    page = next(p for p in (bundled_replay_dir() / "site").rglob("hallasan-*/*.html"))
    raw = page.read_text(encoding="utf-8")

    text = _main_text(page)

    assert "North Korea" in raw and "Russia" in raw
    assert "North Korea" not in text and "Russia" not in text
    assert "summit of Mount Hallasan" in text


def _main_text(page: Path) -> str:
    html = page.read_text(encoding="utf-8").replace("{base}", "http://127.0.0.1:9")
    return trafilatura.extract(html, favor_precision=True) or ""


def _http_time(value: str) -> float:
    parsed = time.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")
    return time.mktime(parsed)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_relative_dates_are_filled_in_before_the_start_of_the_day() -> None:
    from datetime import date

    from flows.local.replay import render

    body = render(b"<pubDate>{ago:90}</pubDate>", "http://x", today=date(2026, 1, 2))
    assert body == b"<pubDate>Thu, 01 Jan 2026 22:30:00 +0000</pubDate>"
