"""Render a daily digest as Markdown, HTML and JSON, and write the three files atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.channels import safe_dir_name, write_atomic
from alerts.models import Digest, DigestSource, DigestStory, DigestTopic, OtherOutlet
from alerts.render import Runs, highlight_runs, one_line, safe_url, template_environment

HEALTHY = frozenset({"ok", "not-modified"})
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")


@dataclass(frozen=True)
class DigestPaths:
    """The three files of one written digest."""

    md: Path
    html: Path
    json: Path


def write_digest(d: Digest, root: Path) -> DigestPaths:
    """Write `root/<desk>/<YYYY-MM-DD>.{md,html,json}`, each file replaced atomically."""
    folder = root / safe_dir_name(d.desk_id)
    stem = d.date.isoformat()
    paths = DigestPaths(
        md=folder / f"{stem}.md", html=folder / f"{stem}.html", json=folder / f"{stem}.json"
    )
    write_atomic(paths.md, render_digest_markdown(d).encode("utf-8"))
    write_atomic(paths.html, render_digest_html(d).encode("utf-8"))
    write_atomic(paths.json, render_digest_json(d).encode("utf-8"))
    return paths


def render_digest_json(d: Digest) -> str:
    """The digest model as indented JSON (what `Digest.model_validate_json` reads back)."""
    return d.model_dump_json(indent=2)


def render_digest_html(d: Digest) -> str:
    """One self-contained HTML page (inline CSS, no external assets) that reads well on a phone."""
    zone = _zone(d.timezone)
    return (
        template_environment()
        .get_template("digest.html.j2")
        .render(
            d=d,
            title=_title(d),
            summary=summary_line(d),
            generated=_when(d.generated_at, zone),
            total=_story_count(d),
            topics=[(topic, [_story_view(s, zone) for s in topic.stories]) for topic in d.topics],
            problems=[(s, _when(s.last_ok_at, zone)) for s in problem_sources(d)],
        )
    )


def render_digest_markdown(d: Digest) -> str:
    """The digest as Markdown; every piece of feed text is escaped."""
    zone = _zone(d.timezone)
    lines = [f"# {_md(_title(d))}", "", _md(summary_line(d)), ""]
    lines.append(f"_Generated {_when(d.generated_at, zone)} ({_md(d.timezone)})._")
    if _story_count(d) == 0:
        lines += ["", "No stories for this day."]
    for topic in d.topics:
        lines += _md_topic(topic, zone)
    lines += ["", "## Sources", ""]
    problems = problem_sources(d)
    if not problems:
        lines.append(f"All {len(d.sources)} sources ok." if d.sources else "No source checks.")
    for source in problems:
        lines.append(f"- {_md_source(source, zone)}")
    return "\n".join(lines) + "\n"


def summary_line(d: Digest) -> str:
    """`N stories: Topic a 3 · Topic b 0. K alerts sent.`"""
    total = _story_count(d)
    per_topic = " · ".join(f"{one_line(t.title)} {len(t.stories)}" for t in d.topics)
    stories = f"{total} {'story' if total == 1 else 'stories'}"
    alerts = f"{d.alerts_sent} {'alert' if d.alerts_sent == 1 else 'alerts'} sent."
    return f"{stories}: {per_topic}. {alerts}" if per_topic else f"{stories}. {alerts}"


def problem_sources(d: Digest) -> list[DigestSource]:
    """Sources that failed, went silent or were never checked, in the digest's order."""
    return [s for s in d.sources if s.status not in HEALTHY]


def _title(d: Digest) -> str:
    return f"{one_line(d.desk_name)} — digest for {d.date.isoformat()}"


def _story_count(d: Digest) -> int:
    return sum(len(t.stories) for t in d.topics)


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # show times as stored rather than fail the whole digest


def _when(moment: datetime | None, zone: tzinfo | None) -> str:
    """A timestamp in the desk's time zone, to the minute."""
    if moment is None:
        return "time unknown"
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.isoformat(sep=" ", timespec="minutes")


def _story_view(story: DigestStory, zone: tzinfo | None) -> dict[str, object]:
    return {
        "headline": one_line(story.headline),
        "url": safe_url(story.url),
        "outlet": one_line(story.outlet),
        "when": _when(story.published, zone),
        "score": f"{story.score:.2f}",
        "alerted": story.alerted,
        "passages": [highlight_runs(p) for p in story.passages],
        "others": [(one_line(o.outlet), safe_url(o.url)) for o in story.also_reported_by],
    }


# --- Markdown pieces -------------------------------------------------------------------------


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
    escaped = [(_MD_SPECIAL.sub(r"\\\1", text), marked) for text, marked in runs]
    return "".join(f"**{text}**" if marked else text for text, marked in escaped)


def _md_topic(topic: DigestTopic, zone: tzinfo | None) -> list[str]:
    lines = ["", f"## {_md(topic.title)} ({len(topic.stories)})"]
    if not topic.stories:
        lines += ["", "No stories."]
    for story in topic.stories:
        lines += ["", f"### {_md_link(story.headline, story.url)}", ""]
        meta = [_md(story.outlet), _when(story.published, zone), f"score {story.score:.2f}"]
        lines.append(" · ".join(meta + (["alerted"] if story.alerted else [])))
        lines += [line for p in story.passages for line in ("", f"> {_md_runs(highlight_runs(p))}")]
        if story.also_reported_by:
            lines += ["", f"Also reported by: {_md_others(story.also_reported_by)}"]
    return lines


def _md_others(others: list[OtherOutlet]) -> str:
    return ", ".join(_md_link(o.outlet, o.url) for o in others)


def _md_source(source: DigestSource, zone: tzinfo | None) -> str:
    reason = f" — {_md(source.reason)}" if source.reason.strip() else ""
    last_ok = f" (last ok {_when(source.last_ok_at, zone)})" if source.last_ok_at else ""
    name = f"**{_md(source.name)}** ({_md(source.source_id)})"
    return f"{name}: {_md(source.status)}{reason}{last_ok}"
