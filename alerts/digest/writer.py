"""Write a daily digest as Markdown, HTML and JSON, each file replaced atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alerts.delivery.channels import safe_dir_name, write_atomic
from alerts.digest.html import render_digest_html
from alerts.digest.markdown import render_digest_markdown
from alerts.models import Digest

__all__ = [
    "DigestPaths",
    "digest_json_schema",
    "render_digest_html",
    "render_digest_json",
    "render_digest_markdown",
    "write_digest",
]


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
    """Write the three files, each via a temporary file and a rename; same digest, same bytes."""
    paths = digest_paths(d, root)
    write_atomic(paths.md, render_digest_markdown(d).encode("utf-8"))
    write_atomic(paths.html, render_digest_html(d).encode("utf-8"))
    write_atomic(paths.json, render_digest_json(d).encode("utf-8"))
    return paths


def render_digest_json(d: Digest) -> str:
    """The digest model as indented JSON (what `Digest.model_validate_json` reads back)."""
    return d.model_dump_json(indent=2) + "\n"


def digest_json_schema() -> str:
    """The JSON Schema of the `.json` file, as kept in docs/digest.schema.json."""
    return json.dumps(Digest.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m alerts.digest.writer > docs/...`
    print(digest_json_schema(), end="")
