"""Write a daily digest as Markdown, HTML and JSON, each file replaced atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alerts.digest.html import render_digest_html
from alerts.digest.markdown import render_digest_markdown
from alerts.files import safe_dir_name, write_atomic
from alerts.models import Digest

__all__ = [
    "DigestPaths",
    "RenderedDigest",
    "digest_json_schema",
    "render_digest",
    "render_digest_html",
    "render_digest_json",
    "render_digest_markdown",
    "write_digest",
    "write_rendered",
]


@dataclass(frozen=True)
class RenderedDigest:
    """One digest rendered once: the files, the email and the Prefect artifact share these."""

    digest: Digest
    markdown: str
    html: str
    json: str


def render_digest(d: Digest) -> RenderedDigest:
    """The digest as Markdown, HTML and JSON text; pure and deterministic."""
    return RenderedDigest(
        d, render_digest_markdown(d), render_digest_html(d), render_digest_json(d)
    )


@dataclass(frozen=True)
class DigestPaths:
    """The three files of one written digest."""

    md: Path
    html: Path
    json: Path


def digest_paths(d: Digest, root: Path) -> DigestPaths:
    """`root/<desk>/<YYYY-MM-DD>.{md,html,json}`; the desk id cannot leave `root`."""
    folder = root / safe_dir_name(d.desk_id)
    stem = d.date.isoformat()
    return DigestPaths(
        md=folder / f"{stem}.md", html=folder / f"{stem}.html", json=folder / f"{stem}.json"
    )


def write_digest(d: Digest, root: Path) -> DigestPaths:
    """Render the digest and write its three files; same digest, same bytes."""
    return write_rendered(render_digest(d), root)


def write_rendered(rendered: RenderedDigest, root: Path) -> DigestPaths:
    """Write the three files, each via a temporary file and a rename."""
    paths = digest_paths(rendered.digest, root)
    write_atomic(paths.md, rendered.markdown.encode("utf-8"))
    write_atomic(paths.html, rendered.html.encode("utf-8"))
    write_atomic(paths.json, rendered.json.encode("utf-8"))
    return paths


def render_digest_json(d: Digest) -> str:
    """The digest model as indented JSON (what `Digest.model_validate_json` reads back)."""
    return d.model_dump_json(indent=2) + "\n"


def digest_json_schema() -> str:
    """The JSON Schema of the `.json` file, as kept in docs/digest.schema.json."""
    return json.dumps(Digest.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m alerts.digest.writer > docs/...`
    print(digest_json_schema(), end="")
