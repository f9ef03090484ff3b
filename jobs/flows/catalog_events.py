"""Product events from the system of record: the one product is read again and, if what syncs changed, pushed to
each partner retailer (coalesced with other changes of the same window by jobs.flows.stock_events).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jobs.context import RunContext
from jobs.flows import products
from jobs.flows.common import partnerships_of
from jobs.flows.stock_events import request_push, sor_connection, stock_partners
from jobs.plan import get_job
from jobs.runtime import current_rq_id, finish_run, new_run
from portal.extensions import db
from portal.models import Partnership, Product, SyncRun, Variant, WebhookReceipt, utcnow
from portal.services.platforms import system_of_record


def _remote_id(payload: dict) -> str | None:
    if payload.get("admin_graphql_api_id"):
        return payload["admin_graphql_api_id"]
    return f"gid://shopify/Product/{payload['id']}" if payload.get("id") is not None else None


def _queued_pull(connection_id: int) -> int | None:
    """The id of this connection's products.pull that is open and not started (queued, or waiting for a retry)."""
    return db.session.execute(
        select(SyncRun.id).where(
            SyncRun.job_name == "products.pull",
            SyncRun.target_key == f"connection:{connection_id}",
            SyncRun.status == "queued",
        )
    ).scalar()


def product_changed(receipt: WebhookReceipt) -> dict:
    """products/create|update|delete: bring that product up to date in the hub and push it, and only it.

    The payload is only a trigger (it lacks weight, per-location stock and more, and events arrive in no order):
    the product is read as it is now. `products/update` also fires on every sale; an unchanged product costs one
    read and no push."""
    conn = sor_connection(receipt.shop_domain)
    if conn is None:
        return {"ignored": f"no active system of record for {receipt.shop_domain}"}
    remote_id = _remote_id(receipt.payload or {})
    if remote_id is None:
        return {"ignored": "no product id in the payload"}
    sor = system_of_record(conn)
    remote = None if receipt.topic == "products/delete" else sor.product(remote_id)
    try:
        run = new_run(
            get_job("products.pull"), f"connection:{conn.id}", "event",
            status="running", started_at=utcnow(), attempts=1, total=1, rq_job_id=current_rq_id(),
        )  # fmt: skip
    except IntegrityError:
        db.session.rollback()
        waiting = _queued_pull(conn.id)
        if waiting is None:
            raise  # a pull is running now and may have read this product already: RQ delivers this again later
        # A pull not started yet reads this product as it is when it starts (and its push follows): nothing is lost.
        return {"coalesced": waiting}
    ctx = RunContext(run=run, target=conn)
    moved = False
    try:
        if remote is None:
            product = db.session.execute(
                select(Product).where(Product.connection_id == conn.id, Product.remote_id == remote_id)
            ).scalar_one_or_none()
            outcome = products._leave_catalog(ctx, conn, product, "deleted")
        else:
            outcome, moved = products._upsert_product(ctx, conn, remote, reread=sor.product)
    except products.CatalogRefused as exc:
        ctx.fail(f"product {remote.title if remote else remote_id}", str(exc))
        run.message = str(exc)
        finish_run(run)  # "done_with_failures": the refused product is named, and the next pull tries it again
        db.session.commit()
        return {"refused": str(exc), "sync_run_id": run.id}
    ctx.count(outcome)
    run.status, run.finished_at = "done", utcnow()
    db.session.commit()
    product_id = db.session.execute(
        select(Product.id).where(Product.connection_id == conn.id, Product.remote_id == remote_id)
    ).scalar_one_or_none()
    result = {"sync_run_id": run.id, "outcome": outcome}
    if product_id is None:
        return result
    if outcome != "unchanged":
        partners = partnerships_of(Partnership.wholesaler_id, conn.organization_id, "sync_products_to_retailer")
        result["scheduled"] = request_push([p.id for p in partners], product_ids=[product_id])
    elif moved:
        variant_ids = list(db.session.execute(select(Variant.id).where(Variant.product_id == product_id)).scalars())
        result["scheduled"] = request_push(stock_partners(conn.organization_id), variant_ids=variant_ids)
    return result
