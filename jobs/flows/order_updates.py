"""Order updates: shipments with tracking from the system of record for orders we sent (pull), then to the
retailer's store as fulfillments of our fulfillment orders (push) — partial shipments included, each exactly once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from integrations.base import NothingToFulfil, OutcomeUnknown, Shipment
from jobs.context import RunContext
from jobs.flows.common import (
    advance_cursor,
    cursor_at,
    cursor_since,
    now,
    open_failures,
    record_failed,
    record_synced,
)
from jobs.flows.order_changes import wholesaler_changes
from jobs.preview import DryRun
from portal.extensions import db
from portal.models import Fulfillment, Order, Partnership
from portal.services.orders import log_both, rejection_code
from portal.services.organizations import org_connection
from portal.services.platforms import retailer_store, system_of_record

AWAITING_SHIPMENT = ("sent", "partial")
CHANGES_STREAM = "sor_order_changes"  # up to when the system of record's changed orders were all read
FULL_READ_STREAM = "sor_orders_full_read"  # when every order awaiting shipment was last read
FULL_READ_EVERY = timedelta(hours=6)
# The cursor is the pull's own start, taken before it lists, so the overlap covers only the store's search index
# catching up and clock skew (seconds; Shopify says its rare delays last minutes). A wider one re-reads every order
# that changed within it on each pull: pulls follow each shipment's webhook, so each pull's length grows with it
# (10 minutes cost the soak pulls of a minute and more). FULL_READ_EVERY catches whatever is later still.
CHANGES_OVERLAP = timedelta(minutes=2)
# How long after the store's stamp on an order our listing must be for a read to count as having seen all of that
# second's updates (whole seconds, and the store's clock may run a little apart from ours).
STAMP_SETTLED = timedelta(seconds=5)


# ---------------------------------------------------------------- pull: system of record -> hub


def _awaiting(wholesaler_id: int):
    return (
        select(Order)
        .join(Partnership, Order.partnership_id == Partnership.id)
        .where(
            Order.wholesaler_id == wholesaler_id, Order.status.in_(AWAITING_SHIPMENT),
            Order.sor_remote_order_id.is_not(None), Partnership.sync_order_updates_from_wholesaler.is_(True),
        )
        .order_by(Order.id)
    )  # fmt: skip


def pull(ctx: RunContext) -> None:
    """For each order we sent and that is not fully shipped, record its new shipments and shipped quantities.

    A system of record that lists its changed orders is asked which changed since the last pull (the cursor, less
    CHANGES_OVERLAP), and only those whose update stamp moved since we read them are read: every shipment's webhook
    starts a pull, and reading all open orders each time spent the store's API budget on orders that had not moved
    (the chaos soak: over a hundred calls a pull, the queue growing). An order whose read failed is kept as a failed
    record and read by every pull until it succeeds, so the cursor moves on without it. A pull run by hand, the
    first one, and one every FULL_READ_EVERY read them all (an order whose partnership had order updates switched
    off while it shipped)."""
    conn = ctx.target
    began = now()
    orders = list(db.session.execute(_awaiting(conn.organization_id)).scalars())
    sor = system_of_record(conn, on_call=ctx.api_call) if orders else None
    since = None if _full_read_due(ctx, conn.id, began) else cursor_since(conn.id, CHANGES_STREAM, CHANGES_OVERLAP)
    full = since is None or not hasattr(sor, "changed_orders")
    stamps: dict[str, object] = {}
    if not full:
        stamps = sor.changed_orders(since)
        retry = _failed_before(ctx, orders)
        orders = [order for order in orders if _record_key(order) in retry or _moved(order, stamps)]
    ctx.set_total(len(orders))
    for order in orders:
        try:
            added = _take_shipments(ctx, order, sor.shipments(order.sor_remote_order_id))
            # Lines the wholesaler cancelled or removed there (after the shipments, which it cannot take back).
            rejected = hasattr(sor, "order_state") and wholesaler_changes(
                ctx, order, sor.order_state(order.sor_remote_order_id)
            )
        except Exception as exc:  # one order's failure does not stop the others; the next pull reads it again
            db.session.rollback()
            record_failed(ctx, _record_key(order), f"order {order.retailer_order_name}", f"{type(exc).__name__}: {exc}")
            continue
        if order.sor_remote_order_id in stamps:  # a full read has no stamps: the one kept stays true
            order.sor_updated_at = _settled_stamp(stamps[order.sor_remote_order_id], began)
        record_synced(ctx, _record_key(order))
        db.session.commit()
        ctx.count("created" if added else "updated" if rejected else "unchanged")
        if added:
            ctx.chain("order_updates.push", f"partnership:{order.partnership_id}")
    advance_cursor(conn.id, CHANGES_STREAM, began)
    if full:
        advance_cursor(conn.id, FULL_READ_STREAM, began)


def _failed_before(ctx: RunContext, awaiting: list[Order]) -> set[str]:
    """The orders whose read failed on an earlier pull and has not succeeded since. A failure of an order no longer
    awaiting shipment (cancelled, or nothing left to ship) is resolved: there is nothing left to read for it."""
    keys = {failure.record_key for failure in open_failures(ctx.run.job_name, ctx.run.target_key)}
    gone = keys - {_record_key(order) for order in awaiting}
    for key in gone:
        record_synced(ctx, key)
    if gone:
        db.session.commit()
    return keys - gone


def _record_key(order: Order) -> str:
    return f"order:{order.id}"


def _moved(order: Order, stamps: dict) -> bool:
    """Whether the store updated the order since we last read it whole (listed, and its stamp is not the one we
    kept)."""
    stamp = stamps.get(order.sor_remote_order_id)
    return stamp is not None and stamp != order.sor_updated_at


def _settled_stamp(stamp, began):
    """The store's stamp to keep for an order just read, or None to read it again next time. Shopify's `updatedAt`
    has whole seconds, so a second update within the same second as the one listed would keep the stamp: a stamp
    is kept only when the listing was made STAMP_SETTLED after it (and every read follows the listing)."""
    if stamp is None or began - stamp < STAMP_SETTLED:
        return None
    return stamp


def _full_read_due(ctx: RunContext, connection_id: int, at) -> bool:
    """Whether this pull reads every order awaiting shipment: by hand, the first, or FULL_READ_EVERY since the last."""
    last = cursor_at(connection_id, FULL_READ_STREAM)
    return ctx.run.trigger == "manual" or last is None or at - last >= FULL_READ_EVERY


def _take_shipments(ctx, order: Order, shipments: list[Shipment]) -> int:
    known = {f.sor_remote_fulfillment_id for f in order.fulfillments}
    by_sor_line = {line.sor_remote_line_id: line for line in order.lines if line.sor_remote_line_id}
    added = 0
    for shipment in shipments:
        if shipment.remote_id in known:
            continue
        lines = []
        for remote_line_id, quantity in shipment.lines:
            line = by_sor_line.get(remote_line_id)
            if line is None:
                continue
            take = min(quantity, line.quantity - line.cancelled_quantity - line.fulfilled_quantity)
            if take > 0:
                line.fulfilled_quantity += take
                lines.append({"order_line_id": line.id, "quantity": take})
        fulfillment = Fulfillment(
            order_id=order.id, sor_remote_fulfillment_id=shipment.remote_id, carrier=shipment.carrier,
            tracking_numbers=shipment.tracking_numbers, tracking_urls=shipment.tracking_urls, lines=lines,
            shipped_at=shipment.created_at or now(),
        )  # fmt: skip
        db.session.add(fulfillment)
        db.session.flush()
        ctx.log("add", "fulfillment", fulfillment.id,
                f"{order.retailer_order_name}: shipped {sum(item['quantity'] for item in lines)} unit(s)"
                + (f", tracking {', '.join(shipment.tracking_numbers)}" if shipment.tracking_numbers else ""),
                organization_id=order.wholesaler_id, partnership_id=order.partnership_id)  # fmt: skip
        added += 1
    if added:
        # shipped_at marks the first shipment (billing charges fulfilled_quantity line by line from then on).
        order.shipped_at = order.shipped_at or now()
        complete = all(li.fulfilled_quantity >= li.quantity - li.cancelled_quantity for li in order.lines)
        order.status = "shipped" if complete else "partial"
    db.session.commit()
    return added


# ---------------------------------------------------------------- push: hub -> retailer store


def _unpushed(partnership_id: int):
    return (
        select(Fulfillment)
        .join(Order, Fulfillment.order_id == Order.id)
        .where(Order.partnership_id == partnership_id, Fulfillment.pushed_at.is_(None))
        .order_by(Fulfillment.id)
    )


def _rejections_to_send(partnership_id: int):
    """Orders with lines the wholesaler rejected that the retailer's store has not been told of yet."""
    return (
        select(Order)
        .where(Order.partnership_id == partnership_id, Order.rejected_at.is_not(None),
               Order.rejection_sent_at.is_(None))
        .order_by(Order.id)
    )  # fmt: skip


