"""Topic words that appear only in a page's navigation, header or footer never make a match."""

from __future__ import annotations

from pathlib import Path

import lxml.html

from flows.cli.commands import read_document
from flows.local.replay import bundled_replay_dir
from monitors.match import Matcher
from monitors.models import Document
from seeds.loader import load_seeds

NAV_ONLY = next((bundled_replay_dir() / "site").rglob("hallasan-*/*.html"))


def test_page_with_topic_words_only_in_its_navigation_matches_nothing(tmp_path: Path) -> None:
    page = tmp_path / "hallasan.html"
    page.write_text(NAV_ONLY.read_text(encoding="utf-8").replace("{base}", "http://x"), "utf-8")
    matcher = Matcher(load_seeds().topics)

    document = read_document(page)

    assert "Hallasan" in document.text
    assert matcher.match(document) == []


def test_the_same_page_read_whole_would_have_matched() -> None:
    """Guards the test above: the page's chrome really carries enough topic words to fire."""
    whole = lxml.html.fromstring(NAV_ONLY.read_bytes()).text_content()
    matcher = Matcher(load_seeds().topics)

    found = matcher.match(Document("Hallasan's summit trail reopens", whole))

    assert [m.topic for m in found] == ["pyongyang-moscow-ties"]
