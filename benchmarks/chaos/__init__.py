"""`make chaos` / `python -m benchmarks.chaos`: a soak of the real processes under injected faults, then invariants.

Not a `bench_*` module, so `make bench` never runs it. See benchmarks/chaos/__main__.py for the settings.
"""
