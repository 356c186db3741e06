"""The digest as Markdown (the `.md` file, the email's text part, the Prefect artifact). Pure."""

from __future__ import annotations

import re
from datetime import date, tzinfo

from alerts.delivery.render import Runs, highlight_runs, one_line, safe_url
from alerts.digest import text as txt
from alerts.models import Digest, DigestCopy, DigestPassage, DigestStory, DigestTopic

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|#])")


def render_digest_markdown(d: Digest) -> str:
    """The whole digest; every piece of feed text is escaped, every link checked."""
    zone = txt.zone_of(d)
    lines = [f"# {_md(txt.title(d))}", "", _md(txt.summary_line(d)), ""]
    day = f"Desk-local day {d.date.isoformat()} ({_md(d.timezone)})"
    lines.append(f"_{day} · {_md(txt.zone_line(d, zone))} · {txt.as_of(d, zone)}._")
    alerts = txt.alerts_line(d, zone)
    lines += ["", _md(alerts)] if alerts else []
    lines += ["", *_summary_table(d), "", _md(txt.TABLE_NOTE), "", _md(txt.suppressed_line(d))]
    if d.summary.stories == 0:
        lines += ["", "No stories for this day."]
    for topic in d.topics:
        lines += _topic(topic, zone, d.date)
    lines += ["", "## Sources", "", *_sources(d, zone)]
    return "\n".join(lines) + "\n"


def _summary_table(d: Digest) -> list[str]:
    lines = [
        "| Topic | Stories | 7-day avg | Change | Alerts sent | Last 14 days |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in d.topics:
        cells = [_md(t.title), str(txt.today(t)), f"{t.average_7d:g}"]
        cells += [txt.change(txt.today(t), t.average_7d), str(t.alerts_sent)]
        lines.append("| " + " | ".join([*cells, f"`{txt.sparkline(t.volume)}`"]) + " |")
    s = d.summary
    total = ["**All topics**", str(s.stories), f"{s.average_7d:g}"]
    total += [txt.change(s.stories, s.average_7d), str(s.alerts_sent)]
    lines.append("| " + " | ".join([*total, f"`{txt.sparkline(d.volume)}`"]) + " |")
    return lines


def _topic(topic: DigestTopic, zone: tzinfo | None, day: date) -> list[str]:
    lines = ["", f"## {_md(topic.title)} — {_md(txt.topic_count(topic))}"]
    if not topic.stories:
        lines += ["", "No stories."]
    for rank, story in enumerate(topic.stories, start=1):
        lines += _story(rank, story, zone, day)
    return lines


def _story(rank: int, story: DigestStory, zone: tzinfo | None, day: date) -> list[str]:
    headline = story.headline or "(untitled)"
    lines = ["", f"### {rank}. {_md_link(headline, story.url)}", ""]
    lines.append(" · ".join(_md(part) for part in txt.story_meta(story, zone, day)))
    if story.topics:
        lines += ["", f"Topics: {_md(txt.tags_line(story))}"]
    lines += [line for p in story.passages for line in ("", f"> {_passage(p)}")]
    if story.also_reported_by:
        lines += ["", f"Also reported by: {_others(story.also_reported_by, zone, day)}"]
    return lines


def _passage(passage: DigestPassage) -> str:
    runs = _md_runs(highlight_runs(passage))
    if passage.timestamp is None:
        return runs
    return f"{_md_link('▶ ' + passage.timestamp, passage.timestamp_url or '')} {runs}"


def _others(others: list[DigestCopy], zone: tzinfo | None, day: date) -> str:
    return ", ".join(
        f"{_md_link(o.outlet, o.url)} ({txt.when(o.published or o.detected_at, zone, day)})"
        for o in others
    )


def _sources(d: Digest, zone: tzinfo | None) -> list[str]:
    problems = txt.problem_sources(d)
    if not d.sources:
        return ["No sources configured."]
    if not problems:
        return [f"All {len(d.sources)} sources healthy."]
    lines = [f"{len(problems)} of {len(d.sources)} sources need attention:", ""]
    for s in problems:
        name = f"**{_md(s.name)}** ({_md(s.source_id)})"
        lines.append(f"- {name} — {_md(txt.source_line(s, zone))}")
    return lines


# --- escaping --------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Feed text on one line with Markdown punctuation backslash-escaped (no links, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def _md_link(label: str, url: str) -> str:
    safe = safe_url(url)
    if safe is None:
        return _md(label)
    # Parentheses would end the link target early; percent-encoding them keeps the same URL.
    target = safe.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return f"[{_md(label)}]({target})"


def _md_runs(runs: Runs) -> str:
    # Not _md: one_line would strip the spaces between a highlight and its neighbours.
    escaped = [(_MD_SPECIAL.sub(r"\\\1", text), hit) for text, hit in runs]
    return "".join(f"**{text}**" if hit else text for text, hit in escaped)
