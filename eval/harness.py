"""Pure scoring: gold and predicted topic sets in, per-topic counts and ratios out.

A ratio whose denominator is zero (no predictions, no positives) is `None`, shown as "—":
it is undefined, not zero. The micro average sums TP, FP and FN over the scored topics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MICRO = "micro"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One document: its key, the topics a reader assigned and the topics the matcher fired."""

    key: str
    gold: frozenset[str]
    predicted: frozenset[str]


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class TopicScore:
    topic: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def positives(self) -> int:
        """Documents labelled with the topic."""
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-topic scores (in the order given), the micro average and the errors behind them."""

    topics: tuple[TopicScore, ...]
    micro: TopicScore
    documents: int
    false_positives: dict[str, tuple[str, ...]] = field(default_factory=dict)
    false_negatives: dict[str, tuple[str, ...]] = field(default_factory=dict)


def score(outcomes: Iterable[Outcome], topics: Sequence[str]) -> Scores:
    """Count TP/FP/FN per topic; predictions of topics outside `topics` are ignored."""
    tp = dict.fromkeys(topics, 0)
    fps: dict[str, list[str]] = {t: [] for t in topics}
    fns: dict[str, list[str]] = {t: [] for t in topics}
    documents = 0
    for outcome in outcomes:
        documents += 1
        for topic in topics:
            gold, predicted = topic in outcome.gold, topic in outcome.predicted
            if gold and predicted:
                tp[topic] += 1
            elif predicted:
                fps[topic].append(outcome.key)
            elif gold:
                fns[topic].append(outcome.key)
    per_topic = tuple(TopicScore(t, tp[t], len(fps[t]), len(fns[t])) for t in topics)
    micro = TopicScore(
        MICRO,
        sum(s.tp for s in per_topic),
        sum(s.fp for s in per_topic),
        sum(s.fn for s in per_topic),
    )
    return Scores(
        per_topic,
        micro,
        documents,
        {t: tuple(keys) for t, keys in fps.items()},
        {t: tuple(keys) for t, keys in fns.items()},
    )
