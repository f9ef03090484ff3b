"""Changes to orders after they were received: a retailer's cancellation or edit carried into the wholesaler's
system of record (restocked there), or the reason it could not be (already shipped) told to both sides.

The retailer's `orders/cancelled` webhook (or the next orders.pull) marks the hub order cancelled; an order not yet
sent never reaches the wholesaler, one already sent is cancelled there by `order_changes.push`. An edit (quantities
changed, lines added or removed; read by orders.pull, which an `orders/edited` webhook starts) changes our lines; an
order already sent is edited there by the same push (`orderEdit*` on Shopify).
"""

from __future__ import annotations

from sqlalchemy import select

from integrations.base import ChangeRefused, OrderState
from jobs.context import RunContext
from jobs.flows.common import now
from jobs.flows.stock_events import stock_reserved
from jobs.preview import DryRun
from jobs.runtime import request_run
from portal.extensions import db
from portal.models import Order, OrderLine, Partnership, Variant, WebhookReceipt
from portal.services import connections
from portal.services.orders import (
    SHIPPED_STATUSES,
    cancel_note_for_retailer,
    log_both,
    record_rejection,
    rejection_code,
    settle_shipped_status,
)
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


def _to_edit(wholesaler_id: int):
    """Orders edited at the retailer after they reached the system of record, not cancelled since."""
    return (
        select(Order)
        .join(Partnership, Order.partnership_id == Partnership.id)
        .where(
            Order.wholesaler_id == wholesaler_id, Order.edit_pending.is_(True), Order.cancelled_at.is_(None),
            Order.sor_remote_order_id.is_not(None), Partnership.sync_orders_to_wholesaler.is_(True),
        )
        .order_by(Order.id)
    )  # fmt: skip


def push(ctx: RunContext) -> None:
    """Cancel in the system of record each order the retailer cancelled, and apply each edit; a shipped order is
    refused with the reason."""
    conn = ctx.target
    work = [(o, _cancel_one) for o in db.session.execute(_to_cancel(conn.organization_id)).scalars()]
    work += [(o, _edit_one) for o in db.session.execute(_to_edit(conn.organization_id)).scalars()]
    ctx.set_total(len(work))
    if not work:
        return
    sor = system_of_record(conn, on_call=ctx.api_call)
    for order, change in work:
        try:
            outcome = change(ctx, sor, order)
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
        if not _already_cancelled(sor, order):
            return _refused(ctx, order, f"the wholesaler's system refused: {exc}")
        done = True  # an earlier attempt cancelled it and died before recording it (or the wholesaler did)
    if not done:
        return "unchanged"  # the platform is still cancelling; the next run looks again
    order.sor_cancelled_at, order.status, order.last_error = now(), "cancelled", None
    for line in order.lines:
        line.cancelled_quantity = line.quantity - line.fulfilled_quantity
    ctx.chain("order_updates.push", f"partnership:{order.partnership_id}")  # answers a cancellation request
    log_both(
        order, f"{order.retailer_order_name}: cancelled in the wholesaler's system of record (restocked)", ctx.run.id
    )
    return "updated"


