"""What the retailer's embedded pages show, read through the tenancy scope of the shop's organization.

The store connection (and, for the sync page, the job specs a person may run) are passed in by the view.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Listing, ListingVariant, Order, Organization, Partnership, Product, SyncRun
from portal.services import invitations
from portal.tenancy import current_org_id, scoped

PER_PAGE = 50


def partners_context(shop: str | None = None) -> dict:
    """The retailer's partnerships with their wholesalers' names, and the invitation the shop came with, if any."""
    rows = db.session.execute(
        scoped(Partnership)
        .add_columns(Organization.name)
        .join(Organization, Organization.id == Partnership.wholesaler_id)
        .order_by(Partnership.id)
    ).all()
    pending = invitations.pending_for_shop(shop) if shop else None
    return {
        "partners": [{"partnership": p, "wholesaler": name} for p, name in rows],
        "pending": {"code": pending[0].invite_code, "wholesaler": pending[1].name} if pending else None,
    }


def catalog_context(store_id: int, page: int) -> dict:
    """Products wholesalers listed in this store (created unpublished) and still supply to it (in the partnership's
    product selection, not deleted at the source), newest first, paginated in the database."""
    partnership_ids = scoped(Partnership).with_only_columns(Partnership.id)
    variants = select(func.count(ListingVariant.id)).where(ListingVariant.listing_id == Listing.id).scalar_subquery()
    stmt = (
        select(Listing, Product.title, Organization.name, variants)
        .join(Product, Product.id == Listing.product_id)
        .join(Partnership, Partnership.id == Listing.partnership_id)
        .join(Organization, Organization.id == Partnership.wholesaler_id)
        .where(Listing.partnership_id.in_(partnership_ids), Listing.retailer_connection_id == store_id)
        .where(Listing.removed_at.is_(None))  # only what the retailer carries: no longer carried or deleted is gone
        .order_by(Listing.id.desc())
    )
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)).all()
    items = [{"listing": lst, "title": t, "wholesaler": w, "variants": n} for lst, t, w, n in rows]
    return {"items": items, "page": max(page, 1), "total": total, "per_page": PER_PAGE}


def orders_context(page: int) -> dict:
    """This retailer's orders routed to wholesalers, newest first, with shipments and tracking."""
    stmt = scoped(Order).order_by(Order.received_at.desc(), Order.id.desc())
    total = db.session.execute(select(func.count()).select_from(scoped(Order).subquery())).scalar_one()
    orders = db.session.execute(stmt.limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)).scalars().all()
    ids = {o.wholesaler_id for o in orders} or {0}
    names = dict(db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all())
    return {"orders": orders, "wholesalers": names, "page": max(page, 1), "total": total, "per_page": PER_PAGE}


def sync_context(store_id: int, specs: Iterable) -> dict:
    """Each of `specs` (store jobs) with its last runs on this store; runs started by schedule or webhook show the
    same way."""
    target = f"connection:{store_id}"
    jobs = []
    for spec in specs:
        runs = (
            db.session.execute(
                select(SyncRun)
                .where(
                    SyncRun.organization_id == current_org_id(),
                    SyncRun.job_name == spec.name,
                    SyncRun.target_key == target,
                )
                .order_by(SyncRun.id.desc())
                .limit(5)
            )
            .scalars()
            .all()
        )
        jobs.append({"spec": spec, "runs": runs})
    return {"jobs": jobs}
