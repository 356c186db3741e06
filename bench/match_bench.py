"""Matching throughput: MB of text per second, shipped topics and 100 synthetic topics."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from bench.common import corpus_dir, median_seconds
from monitors.match import Matcher
from monitors.models import Document
from seeds.loader import bundled_seed_path, load_file
from seeds.models import TopicsFile, TopicSpec


def corpus_documents() -> tuple[list[Document], str]:
    """Real article bodies from the extraction corpus, else a synthetic stand-in."""
    truth = corpus_dir() / "extraction" / "scrapinghub" / "ground-truth.json"
    if truth.exists():
        bodies = [v["articleBody"] for v in json.loads(truth.read_text(encoding="utf-8")).values()]
        return [Document(b.split("\n", 1)[0][:120], b) for b in bodies], f"{truth} ({len(bodies)})"
    rng = random.Random(7)
    words = [
        "north", "korea", "russia", "troops", "seoul", "moscow",
        "shells", "trade", "talks", "summit", "the", "of", "and",
    ]  # fmt: skip
    bodies = [" ".join(rng.choice(words) for _ in range(700)) for _ in range(200)]
    return [Document("Synthetic", b) for b in bodies], "synthetic (corpus absent)"


def synthetic_topics(documents: list[Document], count: int = 100) -> list[TopicSpec]:
    """Topics with 3 groups of 15 terms: real words from the texts plus invented ones."""
    rng = random.Random(11)
    vocabulary = sorted({w for d in documents[:50] for w in re.findall(r"[A-Za-z]{5,}", d.body)})
    topics = []
    for n in range(count):
        groups = {
            f"g{g}": [rng.choice(vocabulary) for _ in range(10)]
            + [f"zq{rng.randrange(10**6)}x" for _ in range(5)]
            for g in range(3)
        }
        topics.append(
            TopicSpec(
                id=f"synthetic-{n}",
                title=f"Synthetic {n}",
                groups=groups,
                rule={"all": ["g0", "g1 NEAR/10 g2"]},
            )
        )
    return topics


def throughput(matcher: Matcher, documents: list[Document]) -> dict[str, float]:
    megabytes = sum(len(d.text.encode("utf-8")) for d in documents) / 1e6
    seconds = median_seconds(lambda: [matcher.match(d) for d in documents])
    return {
        "megabytes": round(megabytes, 3),
        "median_s": round(seconds, 4),
        "mb_per_s": round(megabytes / seconds, 2),
    }


def main() -> dict[str, Any]:
    documents, source = corpus_documents()
    shipped = load_file(bundled_seed_path("topics.yaml"), TopicsFile).topics
    figures: dict[str, Any] = {
        "text": source,
        "shipped_topics": {"topics": len(shipped), **throughput(Matcher(shipped), documents)},
        "synthetic_100": {
            "topics": 100,
            **throughput(Matcher(synthetic_topics(documents)), documents),
        },
    }
    for name in ("shipped_topics", "synthetic_100"):
        row: dict[str, Any] = figures[name]
        print(
            f"   {name:<15} {row['topics']:>4} topics  {row['mb_per_s']:>7} MB/s "
            f"({row['megabytes']} MB in {row['median_s']} s, median of 5)"
        )
    return figures
