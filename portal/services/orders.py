"""Orders for the dashboard: the filtered list (paginated in the database) and one order's timeline.

The two-hour promise runs from when the hub received the order to when it reached the system of record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select

from integrations.base import OrderShipping, RemoteOrder
from portal.extensions import db
from portal.models import ActivityLog, Fulfillment, Invoice, InvoiceLine, Order, OrderLine, Partnership
from portal.tenancy import current_org_id, scoped

PROMISE = timedelta(hours=2)
# Every status the order flows set; a fixed list keeps the filter menu from scanning the tenant's orders.
STATUSES = ("received", "sent", "partial", "shipped", "completed", "failed", "cancelled")
# Not yet in the system of record: what the two-hour promise is waiting for.
WAITING = ("received", "failed")
# Something has left the wholesaler's warehouse: a cancellation can no longer be carried out.
SHIPPED_STATUSES = ("partial", "shipped", "completed")


def cancel_note_for_retailer(why: str) -> str:
    """The sentence kept on an order whose cancellation could not be carried out, shown on both sides."""
    return f"The cancellation could not be passed on to the wholesaler: {why}."


# Why the wholesaler cannot fill lines, as the portal offers it: the first words of the reason kept on the order
# (the retailer's store gets the matching platform reason: out of stock, or other).
REJECTION_REASONS = {"inventory": "Out of stock", "other": "Cannot be filled"}


def rejection_code(order: Order) -> str:
    """The neutral reason sent to the retailer's store: `inventory` or `other`."""
    text = order.rejection_reason or ""
    return "inventory" if text.startswith(REJECTION_REASONS["inventory"]) else "other"


def rejectable(order: Order) -> dict[int, int]:
    """Units of each line the wholesaler may still reject: neither shipped nor cancelled already."""
    if order.status == "cancelled" or order.cancelled_at is not None:
        return {}
    return {line.id: line.quantity - line.cancelled_quantity - line.fulfilled_quantity for line in order.lines
            if line.quantity - line.cancelled_quantity - line.fulfilled_quantity > 0}  # fmt: skip


def record_rejection(order: Order, quantities: dict[int, int], reason: str) -> list[str]:
    """Lines (order line id -> units) the wholesaler will not fill, with the reason: the units are cancelled on our
    lines (never more than remains unshipped; billing never charges them, or credits them if already billed) and the
    retailer's store is to be told (`rejection_sent_at` cleared for order_updates.push). Returns what changed, as
    "SKU xn" phrases; nothing when nothing was left to reject. The caller commits and logs."""
    open_units = rejectable(order)
    changes = []
    for line in order.lines:
        take = min(int(quantities.get(line.id, 0) or 0), open_units.get(line.id, 0))
        if take <= 0:
            continue
        line.cancelled_quantity += take
        line.rejected_quantity += take
        changes.append(f"{line.sku} x{take}")
    if not changes:
        return []
    order.rejected_at, order.rejection_reason, order.rejection_sent_at = _now(), reason[:2000], None
    if _all_shipped(order) and not any(line.fulfilled_quantity for line in order.lines):
        order.status = "cancelled"
    else:
        settle_shipped_status(order)
    return changes


def settle_shipped_status(order: Order) -> None:
    """The status of an order that has started shipping, after its lines changed (a rejection, the retailer's edit):
    `shipped` once every unit left has shipped (`completed` when every shipment has reached the retailer), `partial`
    while units remain to ship (units the retailer added to a shipped order reopen it)."""
    if order.status not in SHIPPED_STATUSES and not (order.status == "sent" and _any_shipped(order)):
        return
    if not _all_shipped(order):
        order.status, order.completed_at = "partial", None
    elif order.status in ("sent", "partial"):
        order.status = "shipped"
        if order.fulfillments and all(f.pushed_at for f in order.fulfillments):
            order.status, order.completed_at = "completed", _now()


def _all_shipped(order: Order) -> bool:
    return all(line.fulfilled_quantity >= line.quantity - line.cancelled_quantity for line in order.lines)


def _any_shipped(order: Order) -> bool:
    return any(line.fulfilled_quantity for line in order.lines)


def returnable(order: Order) -> dict[int, int]:
    """Units of each line that shipped and have not been recorded as returned."""
    return {line.id: line.fulfilled_quantity - line.returned_quantity for line in order.lines
            if line.fulfilled_quantity > line.returned_quantity}  # fmt: skip


