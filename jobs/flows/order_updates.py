"""Order updates: shipments from the system of record (pull) and tracking to retailers (push)."""

from jobs.context import RunContext


def pull(ctx: RunContext) -> None:
    """Fetch shipments from the system of record (filled in by the sync engine)."""
    ctx.set_total(0)


def push(ctx: RunContext) -> None:
    """Send tracking to the retailer store (filled in by the sync engine)."""
    ctx.set_total(0)