def _edit_one(ctx: RunContext, sor, order: Order) -> str:
    """Set every line's quantity in the system of record to ours (0 removes) and add the lines it lacks."""
    if order.rejected_at is not None and order.status == "cancelled":
        return _cancel_rejected(ctx, sor, order)  # the wholesaler rejected every line from the order page
    if not hasattr(sor, "edit_order"):
        order.edit_pending = False
        log_both(order, f"{order.retailer_order_name}: edit not carried out: the wholesaler's system cannot "
                        "edit orders from Wholesync", ctx.run.id)  # fmt: skip
        return "skipped"
    quantities = {line.sor_remote_line_id: line.quantity - line.cancelled_quantity
                  for line in order.lines if line.sor_remote_line_id}  # fmt: skip
    additions, added_lines = [], []
    for line in order.lines:
        if not line.sor_remote_line_id and line.quantity - line.cancelled_quantity > 0:
            variant = db.session.get(Variant, line.variant_id) if line.variant_id else None
            if variant is None or not variant.remote_id:
                continue
            additions.append((variant.remote_id, line.quantity - line.cancelled_quantity))
            added_lines.append(line)
    note = f"Edited by the retailer ({order.retailer_order_name}) via Wholesync"
    if order.rejected_at is not None:
        note = f"Lines rejected by the wholesaler ({order.retailer_order_name}) via Wholesync"
    try:
        edited = sor.edit_order(order.sor_remote_order_id, quantities, additions, note)
    except ChangeRefused as exc:
        order.edit_pending = False
        log_both(order, f"{order.retailer_order_name}: edit not carried out: the wholesaler's system "
                        f"refused: {exc}", ctx.run.id)  # fmt: skip
        return "skipped"
    for line in added_lines:
        line.sor_remote_line_id = edited.line_ids_by_sku.get(line.sku)
    order.edit_pending, order.last_error = False, None
    log_both(order, f"{order.retailer_order_name}: edit applied in the wholesaler's system of record", ctx.run.id)
    return "updated"


def _cancel_rejected(ctx: RunContext, sor, order: Order) -> str:
    """Every line was rejected from the portal: cancel the order in the system of record (restocked there)."""
    order.edit_pending = False
    if not hasattr(sor, "cancel_order"):
        log_both(order, f"{order.retailer_order_name}: the wholesaler's system cannot cancel orders from "
                        "Wholesync; cancel it there by hand", ctx.run.id)  # fmt: skip
        return "skipped"
    note = f"Rejected by the wholesaler ({order.retailer_order_name}) via Wholesync: {order.rejection_reason}"
    try:
        done = sor.cancel_order(order.sor_remote_order_id, rejection_code(order), note)
    except ChangeRefused as exc:
        log_both(order, f"{order.retailer_order_name}: not cancelled in the wholesaler's system: {exc}", ctx.run.id)
        return "skipped"
    if not done:
        order.edit_pending = True  # the platform is still cancelling; the next run looks again
        return "unchanged"
    order.sor_cancelled_at, order.last_error = now(), None
    log_both(
        order, f"{order.retailer_order_name}: cancelled in the wholesaler's system of record (restocked)", ctx.run.id
    )
    return "updated"


def apply_retailer_edit(ctx: RunContext, order: Order, lines) -> bool:
    """Called by orders.pull for an order it already has: take the retailer's current quantities (0 = removed)
    and new lines of this wholesaler's SKUs onto our lines; an order already sent is marked for `push` to edit
    there. Units that have shipped from the wholesaler stay on their line (a partly shipped order's other units are
    edited as usual; the retailer removed shipped units only when the edit crossed the shipment, and the shipment's
    push tells both sides of those). `lines` are (remote line, (partnership, variant)) pairs of this wholesaler.
    Returns whether anything changed."""
    by_remote = {line.remote_line_id: line for line in order.lines}
    returned = _take_returns(ctx, order, lines, by_remote)
    changes, new_lines = [], []
    for remote_line, (_partnership, variant) in lines:
        line = by_remote.get(remote_line.remote_id)
        if line is None:
            if remote_line.quantity > 0:
                new_lines.append((remote_line, variant))
                changes.append(f"{remote_line.sku} added ({remote_line.quantity})")
            continue
        # The retailer's count: returns left its current quantity, our rejections never entered it; never below
        # what has shipped.
        theirs = max(remote_line.quantity + remote_line.returned, line.fulfilled_quantity)
        if theirs != line.quantity - _retailer_cancelled(line):
            changes.append(f"{line.sku} {line.quantity - _retailer_cancelled(line)} → {theirs}")
            line.quantity = theirs + _retailer_cancelled(line)
    if not changes:
        return returned
    for remote_line, variant in new_lines:
        db.session.add(OrderLine(order_id=order.id, variant_id=variant.id, remote_line_id=remote_line.remote_id,
                                 sku=remote_line.sku, title=remote_line.title or variant.title,
                                 quantity=remote_line.quantity, wholesale_price=variant.wholesale_price))  # fmt: skip
    order.updated_at = now()  # an edit restocks or takes the retailer's stock even where only lines changed
    if order.sor_remote_order_id:
        order.edit_pending = True
        sor = org_connection(order.wholesaler_id, "system_of_record")
        if sor is not None:
            ctx.chain("order_changes.push", f"connection:{sor.id}")
    log_both(order, f"{order.retailer_order_name}: edited by the retailer ({', '.join(changes)})", ctx.run.id)
    db.session.flush()
    db.session.refresh(order)  # the new lines join order.lines
    settle_shipped_status(order)
    return True


