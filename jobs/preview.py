"""Dry run: what a job would do on one target, computed without writing anywhere (no DB writes, no mutations).

Each flow module offers `preview_<function>(target) -> DryRun` next to the flow itself (e.g. `preview_push`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from jobs.plan import get_manual_job
from jobs.targets import load_target


@dataclass
class DryRun:
    """How many records a run would create, change, skip or zero out, a sample, and its estimated API cost."""

    job_name: str
    target_key: str
    create: int = 0
    change: int = 0
    skip: int = 0
    delete: int = 0
    sample: list[str] = field(default_factory=list)  # up to ten plain-language lines
    api_calls: int = 0
    api_cost: int = 0  # Shopify cost points (or calls on call-limited platforms)
    seconds: float = 0.0  # estimated duration at the shop's restore rate
    notes: list[str] = field(default_factory=list)


def dry_run(job_name: str, target_key: str) -> DryRun:
    """The preview of `job_name` on `target_key`; billing is refused like any manual start."""
    spec = get_manual_job(job_name)
    module, _, func = spec.flow.partition(":")
    preview = getattr(importlib.import_module(module), f"preview_{func}")
    target = load_target(target_key)
    if target is None:
        raise LookupError(f"{target_key} does not exist")
    return preview(target, DryRun(job_name=spec.name, target_key=target_key))
