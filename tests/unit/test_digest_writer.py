"""Digest rendering and files: layout, identical regeneration, escaping, chart, email, schema."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerts.delivery.channels import EmailTransport
from alerts.digest.chart import chart_for
from alerts.digest.email import (
    FileDigestMailer,
    SmtpDigestMailer,
    digest_recipients,
    digest_transport,
    email_digest,
    mailer_for,
    render_digest_email,
)
from alerts.digest.health import SourceCheck, silence_threshold, source_health
from alerts.digest.stories import (
    MatchedRow,
    TopicInfo,
    average_before_last,
    build_stories,
    daily_volume,
    duplicate_items,
    strip_markers,
    timestamp_passage,
)
from alerts.digest.text import change, sparkline
from alerts.digest.writer import (
    digest_json_schema,
    render_digest,
    render_digest_html,
    render_digest_json,
    render_digest_markdown,
    write_digest,
    write_rendered,
)
from alerts.models import (
    Digest,
    DigestCopy,
    DigestPassage,
    DigestSource,
    DigestStory,
    DigestSummary,
    DigestTag,
    DigestTopic,
    DigestVolumePoint,
    Passage,
)
from seeds.models import DeskSpec, Severity, SourceSpec

REPO = Path(__file__).resolve().parents[2]
DAY = date(2025, 3, 4)
DAYS = [DAY - timedelta(days=n) for n in range(13, -1, -1)]
SEEN = datetime(2025, 3, 4, 1, 30, tzinfo=UTC)  # 10:30 in Seoul


def volume(*counts: int) -> list[DigestVolumePoint]:
    padded = [0] * (14 - len(counts)) + list(counts)
    return [DigestVolumePoint(date=d, stories=n) for d, n in zip(DAYS, padded, strict=True)]


def make_story(**changes: Any) -> DigestStory:
    fields: dict[str, Any] = {
        "story_key": "https://news.example.org/shells",
        "headline": "Pyongyang ships artillery shells to Moscow",
        "url": "https://news.example.org/shells",
        "outlet": "Example News",
        "source_id": "example",
        "published": SEEN,
        "detected_at": SEEN,
        "first_seen_at": SEEN,
        "score": 9.0,
        "outlets": 2,
        "items": 2,
        "passages": [
            DigestPassage(
                text="Millions of artillery shells crossed the border.", highlights=[(12, 29)]
            )
        ],
        "also_reported_by": [
            DigestCopy(
                outlet="Other Wire",
                url="https://wire.example.net/x",
                headline="Shells cross the border",
                detected_at=SEEN + timedelta(hours=1),
            )
        ],
        "topics": [
            DigestTag(topic_id="arms-transfers", title="Arms transfers", severity="high", score=9.0)
        ],
        "alerted": True,
    }
    fields.update(changes)
    return DigestStory(**fields)


def make_digest(**changes: Any) -> Digest:
    fields: dict[str, Any] = {
        "desk_id": "newsdesk",
        "desk_name": "News Desk",
        "date": DAY,
        "timezone": "Asia/Seoul",
        "window_start": datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
        "window_end": datetime(2025, 3, 4, 15, 0, tzinfo=UTC),
        "data_as_of": datetime(2025, 3, 4, 14, 0, tzinfo=UTC),
        "summary": DigestSummary(
            stories=1,
            items=2,
            alerts_sent=2,
            alerted_stories=1,
            average_7d=0.5,
            suppressed_duplicates=1,
            sources_failed=1,
            sources_silent=1,
        ),
        "volume": volume(1, 0, 1),
        "topics": [
            DigestTopic(
                topic_id="arms-transfers",
                title="Arms transfers",
                stories=[make_story()],
                matched_stories=1,
                alerts_sent=2,
                average_7d=0.29,
                volume=volume(1, 0, 1),
                suppressed_duplicates=1,
            ),
            DigestTopic(topic_id="seoul-moscow", title="Seoul-Moscow relations", volume=volume()),
        ],
        "sources": [
            DigestSource(source_id="wire", name="Wire", status="ok"),
            DigestSource(source_id="cache", name="Cached", status="not-modified"),
            DigestSource(
                source_id="broken-feed",
                name="Broken Feed",
                status="failed",
                reason="timeout",
                detail="no answer within 20 s",
                consecutive_failures=3,
                last_ok_at=datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
            ),
            DigestSource(
                source_id="quiet",
                name="Quiet Wire",
                status="silent",
                reason="no new item for 6 days (usually under 48 h)",
            ),
        ],
    }
    fields.update(changes)
    return Digest(**fields)


# --- files -----------------------------------------------------------------------------------


def test_writes_three_files_under_desk_and_date(tmp_path: Path) -> None:
    paths = write_digest(make_digest(), tmp_path)
    folder = tmp_path / "newsdesk"
    assert (paths.md, paths.html, paths.json) == (
        folder / "2025-03-04.md",
        folder / "2025-03-04.html",
        folder / "2025-03-04.json",
    )
    # ... and no temporary files are left behind
    assert sorted(p.name for p in folder.iterdir()) == [
        "2025-03-04.html",
        "2025-03-04.json",
        "2025-03-04.md",
    ]
    assert paths.md.read_text(encoding="utf-8") == render_digest_markdown(make_digest())


def test_regenerating_gives_identical_bytes(tmp_path: Path) -> None:
    first = write_digest(make_digest(), tmp_path)
    before = {p: p.read_bytes() for p in (first.md, first.html, first.json)}
    second = write_digest(make_digest(), tmp_path)
    assert {p: p.read_bytes() for p in (second.md, second.html, second.json)} == before
    assert len(list((tmp_path / "newsdesk").iterdir())) == 3


def test_files_hold_the_strings_rendered_once(tmp_path: Path) -> None:
    rendered = render_digest(make_digest())
    paths = write_rendered(rendered, tmp_path)
    assert paths.md.read_text(encoding="utf-8") == rendered.markdown
    assert paths.html.read_text(encoding="utf-8") == rendered.html
    assert paths.json.read_text(encoding="utf-8") == rendered.json
    assert rendered.markdown == render_digest_markdown(make_digest())


def test_json_round_trips(tmp_path: Path) -> None:
    digest = make_digest()
    assert Digest.model_validate_json(render_digest_json(digest)) == digest
    paths = write_digest(digest, tmp_path)
    assert Digest.model_validate_json(paths.json.read_bytes()) == digest


def test_published_json_schema_is_up_to_date() -> None:
    published = REPO / "docs" / "digest.schema.json"
    assert published.read_text(encoding="utf-8") == digest_json_schema(), (
        "regenerate: .venv/bin/python -m alerts.digest.writer > docs/digest.schema.json"
    )


def test_hostile_desk_id_stays_inside_root(tmp_path: Path) -> None:
    paths = write_digest(make_digest(desk_id="../../etc"), tmp_path / "digests")
    assert paths.md.resolve().is_relative_to((tmp_path / "digests").resolve())


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_content() -> None:
    md = render_digest_markdown(make_digest())
    assert md.startswith("# News Desk — digest for 2025-03-04\n")
    assert "1 story (7-day average 0.5 a day, +100%) · 2 alerts sent about 1 story" in md
    assert "2 sources need attention" in md
    assert "| Arms transfers | 1 | 0.29 | +245% | 2 | `▁▁▁▁▁▁▁▁▁▁▁█▁█` |" in md
    assert "| Seoul-Moscow relations | 0 | 0 | — | 0 |" in md
    assert "Suppressed: 1 duplicate copy of stories already seen · 0 alerts over budget." in md
    assert (
        "### 1. [Pyongyang ships artillery shells to Moscow](https://news.example.org/shells)" in md
    )
    assert "Example News · 10:30 KST · score 9 · 2 outlets · alerted" in md
    assert "Topics: Arms transfers (high, score 9)" in md
    assert "_Desk-local day 2025-03-04 (Asia/Seoul) · times in KST, UTC+09:00 ·" in md
    assert "> Millions of **artillery shells** crossed the border." in md
    assert "Also reported by: [Other Wire](https://wire.example.net/x) (11:30 KST)" in md
    assert "## Seoul-Moscow relations — 0 stories\n\nNo stories." in md
    assert "- **Broken Feed** (broken-feed) — failed: timeout; no answer within 20 s;" in md
    assert "3 failures in a row; last ok 2025-03-03 17:00 KST" in md
    assert "**Quiet Wire** (quiet) — silent: no new item for 6 days (usually under 48 h)" in md
    assert "Wire** (wire)" not in md and "Cached" not in md  # healthy sources stay quiet
    assert md.index("Broken Feed") < md.index("Quiet Wire")  # failed first


def test_markdown_escapes_feed_text() -> None:
    story = make_story(
        headline="[click](https://evil.example) *now* <b>",
        url="javascript:x()",
        passages=[DigestPassage(text="a *b* c", highlights=[(2, 5)])],
    )
    md = render_digest_markdown(
        make_digest(topics=[DigestTopic(topic_id="t", title="T", stories=[story])])
    )
    assert "[click](https://evil.example)" not in md and "javascript:" not in md
    assert r"\[click\](https://evil.example) \*now\* \<b\>" in md
    assert r"> a **\*b\*** c" in md


def test_continuing_story_says_since_when() -> None:
    story = make_story(first_seen_at=SEEN - timedelta(days=2))
    md = render_digest_markdown(
        make_digest(topics=[DigestTopic(topic_id="t", title="T", stories=[story])])
    )
    assert "continuing since 2025-03-02 10:30 KST" in md


def test_empty_digest_says_no_stories(tmp_path: Path) -> None:
    empty = make_digest(topics=[], sources=[], summary=DigestSummary(), data_as_of=None)
    paths = write_digest(empty, tmp_path)
    md = paths.md.read_text(encoding="utf-8")
    html = paths.html.read_text(encoding="utf-8")
    assert "No stories for this day." in md and "No stories for this day." in html
    assert "0 stories (7-day average 0 a day, —) · 0 alerts sent · all sources healthy." in md
    assert "no data yet" in md and "No sources configured." in md


def test_all_sources_healthy() -> None:
    digest = make_digest(sources=[DigestSource(source_id="w", name="W", status="ok")])
    assert "All 1 sources healthy." in render_digest_markdown(digest)
    assert "All 1 sources healthy." in render_digest_html(digest)


# --- HTML ------------------------------------------------------------------------------------


def test_html_is_self_contained_and_mobile_friendly() -> None:
    html = render_digest_html(make_digest())
    assert '<meta name="viewport"' in html and "max-width" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)=["'](?!https://|#)""", html)  # no relative assets
    assert "url(" not in html
    assert "<mark>artillery shells</mark>" in html
    assert '<a href="https://news.example.org/shells"' in html
    assert "No stories." in html
    assert "Broken Feed" in html and "timeout" in html and "Cached" not in html
    assert "Quiet Wire" in html and "no new item for 6 days" in html


