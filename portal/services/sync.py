"""What Settings -> Sync says about one organization: each job of the plan described for this account.

Counts come from the database (a few aggregate queries per page); targets, the next run and Run now are the
workers' side (jobs.manual).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from jobs.plan import JobSpec
from portal.extensions import db
from portal.models import Connection, Fulfillment, Order, Partnership, Product, SyncRun, Variant


def org_partnerships(org_id: int, spec: JobSpec | None = None) -> list[Partnership]:
    """The organization's active partnerships (with the job's toggle on, when a job is given)."""
    query = select(Partnership).where(Partnership.owned_by(org_id), Partnership.status == "active")
    if spec is not None and spec.toggle:
        query = query.where(getattr(Partnership, spec.toggle).is_(True))
    return list(db.session.execute(query.order_by(Partnership.id)).scalars())


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _stores(n: int) -> str:
    return "1 retailer's store" if n == 1 else f"{n:,} retailers' stores"


def _count(query) -> int:
    return db.session.execute(query).scalar_one() or 0


def _sor_name(org_id: int) -> str:
    shop = db.session.execute(
        select(Connection.address).where(Connection.organization_id == org_id, Connection.role == "system_of_record")
    ).scalar()
    return shop or "your system of record"


def describe(spec: JobSpec, org_id: int) -> str:
    """The plain sentence of what `spec` would do for this account right now."""
    stores = _stores(len(org_partnerships(org_id, spec)))
    products = _count(select(func.count(Product.id)).where(Product.owned_by(org_id), Product.deleted_at.is_(None)))
    variants = _count(select(func.count(Variant.id)).where(Variant.owned_by(org_id), Variant.deleted_at.is_(None)))
    orders = select(func.count(Order.id)).where(Order.wholesaler_id == org_id, Order.cancelled_at.is_(None))
    sor = _sor_name(org_id)
    if spec.name == "products.push":
        return f"Send {_plural(products, 'product')} to {stores}; new products arrive unpublished."
    if spec.name == "products.pull":
        return (
            f"Read your full catalog from {sor} (now {_plural(products, 'product')}, {_plural(variants, 'variant')})."
        )
    if spec.name == "inventory.pull":
        return f"Read stock levels only of {_plural(variants, 'variant')} from {sor}."
    if spec.name == "inventory.push":
        return (
            f"Send changed stock levels of {_plural(variants, 'variant')} to {stores}, "
            "less orders still on their way to you."
        )
    if spec.name == "orders.pull":
        return f"Fetch new and changed orders from {stores} and keep the lines for your products."
    if spec.name == "orders.push":
        waiting = _count(orders.where(Order.sent_to_sor_at.is_(None)))
        return f"Create {_plural(waiting, 'order')} waiting in Wholesync in {sor} for fulfilment."
    if spec.name == "order_updates.pull":
        open_ = _count(orders.where(Order.sent_to_sor_at.is_not(None), Order.completed_at.is_(None)))
        return f"Fetch shipments and tracking from {sor} for {_plural(open_, 'open order')}."
    if spec.name == "order_updates.push":
        unsent = _count(
            select(func.count(Fulfillment.id))
            .join(Order, Fulfillment.order_id == Order.id)
            .where(Order.wholesaler_id == org_id, Fulfillment.pushed_at.is_(None))
        )
        return f"Send {_plural(unsent, 'shipment')} with carrier and tracking to {stores}."
    if spec.name == "billing.run":
        billed = _count(
            select(func.count(Partnership.id)).where(
                Partnership.owned_by(org_id), Partnership.status == "active", Partnership.billing_enabled.is_(True)
            )
        )
        return (
            f"Invoice {_plural(billed, 'retailer')} with billing on for what shipped and is not yet billed, once a day."
        )
    return spec.description


def last_run(spec: JobSpec, org_id: int) -> SyncRun | None:
    """The organization's most recent run of `spec`."""
    query = select(SyncRun).where(SyncRun.owned_by(org_id), SyncRun.job_name == spec.name)
    return db.session.execute(query.order_by(SyncRun.id.desc()).limit(1)).scalar_one_or_none()


def open_runs(org_id: int) -> list[SyncRun]:
    """Runs of this organization still queued or running (whoever started them: a person, the schedule, a webhook)."""
    query = select(SyncRun).where(SyncRun.owned_by(org_id), SyncRun.status.in_(("queued", "running")))
    return list(db.session.execute(query.order_by(SyncRun.id)).scalars())


def eta_seconds(run: SyncRun, now: datetime | None = None) -> float | None:
    """Seconds left at the pace so far (None until there is a pace to extrapolate)."""
    if run.finished or not run.started_at or not run.total or not run.done:
        return None
    elapsed = ((now or datetime.now(UTC)) - run.started_at).total_seconds()
    return max(0.0, elapsed / run.done * (run.total - run.done))
