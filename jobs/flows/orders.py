"""Orders: retailer store -> hub (pull) and hub -> wholesaler system of record (push)."""

from jobs.context import RunContext


def pull(ctx: RunContext) -> None:
    """Fetch new and changed orders from a retailer store (filled in by the sync engine)."""
    ctx.set_total(0)


def push(ctx: RunContext) -> None:
    """Create received orders in the wholesaler's system of record (filled in by the sync engine)."""
    ctx.set_total(0)