def _retailer_cancelled(line: OrderLine) -> int:
    """Units of the line cancelled at the retailer's request (the rest of cancelled_quantity is the wholesaler's)."""
    return line.cancelled_quantity - line.rejected_quantity


def _take_returns(ctx: RunContext, order: Order, lines, by_remote: dict) -> bool:
    """Shipped units the retailer refunded as returns in its store, recorded once on our lines (the store's count is
    a floor: a return the wholesaler already recorded by hand is the same return, not a second one)."""
    taken = []
    for remote_line, _owner in lines:
        line = by_remote.get(remote_line.remote_id)
        if line is None:
            continue
        now_returned = min(remote_line.returned, line.fulfilled_quantity)
        if now_returned > line.returned_quantity:
            taken.append(f"{line.sku} x{now_returned - line.returned_quantity}")
            line.returned_quantity = now_returned
    if taken:
        log_both(order, f"{order.retailer_order_name}: returned at the retailer ({', '.join(taken)})", ctx.run.id)
    return bool(taken)


def _already_cancelled(sor, order: Order) -> bool:
    """Whether the system of record's copy is cancelled already. A refusal to cancel it again is then the cancel
    done: refusing the retailer's request would leave its order kept and the wholesaler's copy cancelled (the
    soak: an attempt whose orderCancel committed, then a PostgreSQL restart before the hub recorded it)."""
    state = sor.order_state(order.sor_remote_order_id) if hasattr(sor, "order_state") else None
    return state is not None and state.cancelled


def _refused(ctx: RunContext, order: Order, why: str) -> str:
    order.change_note = cancel_note_for_retailer(why)
    ctx.chain("order_updates.push", f"partnership:{order.partnership_id}")  # refuses a cancellation request
    log_both(order, f"{order.retailer_order_name}: cancellation not carried out: {why}", ctx.run.id)
    return "skipped"


def preview_push(target, dry: DryRun) -> DryRun:
    """Which sent orders a run would cancel or edit in the system of record (no remote call, no write)."""
    for order in db.session.execute(_to_edit(target.organization_id)).scalars():
        dry.change += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"edit {order.retailer_order_name} in the system of record")
    for order in db.session.execute(_to_cancel(target.organization_id)).scalars():
        if order.status in SHIPPED_STATUSES:
            dry.skip += 1
            continue
        dry.change += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"cancel {order.retailer_order_name} in the system of record")
    dry.api_calls = dry.change
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
    runs, marked, released = [], [], {}
    for order in orders:
        if order.cancelled_at is None:
            order.cancelled_at = cancelled_at
            if order.status in NOT_YET_SENT:
                order.status = "cancelled"
                released.setdefault(order.wholesaler_id, set()).update(line.sku for line in order.lines)
            marked.append(order.id)
        if order.sor_remote_order_id and order.sor_cancelled_at is None and order.change_note is None:
            sor = org_connection(order.wholesaler_id, "system_of_record")
            if sor is not None:
                runs.append(f"connection:{sor.id}")
    db.session.commit()
    for wholesaler_id, skus in sorted(released.items()):
        stock_reserved(wholesaler_id, skus)  # no longer in flight: every retailer is offered its units again
    started = [request_run("order_changes.push", key, trigger="webhook").id for key in sorted(set(runs))]
    return {"cancelled_orders": marked, "sync_run_ids": started}


