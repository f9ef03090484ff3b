"""Billing: once a day per partnership, through the wholesaler's gateway. Never started by hand.

The hourly `billing.run` tick asks `due_days` which partnership and due billing date to enqueue (the runtime
enqueues each under a deterministic, unique job id); `run` bills that day and any missed or unfinished earlier days.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from jobs import clock
from jobs.context import RunContext
from jobs.targets import target_key
from portal.extensions import db
from portal.models import Organization, Partnership
from portal.services import billing as service

HOUR = 3600
_DATE_IN_JOB_ID = re.compile(r"(\d{4})[-_](\d{2})[-_](\d{2})$")  # job_id() turns "-" into "_"


def billable_partnerships():
    """Active partnerships with billing on and a retailer: the only ones the dispatcher looks at."""
    return db.session.execute(
        select(Partnership, Organization)
        .join(Organization, Partnership.wholesaler_id == Organization.id)
        .where(
            Partnership.status == "active",
            Partnership.billing_enabled.is_(True),
            Partnership.retailer_id.is_not(None),
        )
        .order_by(Partnership.id)
    ).all()


def due_days(slot: int | None = None) -> list[tuple[str, tuple[str]]]:
    """(partnership target, (billing date,)) for every partnership whose billing time has passed for a day not done.

    `slot` is the hour number since the epoch (the scheduler's tick); None means now. Only the latest due date is
    picked: its run also bills any day missed while the scheduler was down, so a missed day is billed once.
    """
    now = datetime.fromtimestamp(slot * HOUR, UTC) if slot is not None else clock.now()
    picks = []
    for partnership, wholesaler in billable_partnerships():
        due = service.due_billing_date(wholesaler, now)
        first = service.first_billable_date(partnership, wholesaler)
        if first is not None and due < first:
            continue
        if not service.dates_to_bill(partnership, due):
            continue  # today's invoice is done and nothing older is unfinished
        picks.append((target_key("partnership", partnership.id), (due.isoformat(),)))
    return picks


def _billing_date(ctx: RunContext) -> date:
    """The date this job bills, from its deterministic RQ job id (…-YYYY_MM_DD)."""
    match = _DATE_IN_JOB_ID.search(ctx.run.rq_job_id or "")
    if match:
        return date(*(int(part) for part in match.groups()))
    wholesaler = db.session.get(Organization, ctx.target.wholesaler_id)
    return service.due_billing_date(wholesaler, clock.now())


def run(ctx: RunContext) -> None:
    """Bill one partnership for the job's date and any earlier day still owed, each day once."""
    partnership: Partnership = ctx.target
    if not partnership.billing_enabled or partnership.status != "active":
        ctx.run.message = "Billing is off for this partnership; nothing was billed."
        return
    through = _billing_date(ctx)
    wholesaler = db.session.get(Organization, partnership.wholesaler_id)
    if through > service.due_billing_date(wholesaler, clock.now()):
        ctx.run.message = f"{through} has not closed yet in the wholesaler's timezone; nothing was billed."
        return
    days = service.dates_to_bill(partnership, through)
    ctx.set_total(len(days))
    if service.gateway_account(partnership) is None:
        # Not an exception: retrying cannot help until the wholesaler connects its gateway; the run says why.
        for day in days:
            ctx.fail(f"{day}", f"no {partnership.billing_gateway or 'payment'} gateway connected; nothing billed")
        return
    for day in days:
        existed = service.existing_invoice(partnership.id, day) is not None
        invoice = service.bill(partnership, day)
        if invoice is None:
            ctx.count("skipped")
            continue
        ctx.count("updated" if existed else "created")
        action = "updated" if existed else "created"
        ctx.log(action, "invoice", invoice.id, f"{day}: {invoice.total} {invoice.currency}, {invoice.status}")
    db.session.commit()
