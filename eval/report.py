"""Render scores as plain-text tables, error lists and a JSON document (all pure)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from eval.harness import Scores, TopicScore

TITLE_WIDTH = 100
_HEADER = f"{'topic':<24}{'n':>5}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>8}{'F1':>8}"


def truncate(text: str, width: int = TITLE_WIDTH) -> str:
    """`text` cut to `width` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _row(score: TopicScore, note: str = "") -> str:
    return (
        f"{score.topic:<24}{score.positives:>5}{score.tp:>6}{score.fp:>6}{score.fn:>6}"
        f"{_number(score.precision):>11}{_number(score.recall):>8}{_number(score.f1):>8}"
        f"{'  ' + note if note else ''}"
    )


def table(name: str, scores: Scores, missing: Collection[str] = ()) -> str:
    """One dataset's table; topics in `missing` are flagged as absent from the topics file."""
    lines = [f"{name} ({scores.documents} documents)", _HEADER]
    for topic_score in scores.topics:
        note = "(not in topics file)" if topic_score.topic in missing else ""
        lines.append(_row(topic_score, note))
    lines.append(_row(scores.micro))
    return "\n".join(lines)


def errors(name: str, scores: Scores, titles: Mapping[str, str]) -> str:
    """False positives then false negatives per topic, each key with its (truncated) title."""
    lines: list[str] = []
    for kind, by_topic in (
        ("false positives", scores.false_positives),
        ("false negatives", scores.false_negatives),
    ):
        lines.append(f"{kind} — {name}")
        empty = True
        for topic, keys in by_topic.items():
            if not keys:
                continue
            empty = False
            lines.append(f"  {topic} ({len(keys)})")
            lines.extend(f"    {key}  {truncate(titles.get(key, ''))}" for key in keys)
        if empty:
            lines.append("  none")
    return "\n".join(lines)


def _score_json(score: TopicScore) -> dict[str, Any]:
    return {
        "topic": score.topic,
        "positives": score.positives,
        "tp": score.tp,
        "fp": score.fp,
        "fn": score.fn,
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
    }


def scores_json(scores: Scores, titles: Mapping[str, str]) -> dict[str, Any]:
    """The figures of one dataset as JSON-ready data (ratios are null when undefined)."""

    def listed(by_topic: Mapping[str, tuple[str, ...]]) -> dict[str, list[dict[str, str]]]:
        return {
            topic: [{"key": key, "title": titles.get(key, "")} for key in keys]
            for topic, keys in by_topic.items()
        }

    return {
        "documents": scores.documents,
        "topics": [_score_json(s) for s in scores.topics],
        "micro": _score_json(scores.micro),
        "false_positives": listed(scores.false_positives),
        "false_negatives": listed(scores.false_negatives),
    }