def push(ctx: RunContext) -> None:
    """Create each shipment at the retailer exactly once (look for it there first), with carrier and tracking;
    then tell the store of lines the wholesaler rejected, with the reason (after the shipments: Shopify closes an
    accepted request only once the rest of it has shipped)."""
    partnership: Partnership = ctx.target
    fulfillments = list(db.session.execute(_unpushed(partnership.id)).scalars())
    rejections = list(db.session.execute(_rejections_to_send(partnership.id)).scalars())
    ctx.set_total(len(fulfillments) + len(rejections))
    store_conn = org_connection(partnership.retailer_id, "store")
    placement = partnership.placement or {}  # empty when every product is linked by SKU (the merchant's locations)
    if store_conn is None or not (fulfillments or rejections or placement):
        return
    store = retailer_store(store_conn, on_call=ctx.api_call)
    if placement and hasattr(store, "cancellation_requests"):
        _answer_cancellation_requests(ctx, store, partnership, placement)
    for fulfillment in fulfillments:
        order = fulfillment.order
        try:
            shipment = _as_retailer_shipment(order, fulfillment)
            claimed = _claimed(order, fulfillment)
            existing = _already_there(store.shipments(order.remote_order_id), shipment, claimed)
            if existing is None:
                store.accept_fulfillment_requests(order.remote_order_id, placement)
                try:
                    existing = store.create_shipment(order.remote_order_id, placement, shipment)
                except OutcomeUnknown:  # the store may have created it: look, never create twice
                    existing = _already_there(store.shipments(order.remote_order_id), shipment, claimed)
                    if existing is None:
                        raise
                except NothingToFulfil:
                    _record_unreportable(ctx, order, fulfillment)
                    ctx.count("skipped")
                    continue
            _record_pushed(ctx, order, fulfillment, existing)
        except Exception as exc:  # visible on the fulfillment; the others go on
            db.session.rollback()
            fulfillment.push_error = f"{type(exc).__name__}: {exc}"[:2000]
            db.session.commit()
            ctx.fail(f"shipment {fulfillment.id} of {order.retailer_order_name}", fulfillment.push_error)
            continue
        ctx.count("created")
    for order in rejections:
        try:
            outcome = _send_rejection(ctx, store, placement, order)
        except Exception as exc:  # kept on the order; the next push tries again
            db.session.rollback()
            order.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            db.session.commit()
            ctx.fail(f"rejection of {order.retailer_order_name}", order.last_error)
            continue
        ctx.count(outcome)