def record_return(order: Order, quantities: dict[int, int], note: str) -> list[str]:
    """The wholesaler records units that came back (never more than shipped and not yet returned); the partnership's
    policy decides whether billing credits them. Logged on both sides; the caller commits."""
    open_units = returnable(order)
    changes = []
    for line in order.lines:
        take = min(int(quantities.get(line.id, 0) or 0), open_units.get(line.id, 0))
        if take > 0:
            line.returned_quantity += take
            changes.append(f"{line.sku} x{take}")
    if changes:
        log_both(order, f"{order.retailer_order_name}: return recorded by the wholesaler ({', '.join(changes)})"
                        + (f": {note}" if note else ""))  # fmt: skip
    return changes


def events(order: Order) -> list[ActivityLog]:
    """What happened to the order, as this organization's activity log recorded it (oldest first)."""
    fulfillment_ids = [str(f.id) for f in order.fulfillments]
    about = (ActivityLog.record_type == "order") & (ActivityLog.record_id == str(order.id))
    if fulfillment_ids:
        about = about | ((ActivityLog.record_type == "fulfillment") & ActivityLog.record_id.in_(fulfillment_ids))
    query = scoped(ActivityLog).where(ActivityLog.organization_id == current_org_id(), about)
    return list(db.session.execute(query.order_by(ActivityLog.id).limit(200)).scalars())


def log_both(order: Order, summary: str, sync_run_id: int | None = None) -> None:
    """The wholesaler's activity log and the retailer's (what its embedded app shows) both get the event."""
    for org_id in (order.wholesaler_id, order.retailer_id):
        db.session.add(ActivityLog(organization_id=org_id, partnership_id=order.partnership_id, sync_run_id=sync_run_id,
                                   action="edit", record_type="order", record_id=str(order.id),
                                   summary=summary[:1000]))  # fmt: skip


def hold_ends_at(order: Order, hold_minutes: int) -> datetime:
    """When an order received under a partnership's hold window may go to the wholesaler."""
    return order.received_at + timedelta(minutes=hold_minutes or 0)


def in_hold_window(order: Order, hold_minutes: int, at: datetime | None = None) -> bool:
    """Whether the order is still held back (a cancellation within the window means it never reaches the
    wholesaler); a hold of 0 minutes never holds."""
    return bool(hold_minutes) and (at or _now()) < hold_ends_at(order, hold_minutes)


def order_details_from(order: Order, remote: RemoteOrder) -> None:
    """Keep what the wholesaler needs to fulfil the order: phone, note, checkout attributes, shipping chosen."""
    order.phone = (remote.phone or "")[:64] or None
    order.note = remote.note or None
    order.note_attributes = [{"key": a["key"], "value": a.get("value")} for a in remote.attributes] or None
    if remote.shipping is not None:
        order.shipping_method = remote.shipping.title[:255]
        order.shipping_code = (remote.shipping.code or "")[:255] or None
        order.shipping_amount = remote.shipping.price


def draft_details(order: Order, partnership: Partnership) -> dict:
    """The OrderDraft fields that carry those details to the wholesaler; the shipping charged is passed on only
    when the partnership's terms bill shipping (otherwise the method goes with a zero price)."""
    note = f"Retailer order {order.retailer_order_name} via Wholesync"
    if order.note:
        note += f"\nCustomer note: {order.note}"
    shipping = None
    if order.shipping_method:
        price = order.shipping_amount if partnership.bill_shipping else Decimal("0")
        shipping = OrderShipping(title=order.shipping_method, code=order.shipping_code, price=price or Decimal("0"))
    return {"note": note, "phone": order.phone, "attributes": list(order.note_attributes or []), "shipping": shipping}


def details(order: Order) -> list[tuple[str, str]]:
    """What the order timeline page shows for fulfilling it, as (label, value) pairs, empty ones left out."""
    shipping = order.shipping_method
    if shipping and order.shipping_amount:
        shipping = f"{shipping} ({order.shipping_amount:.2f} {order.currency} charged)"
    pairs = [
        ("Retailer's order (packing slip)", order.retailer_order_name),
        ("Shipping method", shipping),
        ("Customer", order.customer_name),
        ("Phone", order.phone),
        ("E-mail", order.email),
        ("Order note", order.note),
    ]
    pairs += [(a["key"], a.get("value")) for a in order.note_attributes or []]
    return [(label, str(value)) for label, value in pairs if value]


