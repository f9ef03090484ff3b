"""Stock and catalog changes as deltas: what changed is noted per partnership, and one push per partnership and
time window sends only those products and levels (a burst of events on one item becomes one push per retailer).

The system of record's `inventory_levels/update` events, product events (jobs.flows.catalog_events) and retailers'
new orders (stock reserved for one retailer is offered to the others at once) all come through `request_push`.
The hourly and eight-hourly full passes stay as reconciliation.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jobs.context import RunContext
from jobs.flows import inventory, products
from jobs.flows.common import partnerships_of
from jobs.flows.event_push import (
    EVENT_QUEUE,
    NEXT,
    NEXT_TTL,
    PENDING,
    PENDING_TTL,
    event_job,
    request_push,
)
from jobs.plan import get_job
from jobs.runtime import connection, current_rq_id, finish_run, job_id, new_run, queue
from portal.extensions import db
from portal.models import ActivityLog, Connection, Partnership, StockLocation, Variant, WebhookReceipt, utcnow
from portal.services.platforms import system_of_record
from portal.services.stock import record_levels, retailer_quantities, sync_locations

log = logging.getLogger(__name__)

ITEMS = "wholesync:events:items:{connection}"  # inventory items a system of record's stock events named
READ_NEXT = "wholesync:events:read-next:{connection}"  # the RQ id of the connection's queued, not started, read


def _drain(pid: int) -> tuple[set[int], set[int]]:
    """Take (and clear) the partnership's pending variant and product ids in one atomic step."""
    pipe = connection().pipeline(transaction=True)
    keys = [PENDING.format(kind=kind, partnership=pid) for kind in ("variants", "products")]
    for key in keys:
        pipe.smembers(key)
    pipe.delete(*keys)
    variants, products, _ = pipe.execute()
    return {int(v) for v in variants}, {int(p) for p in products}


def _give_back(pid: int, variant_ids: set[int], product_ids: set[int]) -> None:
    """A failed push (or one whose records partly failed) returns what it took, so the retry or the next window's
    push sends it."""
    pipe = connection().pipeline()
    for kind, ids in (("variants", variant_ids), ("products", product_ids)):
        if ids:
            key = PENDING.format(kind=kind, partnership=pid)
            pipe.sadd(key, *[str(i) for i in ids])
            pipe.expire(key, PENDING_TTL)  # the drain deleted the key: a set created here expires too
    pipe.execute()


def push_partnership(partnership_id: int) -> dict:
    """The window's push for one partnership: changed products first (their new variants), then changed levels."""
    connection().delete(NEXT.format(partnership=partnership_id))  # events from now on schedule the next push
    variant_ids, product_ids = _drain(partnership_id)
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None or partnership.status != "active" or not (variant_ids or product_ids):
        return {"skipped": True}
    try:
        run = new_run(
            get_job("inventory.push"), f"partnership:{partnership_id}", "event",
            status="running", started_at=utcnow(), attempts=1, rq_job_id=current_rq_id(),
        )  # fmt: skip
    except IntegrityError:
        # Another inventory.push of this partnership is open (one run per job and target): it may have read the
        # levels before these changes, so they wait for the next window's push instead of failing this job for
        # good after its retries (the chaos soak found events lost that way while a swept run waited its turn).
        db.session.rollback()
        _give_back(partnership_id, variant_ids, product_ids)
        request_push([partnership_id])
        return {"deferred": True}
    ctx = RunContext(run=run, target=partnership)
    try:
        if product_ids and partnership.sync_products_to_retailer:
            products.push_products(ctx, partnership, product_ids)
            variant_ids |= set(
                db.session.execute(select(Variant.id).where(Variant.product_id.in_(product_ids))).scalars()
            )
        if variant_ids and partnership.sync_inventory_to_retailer:
            inventory.push_variants(ctx, partnership, variant_ids)
    except Exception as exc:
        db.session.rollback()
        _give_back(partnership_id, variant_ids, product_ids)
        run = db.session.get(type(run), run.id)
        run.status, run.finished_at = "failed", utcnow()
        run.message = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    if run.failed:
        # Records the store refused wait for the partnership's next push (not one scheduled now: a record that
        # always fails would push every window); what went through is unchanged then and is not sent again.
        _give_back(partnership_id, variant_ids, product_ids)
    run.message = f"Changes from the wholesaler: {len(product_ids)} product(s), {len(variant_ids)} variant(s)."
    finish_run(run)
    db.session.commit()
    return {"sync_run_id": run.id, "products": len(product_ids), "variants": len(variant_ids)}


