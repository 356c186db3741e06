"""`python -m eval`: score the topic matcher on the labelled headlines and written articles.

Exit 0 whenever the measurement ran (it is not a gate); exit 2 with one line on stderr when a
label file is invalid, a label names an entry the corpus lacks, or the topics file is bad.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval import datasets, report
from eval.harness import Outcome, Scores, score
from monitors.errors import DeskwatchError
from monitors.match import Matcher
from seeds.loader import bundled_seed_path, load_file
from seeds.models import TopicsFile

REPO = Path(__file__).resolve().parent.parent


def default_corpus() -> Path:
    """DESKWATCH_CORPUS, else the shared corpus next to the repository."""
    return Path(os.environ.get("DESKWATCH_CORPUS") or REPO.parent / "shared" / "corpus")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description="Score the topic matcher on the labelled headlines and written articles.",
    )
    parser.add_argument("--topics", type=Path, help="topics file (default: the bundled one)")
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: DESKWATCH_CORPUS)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the figures here")
    return parser


def _predict(matcher: Matcher, samples: Sequence[datasets.Sample]) -> list[Outcome]:
    return [
        Outcome(s.key, s.gold, frozenset(m.topic for m in matcher.match(s.document)))
        for s in samples
    ]


def _titles(samples: Sequence[datasets.Sample]) -> dict[str, str]:
    return {s.key: s.document.title for s in samples}


def _load(corpus: Path) -> tuple[list[datasets.Sample] | None, list[datasets.Sample]]:
    """Headline samples (None when the corpus is absent) and article samples."""
    headline_labels = datasets.load_headline_labels()
    article_labels = datasets.load_article_labels()
    articles = datasets.article_samples(article_labels)
    if not (corpus / "headlines").is_dir():
        return None, articles
    return datasets.headline_samples(headline_labels, corpus), articles


def run(argv: Sequence[str] | None = None) -> int:
    """Load, match, score, print; returns the exit code."""
    args = _parser().parse_args(argv)
    corpus = args.corpus or default_corpus()
    topics_path = args.topics or bundled_seed_path("topics.yaml")
    try:
        headlines, articles = _load(corpus)
        topics = load_file(topics_path, TopicsFile).topics
        matcher = Matcher(topics)
    except (datasets.LabelError, DeskwatchError, ValueError) as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    known = {t.id for t in topics}
    missing = [t for t in datasets.TOPICS if t not in known]
    print(f"topics file: {topics_path}")
    if missing:
        print(f"labelled topics absent from the topics file: {', '.join(missing)}")
    extra = sorted(known - set(datasets.TOPICS))
    if extra:
        print(f"matcher topics without labels (not scored): {', '.join(extra)}")
    sets: dict[str, list[datasets.Sample]] = {}
    if headlines is None:
        print(f"skipped headlines: corpus not found at {corpus}")
    else:
        sets["headlines"] = headlines
    sets["articles"] = articles
    sets["combined"] = [s for samples in sets.values() for s in samples]
    results = {name: score(_predict(matcher, s), datasets.TOPICS) for name, s in sets.items()}
    _print(sets, results, missing)
    if args.json:
        _save(args.json, topics_path, corpus, headlines is None, sets, results)
    return 0


def _print(
    sets: dict[str, list[datasets.Sample]], results: dict[str, Scores], missing: list[str]
) -> None:
    for name, scores in results.items():
        print()
        print(report.table(name, scores, missing))
    for name, scores in results.items():
        if name != "combined":
            print()
            print(report.errors(name, scores, _titles(sets[name])))


def _save(
    path: Path,
    topics_path: Path,
    corpus: Path,
    skipped: bool,
    sets: dict[str, list[datasets.Sample]],
    results: dict[str, Scores],
) -> None:
    payload: dict[str, Any] = {
        "topics_file": str(topics_path),
        "corpus": str(corpus),
        "headlines_skipped": f"corpus not found at {corpus}" if skipped else None,
        "datasets": {
            name: report.scores_json(scores, _titles(sets[name]))
            for name, scores in results.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures saved to {path}")


if __name__ == "__main__":
    sys.exit(run())
