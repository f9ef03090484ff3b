"""Inventory: stock from the system of record (pull) and to retailer stores (push)."""

from jobs.context import RunContext


def pull(ctx: RunContext) -> None:
    """Read stock levels from the system of record (filled in by the sync engine)."""
    ctx.set_total(0)


def push(ctx: RunContext) -> None:
    """Send changed stock to the retailer store (filled in by the sync engine)."""
    ctx.set_total(0)