def test_html_escapes_feed_text() -> None:
    story = make_story(headline="<img src=x onerror=alert(1)>", url="javascript:alert(1)")
    html = render_digest_html(
        make_digest(topics=[DigestTopic(topic_id="t", title="<b>T</b>", stories=[story])])
    )
    assert "<img" not in html and "&lt;img src=x" in html
    assert "<b>T" not in html and "&lt;b&gt;T" in html  # in headings, table and chart alike
    assert "javascript:" not in html


def test_html_chart_has_fourteen_points_per_topic_and_labelled_axes() -> None:
    html = render_digest_html(make_digest())
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    polylines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(polylines) == 2  # one per topic
    assert [len(p.split()) for p in polylines] == [14, 14]
    assert "stories / day" in svg and "desk-local day (Asia/Seoul)" in svg
    assert "Mar 4" in svg  # the x axis ends with the digest day
    assert "Arms transfers, Mar 4: 1" in svg  # a tooltip per point


def test_chart_scales_to_the_busiest_day() -> None:
    chart = chart_for(make_digest())
    first = chart.series[0]
    ys = [float(pair.split(",")[1]) for pair in first.points.split()]
    assert min(ys) == chart.top and max(ys) == chart.bottom  # peak at the top, zero at the axis
    xs = [float(pair.split(",")[0]) for pair in first.points.split()]
    assert xs == sorted(xs) and xs[0] == chart.left
    assert [t.label for t in chart.y_ticks] == ["0", "1"]


