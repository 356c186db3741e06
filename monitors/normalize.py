"""Normalisation of URLs and text; pure."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from courlan import normalize_url

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")


def canonical_url(url: str) -> str:
    """A stable form of a URL: lowercase host, no tracking parameters or fragment."""
    try:
        normalized: str = normalize_url(url.strip(), strict=True)
    except (ValueError, AttributeError):
        return url.strip()
    return normalized.rstrip("/") if normalized.count("/") > 3 else normalized


def clean_text(text: str) -> str:
    """Plain text from feed markup: tags dropped, entities decoded, spaces collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def fingerprint(text: str) -> str:
    """Hash of the normalised text, for exact-copy detection across outlets."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = re.findall(r"\w+", folded)
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:32]
