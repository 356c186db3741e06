"""Feed parsing: feedparser on the response bytes and headers, turned into typed FeedItems."""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from monitors.errors import FeedParseError
from monitors.identity import item_key
from monitors.models import FeedItem, ParsedFeed
from monitors.schedule import feed_interval
from monitors.text import clean_text


def parse_feed(body: bytes, headers: Mapping[str, str], base_url: str) -> ParsedFeed:
    """Parse a feed body; raise FeedParseError only when nothing usable came out."""
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", base_url)
    parsed: Any = feedparser.parse(body, response_headers=response_headers)
    items = tuple(item for entry in parsed.entries if (item := _to_item(entry)) is not None)
    bozo = _bozo_reason(parsed)
    if not items and (bozo or not parsed.get("version")):
        raise FeedParseError(bozo or "not a feed (no RSS, Atom or RDF root)")
    return ParsedFeed(
        items=items,
        title=clean_text(parsed.feed.get("title", "")),
        malformed=bozo,
        refresh=_refresh(parsed.feed),
    )


def _refresh(feed: Mapping[str, Any]) -> timedelta | None:
    """The feed's own refresh hint: RSS <ttl> minutes or the syndication module's period."""
    return feed_interval(
        str(feed.get("ttl") or ""),
        str(feed.get("sy_updateperiod") or ""),
        str(feed.get("sy_updatefrequency") or ""),
    )


def _to_item(entry: Mapping[str, Any]) -> FeedItem | None:
    link = str(entry.get("link") or "").strip()
    guid = str(entry.get("id") or "").strip()
    title = clean_text(str(entry.get("title") or ""))
    if not link and not guid:
        return None
    return FeedItem(
        key=item_key(guid, link),
        url=link,
        title=title,
        summary=clean_text(str(entry.get("summary") or "")),
        published=_entry_time(entry),
    )


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for name in ("published_parsed", "updated_parsed"):
        value = entry.get(name)
        if isinstance(value, time.struct_time):
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    text = (str(exc).splitlines() or [""])[0] if exc is not None else ""
    return f"{type(exc).__name__}: {text}"[:200] if exc is not None else "malformed feed"