def chain_cancellation(ctx: RunContext, order: Order) -> None:
    """Called by orders.pull when it sees a cancellation: carry it into the system of record right after."""
    if order.sor_remote_order_id and order.sor_cancelled_at is None:
        sor = org_connection(order.wholesaler_id, "system_of_record")
        if sor is not None:
            ctx.chain("order_changes.push", f"connection:{sor.id}")


# ---------------------------------------------------------------- the wholesaler cancels or removes lines


def wholesaler_changes(ctx: RunContext, order: Order, state: OrderState | None) -> bool:
    """Called by order_updates.pull for an order we sent: units the wholesaler cancelled in its system of record
    (the whole order, or line quantities lowered below ours) are rejected lines; the retailer's store is then told by
    order_updates.push, with the reason. Orders with a change of ours still on the way (a retailer's cancellation or
    edit) are left alone: that change explains the difference. Returns whether anything was rejected."""
    if state is None or order.cancelled_at is not None or order.edit_pending or order.status == "cancelled":
        return False
    quantities = {}
    for line in order.lines:
        if not line.sor_remote_line_id:
            continue
        if state.cancelled:
            gone = line.quantity - line.cancelled_quantity
        elif line.sor_remote_line_id in state.line_quantities:
            gone = line.quantity - line.cancelled_quantity - state.line_quantities[line.sor_remote_line_id]
        else:
            continue
        if gone > 0:
            quantities[line.id] = gone
    if not quantities:
        return False
    what = "cancelled the order" if state.cancelled else "removed lines"
    reason = "Out of stock" if state.reason == "inventory" else "Cannot be filled"
    text = f"{reason}: the wholesaler {what} in its system of record" + (
        f" (reason: {state.reason})" if state.reason else ""
    )
    changes = record_rejection(order, quantities, text)
    if not changes:
        return False
    if state.cancelled:
        order.sor_cancelled_at = order.sor_cancelled_at or now()
    log_both(
        order, f"{order.retailer_order_name}: rejected by the wholesaler ({', '.join(changes)}): {text}", ctx.run.id
    )
    ctx.chain("order_updates.push", f"partnership:{order.partnership_id}")
    stock_reserved(order.wholesaler_id, {line.sku for line in order.lines if line.id in quantities})
    db.session.commit()
    return True


def reject_from_portal(order: Order, quantities: dict[int, int], reason: str) -> list[str]:
    """The wholesaler rejects lines it cannot fill from the order page: the units are cancelled on our lines (an
    order not yet sent goes without them; one already sent is edited, or cancelled when nothing is left, in the
    system of record by order_changes.push, which restocks them there), every retailer's stock is re-pushed, and
    the retailer's store is told with the reason by order_updates.push. Returns what changed ([] when nothing)."""
    changes = record_rejection(order, quantities, reason)
    if not changes:
        return []
    runs = [("order_updates.push", f"partnership:{order.partnership_id}")]
    if order.sor_remote_order_id:
        order.edit_pending = True
        sor = org_connection(order.wholesaler_id, "system_of_record")
        if sor is not None:
            runs.append(("order_changes.push", f"connection:{sor.id}"))
    log_both(order, f"{order.retailer_order_name}: rejected by the wholesaler ({', '.join(changes)}): {reason}")
    db.session.commit()
    stock_reserved(order.wholesaler_id, {line.sku for line in order.lines if line.id in quantities})
    for job, target in runs:
        request_run(job, target, trigger="manual")
    return changes
