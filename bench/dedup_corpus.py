"""Story clustering on real syndication: the headline corpus, clustered as the pipeline would.

`python -m bench.dedup_corpus [--threshold T] [--sample N]` prints entries, distinct canonical
URLs, clusters and a sample of multi-copy clusters; `measure()` returns the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import corpus_dir
from monitors.dedup import Candidate, DedupPolicy, Identity, choose_story, identify, widened
from monitors.store.stories import MAX_CANDIDATES
from monitors.text import clean_text


@dataclass
class MemoryIndex:
    """The store's story tables as dicts: the same keys and the same decisions, no database."""

    policy: DedupPolicy
    keys: dict[int, set[str]] = field(default_factory=dict)
    members: dict[str, bytes] = field(default_factory=dict)
    copies: dict[str, list[str]] = field(default_factory=dict)

    def add(self, probe: Identity, label: str) -> str:
        """Assign a copy to a story (joining or founding one); return the story key."""
        hits: dict[str, set[str]] = {}
        for key, layer in probe.lookup:
            for story in self.keys.get(key, ()):
                hits.setdefault(story, set()).add(layer)
        ranked = sorted(hits, key=lambda s: -len(hits[s]))[:MAX_CANDIDATES]  # as the store does
        candidates = [Candidate(s, frozenset(hits[s]), self.members[s]) for s in ranked]
        joined = choose_story(probe, candidates, self.policy)
        story = joined or probe.canonical_url
        keys = [(h, layer) for h, layer in probe.lookup if layer != "band"]
        if joined is None:
            self.members[story] = probe.signature
            keys = list(probe.lookup)
        elif (grown := widened(self.members[story], probe.signature)) is not None:
            self.members[story] = grown
            keys = list(probe.lookup)
        for key, _ in keys:
            self.keys.setdefault(key, set()).add(story)
        self.copies.setdefault(story, []).append(label)
        return story


def headline_entries(root: Path) -> Iterator[dict[str, Any]]:
    """Entries of the headline JSONL files, in date order."""
    rows: list[dict[str, Any]] = []
    for path in sorted((root / "headlines").glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines if line.strip()]
    yield from sorted(rows, key=lambda r: str(r.get("date_published") or ""))


def measure(policy: DedupPolicy, root: Path | None = None, sample: int = 12) -> dict[str, Any]:
    """Cluster every headline entry (title + description); the figures and sample clusters."""
    root = root or corpus_dir()
    if not (root / "headlines").is_dir():
        return {"skipped": f"no corpus at {root / 'headlines'} (set DESKWATCH_CORPUS)"}
    index = MemoryIndex(policy)
    urls: set[str] = set()
    entries = 0
    for row in headline_entries(root):
        title = clean_text(str(row.get("title") or ""))
        body = clean_text(str(row.get("description") or ""))
        link = str(row.get("link") or "")
        probe = identify(title, body, link, link, policy)
        urls.add(probe.canonical_url)
        index.add(probe, f"{_outlet(str(row.get('source') or ''))}: {title[:90]}")
        entries += 1
    multi = {k: v for k, v in index.copies.items() if len(v) > 1}
    rng = random.Random(5)
    shown = rng.sample(sorted(multi), min(sample, len(multi)))
    return {
        "threshold": policy.threshold,
        "entries": entries,
        "distinct_canonical_urls": len(urls),
        "clusters": len(index.copies),
        "clusters_with_several_copies": len(multi),
        "copies_in_those_clusters": sum(len(v) for v in multi.values()),
        "largest_cluster": max((len(v) for v in index.copies.values()), default=0),
        "sample": {k: multi[k] for k in shown},
    }


def _outlet(feed_url: str) -> str:
    host = feed_url.split("//", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.").removeprefix("feeds.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DedupPolicy().threshold)
    parser.add_argument("--sample", type=int, default=12)
    args = parser.parse_args(argv)
    figures = measure(DedupPolicy(threshold=args.threshold), sample=args.sample)
    if "skipped" in figures:
        print(f"skipped: {figures['skipped']}")
        return 0
    for name, value in figures.items():
        if name != "sample":
            print(f"{name}: {value}")
    for story, copies in figures["sample"].items():
        print(f"\n{story}")
        for copy in copies:
            print(f"   {copy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