def _answer_cancellation_requests(ctx: RunContext, store, partnership: Partnership, placement: dict) -> None:
    """The retailer cancelled orders whose fulfillment request we had accepted: the store asks us first. A request
    not seen before marks our order cancelled (not yet sent: it never goes; sent: order_changes.push cancels it in
    the system of record, or finds it shipped). Once that is settled the request is answered: accepted when the
    wholesaler's order was cancelled (or never made), refused with the reason when it has shipped."""
    for remote_id in store.cancellation_requests(placement):
        order = db.session.execute(
            select(Order).where(Order.partnership_id == partnership.id, Order.remote_order_id == remote_id)
        ).scalar_one_or_none()
        if order is None:
            continue
        if order.cancelled_at is None:
            order.cancelled_at = now()
            if order.status in ("received", "failed"):
                order.status = "cancelled"
            elif order.sor_remote_order_id and order.sor_cancelled_at is None:
                sor = org_connection(order.wholesaler_id, "system_of_record")
                if sor is not None:
                    ctx.chain("order_changes.push", f"connection:{sor.id}")
            log_both(order, f"{order.retailer_order_name}: the retailer asked to cancel it", ctx.run.id)
            db.session.commit()
        accept = order.sor_remote_order_id is None or order.sor_cancelled_at is not None
        if not accept and order.change_note is None:
            continue  # the system of record has not answered yet; the push after it does
        message = "Cancelled at the wholesaler" if accept else order.change_note
        try:
            store.answer_cancellation(remote_id, placement, accept, message)
        except Exception as exc:  # the next push answers it
            db.session.rollback()
            ctx.fail(f"cancellation request of {order.retailer_order_name}", f"{type(exc).__name__}: {exc}")
            continue
        told = "accepted" if accept else f"refused ({order.change_note})"
        log_both(order, f"{order.retailer_order_name}: cancellation request {told} in the retailer's store", ctx.run.id)
        db.session.commit()
        ctx.count("updated")


def _send_rejection(ctx: RunContext, store, placement: dict, order: Order) -> str:
    """Reject (or close) the retailer's fulfillment request for the rejected lines, with the reason; "skipped"
    while the rest of an accepted request has still to ship (the next push after that shipment closes it)."""
    lines = [(line.remote_line_id, line.rejected_quantity) for line in order.lines if line.rejected_quantity]
    message = f"The wholesaler cannot fill {order.retailer_order_name}: {order.rejection_reason}"
    if hasattr(store, "reject_lines"):
        if not store.reject_lines(order.remote_order_id, placement, lines, rejection_code(order), message):
            return "skipped"
        told = "rejection sent to the retailer's store"
    else:
        told = "the retailer's store cannot record rejections; the retailer is told in Wholesync"
    order.rejection_sent_at, order.last_error = now(), None
    log_both(order, f"{order.retailer_order_name}: {told} ({order.rejection_reason})", ctx.run.id)
    db.session.commit()
    return "updated"


