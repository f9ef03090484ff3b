"""Billing: once a day per partnership, through the wholesaler's gateway. Never started by hand."""

from jobs.context import RunContext


def dispatch_billing(slot: int | None = None) -> list[str]:
    """Enqueue the billing runs that are due (filled in by the billing work)."""
    return []


def run(ctx: RunContext) -> None:
    """Bill one partnership for one day (filled in by the billing work)."""
    ctx.set_total(0)
