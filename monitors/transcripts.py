"""Transcript index pages: the episode links a `transcript_page` source lists."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html

from monitors.identity import canonical_url
from monitors.models import FeedItem, ParsedFeed
from monitors.text import clean_text

# The marker transcript pages put before each stretch of speech; trailing space is part of it
# so that the digest can cut markers out of a passage cleanly.
TIMESTAMP_MARKER = re.compile(r"Starting point is (\d{1,2}:\d{2}:\d{2})\s*")


def parse_transcript_index(body: bytes, base_url: str, link_pattern: str | None) -> ParsedFeed:
    """Episode links of an index page, in page order, one item per distinct canonical URL."""
    if not body.strip():
        return ParsedFeed(items=(), malformed="empty page")
    root = lxml.html.fromstring(body)
    pattern = re.compile(link_pattern) if link_pattern else None
    seen: set[str] = set()
    items: list[FeedItem] = []
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if not href:
            continue
        url = urljoin(base_url, href)
        if pattern is not None and not pattern.search(url):
            continue
        key = canonical_url(url)
        if key in seen:
            continue
        seen.add(key)
        items.append(FeedItem(key=key, url=url, title=clean_text(anchor.text_content())))
    return ParsedFeed(items=tuple(items), title=clean_text(root.findtext(".//title") or ""))
