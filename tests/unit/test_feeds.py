"""Feed parsing: every fixture in tests/fixtures/feeds states what it expects on its first lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitors.feeds import FeedParseError, parse_feed

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
HEADERS = {"content-type": "application/xml"}


def expectation(path: Path) -> str:
    head = path.read_bytes()[:600].decode("ascii", errors="ignore")
    found = re.search(r"Expect: (items=\d+|error)", head)
    assert found, f"{path.name} does not say what it expects"
    return found.group(1)


@pytest.mark.parametrize("path", sorted(FEEDS.iterdir()), ids=lambda p: p.name)
def test_fixture_feed_yields_what_it_says(path: Path) -> None:
    expected = expectation(path)
    if expected == "error":
        with pytest.raises(FeedParseError):
            parse_feed(path.read_bytes(), HEADERS, "https://fixture.example/feed")
        return
    parsed = parse_feed(path.read_bytes(), HEADERS, "https://fixture.example/feed")
    assert len(parsed.items) == int(expected.removeprefix("items="))
    assert all(item.key and item.title for item in parsed.items)


def test_guid_is_the_item_key_and_markup_is_stripped() -> None:
    parsed = parse_feed((FEEDS / "rss2_two_items_with_guids.xml").read_bytes(), HEADERS, "x")
    first = parsed.items[0]
    assert first.key == "wire-101"
    assert first.summary == "Freight trains & passenger cars will cross the Tumen."
    assert (
        first.published is not None and first.published.isoformat() == "2024-12-16T23:30:00+00:00"
    )


def test_items_without_guid_are_keyed_by_canonical_link() -> None:
    body = (FEEDS / "rss_without_guids_keys_by_canonical_link.xml").read_bytes()
    keys = [item.key for item in parse_feed(body, HEADERS, "x").items]
    assert keys[0] == "https://daily.example/world/shells"


def test_malformed_feed_keeps_items_and_says_why() -> None:
    body = (FEEDS / "rss_bare_ampersand_still_yields_items.xml").read_bytes()
    parsed = parse_feed(body, HEADERS, "x")
    assert parsed.malformed
    assert parsed.items[0].title.startswith("Arms & ammunition")


def test_korean_feed_in_euc_kr_is_decoded() -> None:
    parsed = parse_feed((FEEDS / "rss_euc_kr_declared.xml").read_bytes(), {}, "x")
    assert parsed.items[0].title == "북한군, 러시아 쿠르스크 전선 투입"
