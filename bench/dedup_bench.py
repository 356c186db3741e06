"""Story clustering cost: per item and peak memory at 100,000 synthetic items, plus the corpus.

A stream where about a third of the items are syndicated copies (light edits, new titles) of a
recent story. Clustering runs the pipeline's decisions (monitors.dedup) against an in-memory
index of the store's keys for the whole stream, and against the real store on SQLite for a
shorter one. `DESKWATCH_BENCH_ITEMS` and `DESKWATCH_BENCH_DB_ITEMS` change the sizes.
"""

from __future__ import annotations

import itertools
import os
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.dedup_corpus import MemoryIndex, measure
from monitors.dedup import DedupPolicy, choose_story, identify
from monitors.models import NewItem
from monitors.store import Store, create_engine

ITEMS = int(os.environ.get("DESKWATCH_BENCH_ITEMS", "100000"))
DB_ITEMS = int(os.environ.get("DESKWATCH_BENCH_DB_ITEMS", "10000"))
ITEMS_PER_DAY = 2880  # one item every 30 s
COPY_RATE = 0.35
CHUNK = 1000
T0 = datetime(2024, 12, 1, tzinfo=UTC)


def stream(count: int, seed: int = 3) -> Iterator[tuple[str, str, str, bool]]:
    """(title, body, url, is_copy): original stories and edited copies of recent ones."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(20000)]
    cumulative = list(itertools.accumulate(1 / (n + 1) for n in range(len(vocabulary))))  # Zipf
    recent: list[tuple[str, list[str]]] = []
    for n in range(count):
        if recent and rng.random() < COPY_RATE:
            title, words = rng.choice(recent[-500:])
            edited = [rng.choice(vocabulary) if rng.random() < 0.03 else w for w in words]
            cut = rng.randrange(len(edited) * 4 // 5, len(edited) + 1)  # a trimmed reprint
            yield (
                f"{title} – outlet {n % 7}",
                " ".join(edited[:cut]),
                f"https://o{n}.example/{n}",
                True,
            )
            continue
        words = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randrange(150, 450))
        title = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=9))
        recent.append((title, words))
        yield title, " ".join(words), f"https://wire.example/{n}", False


def memory_run(policy: DedupPolicy, items: list[tuple[str, str, str, bool]]) -> dict[str, Any]:
    """Cluster the whole stream in memory: per-item cost by chunk, peak memory, accuracy."""
    index = MemoryIndex(policy)
    chunk_costs: list[float] = []
    wrong = 0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for start in range(0, len(items), CHUNK):
        began = time.perf_counter()
        for title, body, url, is_copy in items[start : start + CHUNK]:
            founded = index.add(identify(title, body, url, "", policy), url) == _canonical(url)
            wrong += founded == is_copy  # a copy that founded a story, or an original that joined
        chunk_costs.append((time.perf_counter() - began) / CHUNK)
        if (start // CHUNK) % 20 == 19:
            print(f"   {start + CHUNK} items, {chunk_costs[-1] * 1e3:.2f} ms/item", flush=True)
    return {
        "items": len(items),
        "stories": len(index.copies),
        "copy_rate": COPY_RATE,
        "misassigned_items": wrong,
        "cost_per_item_ms_median": round(statistics.median(chunk_costs) * 1e3, 3),
        "cost_per_item_ms_last_chunk": round(chunk_costs[-1] * 1e3, 3),
        "peak_rss_growth_mb": round(
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1
        ),
    }


def _canonical(url: str) -> str:
    return url  # the synthetic URLs are canonical already


def per_item_memory(policy: DedupPolicy, items: list[tuple[str, str, str, bool]]) -> float:
    """Peak bytes allocated while identifying one item (tracemalloc), in KiB."""
    tracemalloc.start()
    for title, body, url, _ in items[:200]:
        identify(title, body, url, "", policy)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(peak / 1024, 1)


def store_run(policy: DedupPolicy, items: list[tuple[str, str, str, bool]]) -> dict[str, Any]:
    """The real store on SQLite: candidate lookup, decision and record, per item."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = Store(create_engine(f"sqlite:///{path}"))
        costs: list[float] = []
        sizes_by_day: dict[int, int] = {}
        began = time.perf_counter()
        for n, (title, body, url, _) in enumerate(items):
            now = T0 + timedelta(seconds=30 * n)
            if n and n % ITEMS_PER_DAY == 0:  # a poll prunes; once a simulated day is enough
                store.prune(now - policy.retention)
                sizes_by_day[n // ITEMS_PER_DAY] = sum(store.table_sizes().values())
            probe = identify(title, body, url, "", policy)
            with store.story_session() as session:
                story = choose_story(probe, session.candidates(probe), policy) or url
                item = NewItem(
                    "b", str(n), url, url, title, "B", now, now, probe.fingerprint, story
                )
                session.record(item, probe, [], [])
            if (n + 1) % CHUNK == 0:
                costs.append((time.perf_counter() - began) / CHUNK)
                began = time.perf_counter()
        sizes = store.table_sizes()
        pruned = store.prune(T0 + timedelta(seconds=30 * len(items)) - policy.retention)
        figures = {
            "items": len(items),
            "cost_per_item_ms_median": round(statistics.median(costs) * 1e3, 3),
            "cost_per_item_ms_last_chunk": round(costs[-1] * 1e3, 3),
            "rows": sizes,
            "db_mb": round(path.stat().st_size / 1e6, 1),
            "pruned_rows_30d": pruned,
            "rows_by_simulated_day": sizes_by_day,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        store.dispose()
    return figures


def main() -> dict[str, Any]:
    policy = DedupPolicy()
    items = list(stream(ITEMS))
    figures: dict[str, Any] = {"threshold": policy.threshold, "bands_rows": policy.bands}
    figures["memory_index"] = memory_run(policy, items)
    figures["identify_peak_kib"] = per_item_memory(policy, items)
    figures["sqlite_store"] = store_run(policy, items[:DB_ITEMS])
    corpus = measure(policy, sample=5)
    corpus.pop("sample", None)
    figures["corpus_headlines"] = corpus
    for name, value in figures.items():
        print(f"   {name}: {value}", flush=True)
    return figures