def test_transcript_passage_links_to_its_time() -> None:
    text = "Starting point is 00:05:35 Which the Russian embassy in Seoul will welcome."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("Russian", "Seoul")]
    passage = DigestPassage(text=text, highlights=spans)
    stamped = timestamp_passage(passage, "https://pod.example/ep1.html#top")
    assert stamped.timestamp == "00:05:35"
    assert stamped.timestamp_url == "https://pod.example/ep1.html#t=00:05:35"
    assert stamped.text == "Which the Russian embassy in Seoul will welcome."
    assert [stamped.text[a:b] for a, b in stamped.highlights] == ["Russian", "Seoul"]
    html = render_digest_html(
        make_digest(
            topics=[DigestTopic(topic_id="t", title="T", stories=[make_story(passages=[stamped])])]
        )
    )
    assert 'href="https://pod.example/ep1.html#t=00:05:35"' in html and "00:05:35" in html
    plain = timestamp_passage(Passage(text="No marker here.", highlights=[(3, 9)]), "https://x.y")
    assert plain.timestamp is None and plain.text == "No marker here."


def test_markers_inside_a_passage_are_removed_with_the_spans_kept_on_their_words() -> None:
    text = "Yes. Starting point is 01:02:03 Kim met Putin."
    start = text.index("Kim")
    kept, spans = strip_markers(text, [(0, 3), (start, start + 3), (5, 10)])
    assert kept == "Yes. Kim met Putin."
    assert [kept[a:b] for a, b in spans] == ["Yes", "Kim"]  # a span inside the marker is dropped


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "average", "expected"),
    [(3, 1.0, "+200%"), (1, 2.0, "−50%"), (2, 2.0, "±0%"), (2, 0.0, "new"), (0, 0.0, "—")],
)
def test_change_against_the_seven_day_average(today: int, average: float, expected: str) -> None:
    assert change(today, average) == expected


