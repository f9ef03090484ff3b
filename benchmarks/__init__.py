"""Benchmarks for `make bench`: each `benchmarks/bench_*.py` has a `main()` returning a dict of numbers.

`python -m benchmarks` runs them all and merges their dicts into `benchmarks/results.json`.
"""