def _as_retailer_shipment(order: Order, fulfillment: Fulfillment) -> Shipment:
    by_id = {line.id: line for line in order.lines}
    lines = [(by_id[item["order_line_id"]].remote_line_id, item["quantity"]) for item in fulfillment.lines]
    return Shipment(remote_id="", lines=lines, carrier=fulfillment.carrier,
                    tracking_numbers=list(fulfillment.tracking_numbers or []),
                    tracking_urls=list(fulfillment.tracking_urls or []))  # fmt: skip


def _claimed(order: Order, fulfillment: Fulfillment) -> set[str]:
    """The retailer fulfillments already recorded as another of this order's shipments."""
    return {
        f.retailer_remote_fulfillment_id
        for f in order.fulfillments
        if f.id != fulfillment.id and f.retailer_remote_fulfillment_id
    }


def _already_there(existing: list[Shipment], wanted: Shipment, claimed: set[str]) -> str | None:
    """The retailer's fulfillment an earlier attempt created for this shipment: same tracking numbers, or same lines
    if it has none — among those not recorded as another shipment's. A fulfillment is matched by our own record of
    its id, not by its lines alone: two untracked shipments of the same lines are two fulfillments at the retailer.
    Shipments are pushed oldest first, so an unclaimed match is the one this shipment's interrupted attempt made."""
    for shipment in existing:
        if shipment.remote_id in claimed:
            continue
        if wanted.tracking_numbers and sorted(shipment.tracking_numbers) == sorted(wanted.tracking_numbers):
            return shipment.remote_id
        if not wanted.tracking_numbers and sorted(shipment.lines) == sorted(wanted.lines):
            return shipment.remote_id
    return None


def _record_unreportable(ctx, order: Order, fulfillment: Fulfillment) -> None:
    """A shipment of units the retailer removed from its order after the wholesaler shipped them: its store has no
    units left to fulfil, so it is settled here (never retried) and both sides are told, with the tracking."""
    fulfillment.pushed_at, fulfillment.push_error = now(), None
    tracking = ", ".join(fulfillment.tracking_numbers or []) or "no tracking"
    log_both(order, f"{order.retailer_order_name}: the wholesaler shipped units the retailer had removed from its "
                    f"order ({tracking}); not reported to the retailer's store", ctx.run.id)  # fmt: skip
    db.session.commit()


def _record_pushed(ctx, order: Order, fulfillment: Fulfillment, remote_id: str) -> None:
    fulfillment.retailer_remote_fulfillment_id, fulfillment.pushed_at, fulfillment.push_error = remote_id, now(), None
    ctx.log("edit", "fulfillment", fulfillment.id, f"{order.retailer_order_name}: tracking sent to the retailer",
            organization_id=order.wholesaler_id, partnership_id=order.partnership_id)  # fmt: skip
    db.session.flush()
    if order.status == "shipped" and all(f.pushed_at for f in order.fulfillments):
        order.status, order.completed_at = "completed", now()
    db.session.commit()


# ---------------------------------------------------------------- dry runs (no writes, no mutations)


def preview_pull(target, dry: DryRun) -> DryRun:
    """How many orders a pull would check for shipments (no remote call, no write)."""
    for order in db.session.execute(_awaiting(target.organization_id)).scalars():
        dry.change += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"check {order.retailer_order_name} for shipments and lines the wholesaler cancelled")
    dry.api_calls = dry.change * 2  # its shipments, then its state (cancelled, line quantities)
    dry.api_cost = dry.change * 10
    return dry


def preview_push(target, dry: DryRun) -> DryRun:
    """How many shipments and rejections a push would send to the retailer (no remote call, no write)."""
    for order in db.session.execute(_rejections_to_send(target.id)).scalars():
        dry.change += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"tell the retailer the wholesaler rejected lines of {order.retailer_order_name}")
    for fulfillment in db.session.execute(_unpushed(target.id)).scalars():
        dry.create += 1
        if len(dry.sample) < 10:
            numbers = ", ".join(fulfillment.tracking_numbers or []) or "no tracking"
            dry.sample.append(f"send shipment of {fulfillment.order.retailer_order_name} ({numbers})")
    dry.api_calls = dry.create * 3 + dry.change * 2
    dry.api_cost = dry.create * 22 + dry.change * 20
    return dry