def test_sparkline() -> None:
    assert sparkline(volume()) == "▁" * 14
    assert sparkline(volume(4, 2, 0))[-3:] == "█▅▁"


# --- source health ---------------------------------------------------------------------------

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
SPEC = SourceSpec(id="wire", name="Wire", kind="rss", url="https://wire.example/feed.xml")
OK = SourceCheck("ok", "ok", "", NOW, NOW, 0)


def test_usual_silence_is_at_least_two_days_or_three_median_gaps() -> None:
    assert silence_threshold([]) == timedelta(hours=48)
    hourly = [NOW - timedelta(hours=h) for h in range(48)]
    assert silence_threshold(hourly) == timedelta(hours=48)
    # one check every 3 days that found several items at once: gaps between batches count
    batches = [NOW - timedelta(days=3 * n, minutes=m) for n in range(5) for m in (0, 2, 4)]
    assert silence_threshold(batches) == timedelta(days=9)


def test_source_health_failed_beats_silent_beats_ok() -> None:
    failed = SourceCheck("failed", "http-5xx", "HTTP 503", NOW, NOW - timedelta(days=1), 4)
    old = NOW - timedelta(days=5)
    health = source_health(SPEC, failed, old, [], NOW)
    assert (health.status, health.reason, health.detail) == ("failed", "http-5xx", "HTTP 503")
    silent = source_health(SPEC, OK, old, [], NOW)
    assert silent.status == "silent" and silent.reason == (
        "no new item for 5 days (usually under 48 h)"
    )
    assert source_health(SPEC, OK, NOW - timedelta(hours=47), [], NOW).status == "ok"
    assert source_health(SPEC, OK, None, [], NOW).reason.startswith("no new item recorded yet")
    assert source_health(SPEC, None, None, [], NOW).status == "never-checked"


# --- email -----------------------------------------------------------------------------------

DESK = DeskSpec(
    id="newsdesk",
    name="News Desk",
    topics=["arms-transfers"],
    channels=[
        {"kind": "email", "to": ["a@news.example", "b@news.example"]},
        {"kind": "email", "to": ["a@news.example"]},
        {"kind": "slack", "webhook": "news"},
    ],
)


def test_digest_email_is_html_with_the_markdown_as_text() -> None:
    digest = make_digest()
    msg = render_digest_email(
        render_digest(digest), "deskwatch <dw@example.org>", digest_recipients(DESK)
    )
    assert msg["To"] == "a@news.example, b@news.example"
    assert msg["Subject"] == "[deskwatch] News Desk digest 2025-03-04: 1 story, 2 alerts sent"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    assert text.get_content() == render_digest_markdown(digest)
    assert html.get_content() == render_digest_html(digest)
    again = render_digest_email(
        render_digest(digest), "deskwatch <dw@example.org>", digest_recipients(DESK)
    )
    assert again.as_bytes() == msg.as_bytes()  # deterministic, Message-ID included
    other = render_digest_email(
        render_digest(make_digest(data_as_of=SEEN)), "x <x@example.org>", []
    )
    assert other["Message-ID"] != msg["Message-ID"]  # new data, new message


def test_file_mailer_writes_an_eml_under_the_outbox(tmp_path: Path) -> None:
    rendered = render_digest(make_digest())
    where = email_digest(rendered, DESK, "deskwatch <dw@example.org>", FileDigestMailer(tmp_path))
    assert Path(where) == tmp_path / "newsdesk" / "digest-2025-03-04.eml"
    parsed = message_from_bytes(Path(where).read_bytes())
    assert parsed["To"] == "a@news.example, b@news.example"
    again = email_digest(rendered, DESK, "deskwatch <dw@example.org>", FileDigestMailer(tmp_path))
    assert again == where and len(list((tmp_path / "newsdesk").iterdir())) == 1


