"""Shared helpers for benchmarks: timing medians, saving figures, finding the corpus."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "var" / "bench"


def corpus_dir() -> Path:
    """`DESKWATCH_CORPUS`, else `../shared/corpus` beside the repository."""
    return Path(os.environ.get("DESKWATCH_CORPUS", REPO.parent / "shared" / "corpus"))


def median_seconds(action: Callable[[], object], repeats: int = 5) -> float:
    """Median wall time of `repeats` runs of `action` (after one warm-up run)."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def save(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
