"""Plain text from feed and page markup; pure."""

from __future__ import annotations

import html
import re

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")


def clean_text(text: str) -> str:
    """Plain text from feed markup: tags dropped, entities decoded, spaces collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
