"""Digest files: layout, byte-identical regeneration, self-contained HTML, honest empty states."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alerts.digest_writer import (
    render_digest_html,
    render_digest_json,
    render_digest_markdown,
    write_digest,
)
from alerts.models import (
    Digest,
    DigestSource,
    DigestStory,
    DigestTopic,
    OtherOutlet,
    Passage,
)


def make_story(**changes: Any) -> DigestStory:
    fields: dict[str, Any] = {
        "headline": "Pyongyang ships artillery shells to Moscow",
        "url": "https://news.example.org/shells",
        "outlet": "Example News",
        "published": datetime(2025, 3, 4, 1, 30, tzinfo=UTC),
        "score": 0.91,
        "passages": [
            Passage(text="Millions of artillery shells crossed the border.", highlights=[(12, 29)])
        ],
        "also_reported_by": [OtherOutlet(outlet="Other Wire", url="https://wire.example.net/x")],
        "alerted": True,
    }
    fields.update(changes)
    return DigestStory(**fields)


def make_digest(**changes: Any) -> Digest:
    fields: dict[str, Any] = {
        "desk_id": "newsdesk",
        "desk_name": "News Desk",
        "date": date(2025, 3, 4),
        "timezone": "Asia/Seoul",
        "generated_at": datetime(2025, 3, 4, 14, 0, tzinfo=UTC),
        "topics": [
            DigestTopic(topic_id="arms-transfers", title="Arms transfers", stories=[make_story()]),
            DigestTopic(topic_id="seoul-moscow", title="Seoul-Moscow relations"),
        ],
        "sources": [
            DigestSource(source_id="wire", name="Wire", status="ok"),
            DigestSource(source_id="cache", name="Cached", status="not-modified"),
            DigestSource(
                source_id="broken-feed",
                name="Broken Feed",
                status="failed",
                reason="timeout",
                last_ok_at=datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
            ),
        ],
        "alerts_sent": 1,
    }
    fields.update(changes)
    return Digest(**fields)


def test_writes_three_files_under_desk_and_date(tmp_path: Path) -> None:
    paths = write_digest(make_digest(), tmp_path)
    folder = tmp_path / "newsdesk"
    assert (paths.md, paths.html, paths.json) == (
        folder / "2025-03-04.md",
        folder / "2025-03-04.html",
        folder / "2025-03-04.json",
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "2025-03-04.html",
        "2025-03-04.json",
        "2025-03-04.md",
    ]  # and no temporary files left behind
    assert paths.md.read_text(encoding="utf-8") == render_digest_markdown(make_digest())


def test_regenerating_gives_identical_bytes(tmp_path: Path) -> None:
    first = write_digest(make_digest(), tmp_path)
    before = {p: p.read_bytes() for p in (first.md, first.html, first.json)}
    second = write_digest(make_digest(), tmp_path)
    assert {p: p.read_bytes() for p in (second.md, second.html, second.json)} == before
    assert len(list((tmp_path / "newsdesk").iterdir())) == 3


def test_markdown_content() -> None:
    md = render_digest_markdown(make_digest())
    assert md.startswith("# News Desk — digest for 2025-03-04\n")
    assert "1 story: Arms transfers 1 · Seoul-Moscow relations 0. 1 alert sent." in md
    assert "### [Pyongyang ships artillery shells to Moscow](https://news.example.org/shells)" in md
    assert "> Millions of **artillery shells** crossed the border." in md
    assert "2025-03-04 10:30+09:00" in md  # shown in the desk's time zone
    assert "Also reported by: [Other Wire](https://wire.example.net/x)" in md
    assert "## Seoul-Moscow relations (0)\n\nNo stories." in md
    assert "**Broken Feed** (broken-feed): failed — timeout" in md
    assert "Wire** (wire)" not in md and "Cached" not in md  # healthy sources stay quiet


def test_markdown_escapes_feed_text() -> None:
    story = make_story(
        headline="[click](https://evil.example) *now* <b>",
        url="javascript:x()",
        passages=[Passage(text="a *b* c", highlights=[(2, 5)])],
    )
    md = render_digest_markdown(
        make_digest(topics=[DigestTopic(topic_id="t", title="T", stories=[story])])
    )
    assert "[click](https://evil.example)" not in md and "javascript:" not in md
    assert r"\[click\](https://evil.example) \*now\* \<b\>" in md
    assert r"> a **\*b\*** c" in md


def test_html_is_self_contained_and_mobile_friendly() -> None:
    html = render_digest_html(make_digest())
    assert '<meta name="viewport"' in html and "max-width" in html
    assert 'src="http' not in html and "<link" not in html and "@import" not in html
    assert "<mark>artillery shells</mark>" in html
    assert '<a href="https://news.example.org/shells"' in html
    assert "No stories." in html
    assert "Broken Feed" in html and "timeout" in html and "Cached" not in html


def test_html_escapes_feed_text() -> None:
    story = make_story(headline="<img src=x onerror=alert(1)>", url="javascript:alert(1)")
    html = render_digest_html(
        make_digest(topics=[DigestTopic(topic_id="t", title="T", stories=[story])])
    )
    assert "<img" not in html and "&lt;img src=x" in html
    assert "javascript:" not in html


def test_empty_digest_says_no_stories(tmp_path: Path) -> None:
    empty = make_digest(topics=[], sources=[], alerts_sent=0)
    paths = write_digest(empty, tmp_path)
    md = paths.md.read_text(encoding="utf-8")
    html = paths.html.read_text(encoding="utf-8")
    assert "No stories for this day." in md and "No stories for this day." in html
    assert "0 stories. 0 alerts sent." in md


def test_failed_source_listed_with_reason_in_both_formats() -> None:
    digest = make_digest(
        sources=[DigestSource(source_id="silent", name="Silent Feed", status="never-checked")]
    )
    assert "**Silent Feed** (silent): never-checked" in render_digest_markdown(digest)
    assert "Silent Feed" in render_digest_html(digest)
    all_ok = make_digest(sources=[DigestSource(source_id="w", name="W", status="ok")])
    assert "All 1 sources ok." in render_digest_markdown(all_ok)


def test_json_round_trips(tmp_path: Path) -> None:
    digest = make_digest()
    assert Digest.model_validate_json(render_digest_json(digest)) == digest
    paths = write_digest(digest, tmp_path)
    assert Digest.model_validate_json(paths.json.read_bytes()) == digest


def test_hostile_desk_id_stays_inside_root(tmp_path: Path) -> None:
    paths = write_digest(make_digest(desk_id="../../etc"), tmp_path / "digests")
    assert paths.md.resolve().is_relative_to((tmp_path / "digests").resolve())
