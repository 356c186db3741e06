"""Run benchmarks: every module bench/<name>_bench.py with a `main() -> dict` function."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from bench.common import save


def main(names: list[str]) -> int:
    here = Path(__file__).resolve().parent
    modules = sorted(p.stem for p in here.glob("*_bench.py"))
    chosen = [m for m in modules if not names or any(n in m for n in names)]
    for module_name in chosen:
        print(f"== {module_name}", flush=True)
        module = importlib.import_module(f"bench.{module_name}")
        figures = module.main()
        print(f"   saved {save(module_name, figures)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
