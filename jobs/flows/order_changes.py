"""Changes to orders after they were received: a retailer's cancellation carried into the wholesaler's system of
record (restocked there), or the reason it could not be (already shipped) told to both sides.

The retailer's `orders/cancelled` webhook (or the next orders.pull) marks the hub order cancelled; an order not yet
sent never reaches the wholesaler, one already sent is cancelled there by `order_changes.push`.
"""

from __future__ import annotations

from sqlalchemy import select

from integrations.base import ChangeRefused
from jobs.context import RunContext
from jobs.flows.common import now
from jobs.preview import DryRun
from jobs.runtime import request_run
from portal.extensions import db
from portal.models import Order, Partnership, WebhookReceipt
from portal.services import connections
from portal.services.orders import SHIPPED_STATUSES, cancel_note_for_retailer
from portal.services.organizations import org_connection
from portal.services.platforms import system_of_record

NOT_YET_SENT = ("received", "failed")
CANCEL_REASONS = ("customer", "declined", "fraud", "inventory", "other", "staff")


def _to_cancel(wholesaler_id: int):
    """Orders cancelled at the retailer, already in the system of record, whose cancellation is not settled yet."""
    return (
        select(Order)
        .join(Partnership, Order.partnership_id == Partnership.id)
        .where(
            Order.wholesaler_id == wholesaler_id, Order.cancelled_at.is_not(None),
            Order.sor_remote_order_id.is_not(None), Order.sor_cancelled_at.is_(None), Order.change_note.is_(None),
            Partnership.sync_orders_to_wholesaler.is_(True),
        )
        .order_by(Order.id)
    )  # fmt: skip


def push(ctx: RunContext) -> None:
    """Cancel in the system of record each order the retailer cancelled; a shipped one is refused with the reason."""
    conn = ctx.target
    orders = list(db.session.execute(_to_cancel(conn.organization_id)).scalars())
    ctx.set_total(len(orders))
    if not orders:
        return
    sor = system_of_record(conn, on_call=ctx.api_call)
    for order in orders:
        try:
            outcome = _cancel_one(ctx, sor, order)
        except Exception as exc:  # a transport failure: kept on the order, tried again by the next run
            db.session.rollback()
            order.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            db.session.commit()
            ctx.fail(f"order {order.retailer_order_name}", order.last_error)
            continue
        ctx.count(outcome)
        db.session.commit()


def _cancel_one(ctx: RunContext, sor, order: Order) -> str:
    if order.status in SHIPPED_STATUSES or any(line.fulfilled_quantity for line in order.lines):
        return _refused(ctx, order, "it has already shipped from the wholesaler")
    if not hasattr(sor, "cancel_order"):
        return _refused(ctx, order, "the wholesaler's system cannot cancel orders from Wholesync")
    note = f"Cancelled by the retailer ({order.retailer_order_name}) via Wholesync"
    try:
        done = sor.cancel_order(order.sor_remote_order_id, "customer", note)
    except ChangeRefused as exc:
        return _refused(ctx, order, f"the wholesaler's system refused: {exc}")
    if not done:
        return "unchanged"  # the platform is still cancelling; the next run looks again
    order.sor_cancelled_at, order.status, order.last_error = now(), "cancelled", None
    for line in order.lines:
        line.cancelled_quantity = line.quantity - line.fulfilled_quantity
    _log_both(ctx, order, f"{order.retailer_order_name}: cancelled in the wholesaler's system of record (restocked)")
    return "updated"


def _refused(ctx: RunContext, order: Order, why: str) -> str:
    order.change_note = cancel_note_for_retailer(why)
    _log_both(ctx, order, f"{order.retailer_order_name}: cancellation not carried out: {why}")
    return "skipped"


def _log_both(ctx: RunContext, order: Order, summary: str) -> None:
    """The wholesaler's activity and the retailer's (what its embedded app shows) both get the event."""
    for org_id in (order.wholesaler_id, order.retailer_id):
        ctx.log("edit", "order", order.id, summary, organization_id=org_id, partnership_id=order.partnership_id)


def preview_push(target, dry: DryRun) -> DryRun:
    """Which sent orders a run would cancel in the system of record (no remote call, no write)."""
    for order in db.session.execute(_to_cancel(target.organization_id)).scalars():
        if order.status in SHIPPED_STATUSES:
            dry.skip += 1
            continue
        dry.update += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"cancel {order.retailer_order_name} in the system of record")
    dry.api_calls = dry.update
    return dry


# ---------------------------------------------------------------- webhooks from a retailer's store


def retailer_order_cancelled(receipt: WebhookReceipt) -> dict:
    """`orders/cancelled` from a retailer's store: mark our orders for it cancelled at once (an order not yet sent
    is never sent) and ask for `order_changes.push` for each wholesaler that already has it."""
    conn = connections.store_connection(receipt.shop_domain or "")
    payload = receipt.payload or {}
    remote_id = payload.get("admin_graphql_api_id") or (f"gid://shopify/Order/{payload['id']}" if payload.get("id")
                                                         else None)  # fmt: skip
    if conn is None or conn.status != "active" or not remote_id:
        return {"ignored": f"no active store connection or order for {receipt.shop_domain}"}
    orders = list(
        db.session.execute(
            select(Order).where(Order.retailer_connection_id == conn.id, Order.remote_order_id == remote_id)
        ).scalars()
    )
    cancelled_at = now()
    runs, marked = [], []
    for order in orders:
        if order.cancelled_at is None:
            order.cancelled_at = cancelled_at
            if order.status in NOT_YET_SENT:
                order.status = "cancelled"
            marked.append(order.id)
        if order.sor_remote_order_id and order.sor_cancelled_at is None and order.change_note is None:
            sor = org_connection(order.wholesaler_id, "system_of_record")
            if sor is not None:
                runs.append(f"connection:{sor.id}")
    db.session.commit()
    started = [request_run("order_changes.push", key, trigger="webhook").id for key in sorted(set(runs))]
    return {"cancelled_orders": marked, "sync_run_ids": started}


def chain_cancellation(ctx: RunContext, order: Order) -> None:
    """Called by orders.pull when it sees a cancellation: carry it into the system of record right after."""
    if order.sor_remote_order_id and order.sor_cancelled_at is None:
        sor = org_connection(order.wholesaler_id, "system_of_record")
        if sor is not None:
            ctx.chain("order_changes.push", f"connection:{sor.id}")
