"""The digest as one self-contained HTML page: inline CSS and SVG, no script, no external asset."""

from __future__ import annotations

from datetime import date, tzinfo

from alerts.delivery.render import highlight_runs, one_line, safe_url, template_environment
from alerts.digest import text as txt
from alerts.digest.chart import chart_for
from alerts.models import Digest, DigestStory, DigestTopic


def render_digest_html(d: Digest) -> str:
    """The page; feed text is autoescaped by the template and links pass `safe_url`."""
    zone = txt.zone_of(d)
    return (
        template_environment()
        .get_template("digest.html.j2")
        .render(
            d=d,
            title=txt.title(d),
            summary=txt.summary_line(d),
            suppressed=txt.suppressed_line(d),
            alerts=txt.alerts_line(d, zone),
            table_note=txt.TABLE_NOTE,
            zone_line=txt.zone_line(d, zone),
            as_of=txt.as_of(d, zone),
            rows=_summary_rows(d),
            chart=chart_for(d),
            topics=[_topic_view(t, zone, d.date) for t in d.topics],
            problems=[(s, txt.source_line(s, zone)) for s in txt.problem_sources(d)],
        )
    )


def _summary_rows(d: Digest) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {
            "anchor": f"topic-{t.topic_id}",
            "title": one_line(t.title),
            "stories": txt.today(t),
            "average": f"{t.average_7d:g}",
            "change": txt.change(txt.today(t), t.average_7d),
            "alerts": t.alerts_sent,
        }
        for t in d.topics
    ]
    s = d.summary
    rows.append(
        {
            "anchor": None,
            "title": "All topics",
            "stories": s.stories,
            "average": f"{s.average_7d:g}",
            "change": txt.change(s.stories, s.average_7d),
            "alerts": s.alerts_sent,
        }
    )
    return rows


def _topic_view(topic: DigestTopic, zone: tzinfo | None, day: date) -> dict[str, object]:
    return {
        "anchor": f"topic-{topic.topic_id}",
        "title": one_line(topic.title),
        "count": txt.topic_count(topic),
        "stories": [_story_view(s, zone, day) for s in topic.stories],
    }


def _story_view(story: DigestStory, zone: tzinfo | None, day: date) -> dict[str, object]:
    meta = txt.story_meta(story, zone, day)
    return {
        "headline": one_line(story.headline) or "(untitled)",
        "url": safe_url(story.url),
        "meta": [m for m in meta if m != "alerted"],
        "alerted": story.alerted,
        "tags": [(one_line(t.title), t.severity.value, f"{t.score:g}") for t in story.topics],
        "passages": [
            (highlight_runs(p), p.timestamp, safe_url(p.timestamp_url or ""))
            for p in story.passages
        ],
        "others": [
            (one_line(o.outlet), safe_url(o.url), txt.when(o.published or o.detected_at, zone, day))
            for o in story.also_reported_by
        ],
    }