def sor_connection(shop: str | None) -> Connection | None:
    """The active system-of-record connection of a shop (events from retailers' stores are not ours to mirror)."""
    if not shop:
        return None
    return db.session.execute(
        select(Connection).where(
            Connection.address == shop, Connection.role == "system_of_record", Connection.status == "active"
        )
    ).scalar_one_or_none()


def stock_partners(wholesaler_id: int) -> list[int]:
    """The partnerships whose retailers receive this wholesaler's stock."""
    return [p.id for p in partnerships_of(Partnership.wholesaler_id, wholesaler_id, "sync_inventory_to_retailer")]


def inventory_level_changed(receipt: WebhookReceipt) -> dict:
    """A stock event from a system of record: note the item it names and make sure one read of the connection's
    noted items is queued; returns what was noted (kept on the receipt, which is then processed).

    The adapter turns the payload into the item it names (the flow never parses a platform's payload). The payload
    is only a trigger: Shopify builds it at send time (two quick changes can both say the last figure), so the
    current levels are read back by `read_levels`. Our own order creations and stock writes echo back as bursts of
    these events (the chaos soak queued 170 in two minutes, each re-reading one item): noted in a Redis set, the
    events that wait behind one queued read share it. Redis may forget a set (a restart without its append-only
    file): the hourly inventory.pull reconciles every level."""
    conn = sor_connection(receipt.shop_domain)
    if conn is None:
        return {"ignored": f"no active system of record for {receipt.shop_domain}"}
    event = system_of_record(conn).stock_event(receipt.payload or {})
    if event is None:
        return {"ignored": "no inventory item in the payload"}
    scheduled = request_read(conn.id, [event.inventory_item_id])
    return {"noted": event.inventory_item_id, "scheduled": scheduled}


def request_read(connection_id: int, item_ids) -> list[str]:
    """Note inventory items whose levels moved at a system of record and make sure one `read_levels` of the
    connection is queued (at once: the events that arrive while it waits join it); returns the job id queued now.

    The ids are noted before the marker is read, so an event either finds a read that has not drained yet, or (the
    read started and cleared the marker) queues the next one."""
    redis = connection()
    key = ITEMS.format(connection=connection_id)
    pipe = redis.pipeline()
    pipe.sadd(key, *[str(i) for i in item_ids])
    pipe.expire(key, PENDING_TTL)
    pipe.execute()
    rq_id = job_id("levels", connection_id, time.time_ns())
    marker = READ_NEXT.format(connection=connection_id)
    if not redis.set(marker, rq_id, nx=True, ex=NEXT_TTL):
        return []  # a read is queued and has not started: it takes these items too
    try:
        queue(EVENT_QUEUE).enqueue(
            "jobs.flows.stock_events.read_levels",
            connection_id,
            **event_job(rq_id, f"stock events of connection {connection_id}"),
        )
    except Exception:
        redis.delete(marker)  # never leave a marker that no read of ours will clear
        raise
    return [rq_id]


def _take_items(connection_id: int) -> set[str]:
    """Take (and clear) the connection's noted items in one atomic step."""
    pipe = connection().pipeline(transaction=True)
    key = ITEMS.format(connection=connection_id)
    pipe.smembers(key)
    pipe.delete(key)
    items, _ = pipe.execute()
    return {i.decode() if isinstance(i, bytes) else str(i) for i in items}


def _give_back_items(connection_id: int, item_ids: set[str]) -> None:
    """A failed read returns the items it took, so its retry (or the next event's read) reads them."""
    if item_ids:
        key = ITEMS.format(connection=connection_id)
        pipe = connection().pipeline()
        pipe.sadd(key, *item_ids)
        pipe.expire(key, PENDING_TTL)
        pipe.execute()