def test_digest_goes_the_way_of_the_desks_email_alerts() -> None:
    file_only = DeskSpec.model_validate({**DESK.model_dump(), "channels": [{"kind": "file"}]})
    slack_only = DeskSpec.model_validate(
        {**DESK.model_dump(), "channels": [{"kind": "slack", "webhook": "news"}]}
    )
    assert digest_transport(DESK, smtp_configured=True) is EmailTransport.SMTP
    assert digest_transport(DESK, smtp_configured=False) is EmailTransport.FILE
    assert digest_transport(file_only, smtp_configured=True) is EmailTransport.FILE
    assert digest_transport(slack_only, smtp_configured=True) is None


def test_mailer_choice_follows_the_alert_channels(tmp_path: Path) -> None:
    assert isinstance(mailer_for(DESK, "smtp://127.0.0.1:2525", tmp_path), SmtpDigestMailer)
    assert isinstance(mailer_for(DESK, None, tmp_path), FileDigestMailer)
    file_only = DeskSpec.model_validate({**DESK.model_dump(), "channels": [{"kind": "file"}]})
    assert isinstance(mailer_for(file_only, "smtp://127.0.0.1:2525", tmp_path), FileDigestMailer)
    slack_only = DeskSpec.model_validate(
        {**DESK.model_dump(), "channels": [{"kind": "slack", "webhook": "news"}]}
    )
    assert mailer_for(slack_only, "smtp://127.0.0.1:2525", tmp_path) is None


def test_json_schema_documents_the_fields() -> None:
    schema = json.loads(digest_json_schema())
    assert schema["title"] == "Digest"
    story = schema["$defs"]["DigestStory"]["properties"]
    assert "description" in story["outlets"] and "description" in story["alerted"]
    assert schema["properties"]["schema_version"]["const"] == 3
    assert "description" in story["topics"]
    assert "description" in schema["$defs"]["DigestTopic"]["properties"]["matched_stories"]


# --- stories ---------------------------------------------------------------------------------


ARMS = TopicInfo("arms-transfers", "Arms transfers", Severity.HIGH)


def row(item_id: int, story: str, outlet: str, score: float, minutes: int, **kw: Any) -> MatchedRow:
    fields: dict[str, Any] = {
        "item_id": item_id,
        "story_key": story,
        "topic_id": "arms-transfers",
        "source_id": outlet.lower(),
        "title": f"{outlet} on {story}",
        "outlet": outlet,
        "url": f"https://{outlet.lower()}.example/{story}",
        "published": None,
        "detected_at": SEEN + timedelta(minutes=minutes),
        "score": score,
        "passages": (Passage(text="Shells crossed.", highlights=[(0, 6)]),) * 2,
    }
    fields.update(kw)
    return MatchedRow(**fields)


def test_copies_of_a_story_become_one_story_led_by_the_best_copy() -> None:
    rows = [
        row(1, "shells", "Wire", 5.0, 0),
        row(2, "shells", "Daily", 9.0, 10),
        row(3, "shells", "Wire", 9.0, 20),  # same outlet again, later: not listed twice
        row(4, "drones", "Wire", 9.0, 5),
        row(5, "drones", "Daily", 3.0, 6),
        row(6, "drones", "Post", 3.0, 7),
        row(7, "talks", "Post", 2.0, 1),
    ]
    stories = build_stories(rows, alerted={"talks"}, transcripts=set(), topics=[ARMS])
    assert [s.story_key for s in stories] == ["drones", "shells", "talks"]  # score, then outlets
    shells = stories[1]
    assert (shells.outlet, shells.score, shells.items, shells.outlets) == ("Daily", 9.0, 3, 2)
    assert [o.outlet for o in shells.also_reported_by] == ["Wire"]
    assert shells.first_seen_at == SEEN and not shells.alerted and stories[2].alerted
    assert len(shells.passages) == 1  # the same passage twice is shown once


def test_duplicates_are_later_copies_of_a_story_counted_in_the_window() -> None:
    rows = [
        row(1, "old", "Wire", 5.0, -60 * 24),  # the day before
        row(2, "old", "Daily", 5.0, 10),
        row(3, "new", "Wire", 5.0, 0),
        row(4, "new", "Daily", 5.0, 0),  # same second: insertion order decides
    ]
    start, end = SEEN - timedelta(hours=1), SEEN + timedelta(hours=23)
    assert duplicate_items(rows, start, end) == {2, 4}


def test_daily_volume_counts_stories_per_desk_local_day() -> None:
    seoul = ZoneInfo("Asia/Seoul")
    late = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)  # 01:00 on Mar 4 in Seoul
    detections = [
        ("a", late),
        ("a", late + timedelta(hours=1)),
        ("b", SEEN),
        ("c", late - timedelta(hours=2)),
    ]
    points = daily_volume(detections, DAYS, seoul)
    assert [p.stories for p in points][-2:] == [1, 2]
    assert average_before_last(points) == round(1 / 7, 2)