def list_query(args: dict) -> Select:
    """The organization's orders, newest first, narrowed by the filters in `args` (status, q, stuck)."""
    org_id = current_org_id()
    # A wholesaler's orders are those it supplies; a retailer's those it placed. Narrowing to one column lets the
    # database walk that column's index. Ids grow as orders arrive, so id order is arrival order, and the index on
    # the tenant column already holds ids in order: the newest page needs no sort of the tenant's orders.
    side = Order.wholesaler_id if _is_wholesaler(org_id) else Order.retailer_id
    query = scoped(Order).where(side == org_id).order_by(Order.id.desc())
    if args.get("status") in STATUSES:
        query = query.where(Order.status == args["status"])
    if args.get("q"):
        query = query.where(Order.retailer_order_name == args["q"].strip())
    if args.get("stuck"):
        query = query.where(Order.status.in_(WAITING), Order.received_at < _now() - PROMISE)
    return query


def _is_wholesaler(org_id: int) -> bool:
    from portal.models import Organization

    org = db.session.get(Organization, org_id)
    return org is not None and org.kind == "wholesaler"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Step:
    """One step of an order's journey; `at` is None until it happens."""

    label: str
    at: datetime | None


@dataclass
class Promise:
    """Where the order stands against the two-hour promise."""

    deadline: datetime
    met_at: datetime | None
    minutes_left: int | None  # while still open
    late_minutes: int | None  # when it reached the system of record late, or is overdue now

    @property
    def stuck(self) -> bool:
        return self.met_at is None and (self.late_minutes or 0) > 0


def timeline(order: Order) -> list[Step]:
    """placed -> hub -> system of record -> shipped -> tracking at retailer -> invoiced."""
    shipped = [f.shipped_at for f in order.fulfillments if f.shipped_at]
    pushed = [f.pushed_at for f in order.fulfillments if f.pushed_at]
    steps = [
        Step("Placed at the retailer's store", order.placed_at),
        Step("Received by Wholesync", order.received_at),
        Step("In the wholesaler's system of record", order.sent_to_sor_at),
    ]
    if order.cancelled_at is not None:
        # A cancelled order's journey ends with the cancellation on both sides (or the reason it could not be).
        steps.append(Step("Cancelled by the retailer", order.cancelled_at))
        if order.sent_to_sor_at is not None:
            steps.append(Step("Cancelled in the wholesaler's system of record", order.sor_cancelled_at))
        if order.change_note is None:
            return steps  # nothing more will happen to it; a refused cancellation goes on to ship
    if order.rejected_at is not None:
        units = sum(line.rejected_quantity for line in order.lines)
        steps.append(Step(f"{units} unit(s) rejected by the wholesaler: {order.rejection_reason}", order.rejected_at))
        steps.append(Step("Rejection sent to the retailer's store", order.rejection_sent_at))
        if order.status == "cancelled":
            return steps  # nothing of it will ship
    steps.extend([
        Step("Shipped", order.shipped_at or (min(shipped) if shipped else None)),
        Step("Tracking sent to the retailer's store", min(pushed) if pushed else None),
        Step("Invoiced", invoiced_at(order)),
    ])  # fmt: skip
    return steps


def invoiced_at(order: Order) -> datetime | None:
    """When the first invoice charging any of the order's lines (or its shipping) was made, or None."""
    first = db.session.execute(
        select(func.min(Invoice.created_at))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .join(OrderLine, OrderLine.id == InvoiceLine.order_line_id)
        .where(OrderLine.order_id == order.id, InvoiceLine.kind == "charge")
    ).scalar()
    return min((t for t in (first, order.billed_at) if t is not None), default=None)


def promise(order: Order, now: datetime | None = None) -> Promise:
    """Minutes left of the two-hour promise, or how late the order was / is."""
    now = now or _now()
    deadline = order.received_at + PROMISE
    if order.sent_to_sor_at:
        late = int((order.sent_to_sor_at - deadline).total_seconds() // 60)
        return Promise(deadline, order.sent_to_sor_at, None, late if late > 0 else None)
    if order.cancelled_at:
        return Promise(deadline, order.cancelled_at, None, None)
    left = (deadline - now).total_seconds() / 60
    return Promise(deadline, None, int(left) if left > 0 else None, int(-left) if left <= 0 else None)


def fulfillments(order: Order) -> list[Fulfillment]:
    """The order's shipments, oldest first."""
    return list(order.fulfillments)


def count_stuck() -> int:
    """Orders of this organization past the promise and not yet in the system of record."""
    query = list_query({"stuck": "1"}).order_by(None).with_only_columns(func.count(Order.id))
    return db.session.execute(query).scalar_one()