def read_levels(connection_id: int) -> dict:
    """One read of every item the connection's stock events noted: their levels at every location in one call,
    recorded, and a push for each partnership whose offered level of them moved. A read that fails gives its
    items back before it raises (RQ retries it; the next event's read takes them otherwise)."""
    connection().delete(READ_NEXT.format(connection=connection_id))  # events from now on queue the next read
    items = _take_items(connection_id)
    conn = db.session.get(Connection, connection_id)
    if conn is None or conn.status != "active" or conn.role != "system_of_record" or not items:
        return {"skipped": True}
    try:
        return _read_items(conn, items)
    except Exception:
        db.session.rollback()
        _give_back_items(connection_id, items)
        raise


def _read_items(conn: Connection, items: set[str]) -> dict:
    """Re-read the levels of the hub's variants of these inventory items at every location and push what moved.

    A level at a location the hub does not know yet refreshes the locations first. Only the partnerships whose
    counted locations' sum moved get a push (a change elsewhere changes nothing)."""
    rows = db.session.execute(
        select(Variant.id, Variant.remote_id).where(
            Variant.connection_id == conn.id,
            Variant.inventory_item_remote_id.in_(sorted(items)),
            Variant.deleted_at.is_(None),
        )
    ).all()
    if not rows:
        return {"ignored": f"{len(items)} item(s) not in the hub yet (products.pull brings them with their stock)"}
    sor = system_of_record(conn)
    variant_ids = [vid for vid, _ in rows]
    levels = sor.variant_levels([remote_id for _, remote_id in rows])
    locations = dict(
        db.session.execute(
            select(StockLocation.remote_id, StockLocation.id).where(StockLocation.connection_id == conn.id)
        ).all()
    )
    if any(level.location_id not in locations for level in levels):
        locations = sync_locations(conn, sor.locations())
    before = offered(variant_ids)
    changes = record_levels(conn, levels, locations, variant_ids=variant_ids)
    for variant_id, sku, old, new in changes.totals:
        db.session.add(ActivityLog(organization_id=conn.organization_id, action="edit", record_type="variant",
                                   record_id=str(variant_id), summary=f"{sku}: stock {old} -> {new}"))  # fmt: skip
    db.session.flush()
    after = offered(variant_ids)
    db.session.commit()
    if not changes.moved:
        return {"items": len(items), "unchanged": variant_ids}
    partners = [pid for pid in stock_partners(conn.organization_id) if before.get(pid) != after.get(pid)]
    scheduled = request_push(partners, variant_ids=changes.moved) if partners else []
    return {"items": len(items), "variants": changes.moved, "partnerships": partners, "scheduled": scheduled}


def offered(variant_ids) -> dict[int, list]:
    """What each stock partnership of these variants' wholesaler is offered of them (one query per partnership)."""
    result = {}
    wholesalers = set(db.session.execute(select(Variant.wholesaler_id).where(Variant.id.in_(variant_ids))).scalars())
    for wholesaler_id in wholesalers:
        for partnership in partnerships_of(Partnership.wholesaler_id, wholesaler_id, "sync_inventory_to_retailer"):
            levels = retailer_quantities(partnership, variant_ids)
            result[partnership.id] = [(level.listing_variant_id, level.quantity) for level in levels]
    return result


def stock_reserved(wholesaler_id: int, skus) -> list[str]:
    """A retailer's new order holds stock until the system of record has it: every retailer of the wholesaler is
    offered the smaller figure at once (the ordering one too; its own store already counted the sale)."""
    skus = [s for s in skus if s]
    if not skus:
        return []
    variant_ids = list(
        db.session.execute(
            select(Variant.id).where(Variant.wholesaler_id == wholesaler_id, Variant.sku.in_(skus))
        ).scalars()
    )
    if not variant_ids:
        return []
    return request_push(stock_partners(wholesaler_id), variant_ids=variant_ids)
