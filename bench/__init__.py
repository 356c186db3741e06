"""Benchmarks: `python -m bench [NAME...]` runs every bench/*_bench.py and saves figures."""
