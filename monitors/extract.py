"""Main-text extraction from article and transcript HTML (trafilatura), navigation excluded."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura

from monitors.text import clean_text
from monitors.transcripts import TIMESTAMP_MARKER


@dataclass(frozen=True, slots=True)
class Extracted:
    title: str
    text: str


def extract_article(html: str | bytes, url: str) -> Extracted | None:
    """Title and main text of a page, or None when no main text could be found."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if document is None or isinstance(document, dict):
        return None
    text = (document.text or "").strip()
    if not text:
        return None
    return Extracted(title=clean_text(document.title or ""), text=text)


def transcript_timestamp_at(text: str, offset: int) -> str | None:
    """The last `Starting point is HH:MM:SS` marker before `offset`, if the text has them."""
    last: str | None = None
    for marker in TIMESTAMP_MARKER.finditer(text, 0, offset):
        last = marker.group(1)
    return last
