"""Label files, corpus entries and written articles, turned into samples ready to score.

A headline is named by `entry_id`: the first 16 hex digits of the SHA-256 of the entry's
`link`; a link seen again in the same file gets `#2`, `#3`, … by order of appearance.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from monitors.models import Document

EVAL_DIR = Path(__file__).resolve().parent
LABELS_DIR = EVAL_DIR / "labels"
ARTICLES_DIR = EVAL_DIR / "articles"
HEADLINE_LABELS = LABELS_DIR / "headlines.jsonl"
ARTICLE_LABELS = LABELS_DIR / "articles.jsonl"

# The label vocabulary: what a reader decided each entry is about.
TOPICS = (
    "troop-deployment",
    "arms-transfers",
    "seoul-moscow",
    "pyongyang-moscow-ties",
    "china-stance",
    "economic-links",
)
CORPUS_FILES = (
    "nk_ru_entries_2023.jsonl",
    "non_matching_world_entries_2023-09-10_to_20.jsonl",
    "non_matching_world_entries_2023_random1500.jsonl",
)
ARTICLE_LANGUAGES = ("en", "ko")
_ID = re.compile(r"^[0-9a-f]{16}(#([2-9]|[1-9][0-9]+))?$")
_SPACES = re.compile(r"\s+")


class LabelError(ValueError):
    """A label file is malformed or names something that does not exist; one line says where."""


@dataclass(frozen=True, slots=True)
class HeadlineLabel:
    id: str
    file: str
    topics: frozenset[str]
    line: int


@dataclass(frozen=True, slots=True)
class ArticleLabel:
    path: str
    topics: frozenset[str]
    line: int


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled document: its key (headline id or article path), text and gold topics."""

    key: str
    document: Document
    gold: frozenset[str]


def entry_id(link: str, occurrence: int = 1) -> str:
    """Stable id of a corpus entry; `occurrence` counts repeats of the same link in one file."""
    digest = hashlib.sha256(link.encode("utf-8")).hexdigest()[:16]
    return digest if occurrence == 1 else f"{digest}#{occurrence}"


def index_entries(entries: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Entries of one corpus file by id, repeated links numbered by order of appearance."""
    seen: Counter[str] = Counter()
    index: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        link = str(entry.get("link", ""))
        seen[link] += 1
        index[entry_id(link, seen[link])] = entry
    return index


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(markup: str) -> str:
    """Visible text of an HTML fragment, entities decoded and whitespace collapsed."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return _SPACES.sub(" ", "".join(collector.parts)).strip()


def headline_document(entry: Mapping[str, Any]) -> Document:
    """What the matcher sees for a feed entry: its title and its description without HTML."""
    title = strip_html(str(entry.get("title") or ""))
    return Document(title, strip_html(str(entry.get("description") or "")))


def article_document(text: str) -> Document:
    """The `.txt` convention: the first line is the headline, the rest is the body."""
    title, _, body = text.strip().partition("\n")
    return Document(title.strip(), body.strip())


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LabelError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{path}: line {number}: not JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise LabelError(f"{path}: line {number}: expected a JSON object")
        yield number, row


def _topics(path: Path, number: int, row: dict[str, Any]) -> frozenset[str]:
    topics = row.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise LabelError(f"{path}: line {number}: 'topics' must be a list of topic ids")
    for topic in topics:
        if topic not in TOPICS:
            raise LabelError(
                f"{path}: line {number}: unknown topic {topic!r} (known: {', '.join(TOPICS)})"
            )
    return frozenset(topics)


def _check_keys(path: Path, number: int, row: dict[str, Any], required: tuple[str, ...]) -> None:
    allowed = {*required, "topics", "note"}
    for key in (*required, "topics"):
        if key not in row:
            raise LabelError(f"{path}: line {number}: missing field {key!r}")
    extra = sorted(set(row) - allowed)
    if extra:
        raise LabelError(f"{path}: line {number}: unexpected field {extra[0]!r}")


def load_headline_labels(path: Path = HEADLINE_LABELS) -> list[HeadlineLabel]:
    """Read and validate headline labels: known file, well-formed id, known topics, no repeats."""
    labels: list[HeadlineLabel] = []
    seen: set[tuple[str, str]] = set()
    for number, row in _read_jsonl(path):
        _check_keys(path, number, row, ("id", "file"))
        label_id, file = row["id"], row["file"]
        if file not in CORPUS_FILES:
            raise LabelError(f"{path}: line {number}: unknown corpus file {file!r}")
        if not isinstance(label_id, str) or not _ID.match(label_id):
            raise LabelError(f"{path}: line {number}: id {label_id!r} is not 16 hex digits")
        if (file, label_id) in seen:
            raise LabelError(f"{path}: line {number}: id {label_id} labelled twice")
        seen.add((file, label_id))
        labels.append(HeadlineLabel(label_id, file, _topics(path, number, row), number))
    return labels


def load_article_labels(path: Path = ARTICLE_LABELS) -> list[ArticleLabel]:
    """Read and validate article labels: `en/` or `ko/` `.txt` paths, known topics, no repeats."""
    labels: list[ArticleLabel] = []
    seen: set[str] = set()
    for number, row in _read_jsonl(path):
        _check_keys(path, number, row, ("path",))
        article = row["path"]
        parts = article.split("/") if isinstance(article, str) else []
        if len(parts) != 2 or parts[0] not in ARTICLE_LANGUAGES or not parts[1].endswith(".txt"):
            raise LabelError(f"{path}: line {number}: path {article!r} is not en/… or ko/….txt")
        if article in seen:
            raise LabelError(f"{path}: line {number}: {article} labelled twice")
        seen.add(article)
        labels.append(ArticleLabel(article, _topics(path, number, row), number))
    return labels


def headline_samples(labels: Iterable[HeadlineLabel], corpus: Path) -> list[Sample]:
    """Resolve each label to its entry under `corpus/headlines/`; an unknown id is a LabelError."""
    indexes: dict[str, dict[str, Mapping[str, Any]]] = {}
    samples: list[Sample] = []
    for label in labels:
        if label.file not in indexes:
            indexes[label.file] = _index_file(corpus / "headlines" / label.file)
        entry = indexes[label.file].get(label.id)
        if entry is None:
            where = f"{HEADLINE_LABELS.name}: line {label.line}"
            raise LabelError(f"{where}: id {label.id} not found in {label.file}")
        samples.append(Sample(label.id, headline_document(entry), label.topics))
    return samples


def _index_file(path: Path) -> dict[str, Mapping[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            return index_entries(json.loads(line) for line in handle if line.strip())
    except OSError as exc:
        raise LabelError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def article_samples(labels: Iterable[ArticleLabel], root: Path = ARTICLES_DIR) -> list[Sample]:
    """Read each labelled article; a label pointing at a missing file is a LabelError."""
    samples: list[Sample] = []
    for label in labels:
        try:
            text = (root / label.path).read_text(encoding="utf-8")
        except OSError as exc:
            raise LabelError(
                f"{ARTICLE_LABELS.name}: line {label.line}: cannot read {label.path}: "
                f"{exc.strerror or exc}"
            ) from exc
        samples.append(Sample(label.path, article_document(text), label.topics))
    return samples


def unlabelled_articles(labels: Iterable[ArticleLabel], root: Path = ARTICLES_DIR) -> list[str]:
    """Article files that no label mentions (each written article must be labelled)."""
    labelled = {label.path for label in labels}
    on_disk = sorted(
        f"{lang}/{p.name}" for lang in ARTICLE_LANGUAGES for p in (root / lang).glob("*.txt")
    )
    return [path for path in on_disk if path not in labelled]
