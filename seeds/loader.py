"""Load and validate the seed files; every error is one line naming file, entry and field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from monitors.errors import SeedError
from seeds.models import DesksFile, Seeds, SourcesFile, TopicsFile

M = TypeVar("M", bound=BaseModel)


def bundled_seed_path(name: str) -> Path:
    """Path of a seed file shipped with the package (sources.yaml, topics.yaml, desks.yaml)."""
    return Path(str(resources.files("seeds").joinpath(name)))


def load_seeds(
    sources: Path | None = None, topics: Path | None = None, desks: Path | None = None
) -> Seeds:
    """Read the three files, validate each, then check that desks name existing topics."""
    sources = sources or bundled_seed_path("sources.yaml")
    topics = topics or bundled_seed_path("topics.yaml")
    desks = desks or bundled_seed_path("desks.yaml")
    sources_file = load_file(sources, SourcesFile)
    topics_file = load_file(topics, TopicsFile)
    desks_file = load_file(desks, DesksFile)
    known = {t.id for t in topics_file.topics}
    for d_index, desk in enumerate(desks_file.desks):
        for t_index, topic_id in enumerate(desk.topics):
            if topic_id not in known:
                raise SeedError(
                    f"{desks}: desks[{d_index}] (id={desk.id}).topics[{t_index}]: "
                    f"unknown topic {topic_id!r} (known: {', '.join(sorted(known))})"
                )
    return Seeds(
        sources=tuple(sources_file.sources),
        topics=tuple(topics_file.topics),
        desks=tuple(desks_file.desks),
    )


def load_file(path: Path, model: type[M]) -> M:
    """Parse one YAML file into `model`, or raise SeedError with a one-line reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SeedError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SeedError(f"{path}: {where}not valid YAML: {problem}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SeedError(f"{path}: {describe_validation_error(exc, data)}") from exc


def describe_validation_error(exc: ValidationError, data: Any) -> str:
    """First error as `entries[2] (id=x).field: message`, with a count of the rest."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = _describe_location(first["loc"], data)
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def _describe_location(loc: tuple[int | str, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and "id" in node:
                parts.append(f" (id={node['id']})")
        else:
            parts.append(f".{key}" if parts else str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts)
