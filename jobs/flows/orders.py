"""Orders: retailer store -> hub (pull: incremental by updated_at, only this wholesaler's lines, one hub order per
retailer order and wholesaler) and hub -> wholesaler system of record (push: marked with our id, looked up first).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from integrations.base import AccessRevoked, OrderDraft, OutcomeUnknown, RemoteOrder
from jobs.context import RunContext
from jobs.flows.common import (
    advance_cursor,
    cursor_mark,
    cursor_since,
    now,
    partnerships_of,
    record_failed,
    record_synced,
)
from jobs.flows.order_changes import apply_retailer_edit, chain_cancellation
from jobs.flows.stock_events import stock_reserved
from jobs.preview import DryRun
from portal.extensions import db
from portal.models import Connection, Order, OrderLine, Partnership, Variant
from portal.services.orders import draft_details, in_hold_window, order_details_from
from portal.services.organizations import org_connection
from portal.services.platforms import retailer_store, system_of_record

STREAM = "orders"
FIRST_PULL_LOOKBACK = timedelta(days=1)  # the first pull reads from a day before the partnership began
PUSHABLE = ("received", "failed")
CLOCK_SKEW = timedelta(minutes=5)  # how far the store's clock may run behind ours when it stamps a created order


# ---------------------------------------------------------------- pull: retailer store -> hub


SKU_LOOKUP_CHUNK = 500


def _sku_owners(retailer_id: int, skus: set[str]) -> dict[str, tuple[Partnership, Variant]]:
    """Which partnership (and wholesaler variant) each of these SKUs belongs to, among this retailer's suppliers.

    Only the SKUs seen in the fetched orders are looked up: a big catalog does not slow an order down."""
    owners: dict[str, tuple[Partnership, Variant]] = {}
    wanted = sorted(s for s in skus if s)
    for partnership in partnerships_of(Partnership.retailer_id, retailer_id, "sync_orders_from_retailer"):
        for start in range(0, len(wanted), SKU_LOOKUP_CHUNK):
            variants = db.session.execute(
                select(Variant).where(
                    Variant.wholesaler_id == partnership.wholesaler_id, Variant.deleted_at.is_(None),
                    Variant.sku.in_(wanted[start : start + SKU_LOOKUP_CHUNK]),
                )
            ).scalars()  # fmt: skip
            for variant in variants:
                owners.setdefault(variant.sku, (partnership, variant))
    return owners


def _order_skus(remote_orders) -> set[str]:
    return {line.sku for remote in remote_orders for line in remote.lines}


def _first_since(retailer_id: int):
    starts = [p.accepted_at or p.created_at for p in partnerships_of(Partnership.retailer_id, retailer_id)]
    return min(starts) - FIRST_PULL_LOOKBACK if starts else None


def _repair_event_subscriptions(ctx: RunContext, conn, store) -> None:
    """A store whose order events are our own subscriptions (a WooCommerce shop's webhooks, which it disables after
    repeated failed deliveries) has them checked and repaired by the hourly pull; a failure never stops the pull."""
    ensure = getattr(store, "ensure_subscriptions", None)
    if ensure is None:
        return
    try:
        repaired = ensure()
    except Exception as exc:  # the pull goes on; the next hour tries again
        ctx.fail("event subscriptions", f"{type(exc).__name__}: {exc}")
        return
    if repaired:
        ctx.log("add", "connection", conn.id, f"event subscriptions restored: {', '.join(repaired)}",
                organization_id=conn.organization_id)  # fmt: skip


def pull(ctx: RunContext) -> None:
    """Fetch orders updated since the cursor (minus the overlap) and keep the lines of each wholesaler."""
    conn = ctx.target
    if not partnerships_of(Partnership.retailer_id, conn.organization_id, "sync_orders_from_retailer"):
        ctx.run.message = "This store has no active supplier with orders switched on."
        return
    store = retailer_store(conn, on_call=ctx.api_call)
    _repair_event_subscriptions(ctx, conn, store)
    since = cursor_since(conn.id, STREAM) or _first_since(conn.organization_id)
    remote_orders = list(store.orders(since))
    ctx.set_total(len(remote_orders))
    owners = _sku_owners(conn.organization_id, _order_skus(remote_orders))
    mark, new_for, released = None, set(), {}
    for remote in remote_orders:
        mark = max(mark, remote.updated_at) if mark else remote.updated_at
        try:
            outcome, wholesalers = _take_order(ctx, conn, remote, owners, released)
        except Exception as exc:  # one bad order must not stop the others; it is kept and retried
            db.session.rollback()
            record_failed(ctx, remote.remote_id, f"retailer order {remote.name}", f"{type(exc).__name__}: {exc}",
                          remote.updated_at)  # fmt: skip
            continue
        ctx.count(outcome)
        if outcome == "created":
            new_for |= wholesalers
    # Every order up to `mark` was committed above, except failed ones: the cursor stops at the oldest of those.
    advance_cursor(conn.id, STREAM, cursor_mark(ctx, mark))
    for wholesaler_id, _partnership_id in sorted(new_for):
        sor = org_connection(wholesaler_id, "system_of_record")
        if sor is not None:
            ctx.chain("orders.push", f"connection:{sor.id}")
        # The new order is now in flight: the stock shown to every retailer of that wholesaler drops at once.
        stock_reserved(wholesaler_id, _order_skus(remote_orders))
    for wholesaler_id, skus in sorted(released.items()):
        _offer_again(wholesaler_id, skus)  # in-flight orders cancelled or edited by the retailer


def _take_order(ctx, conn, remote: RemoteOrder, owners, released: dict[int, set]) -> tuple[str, set]:
    """Create or refresh the hub order of each wholesaler that has lines in this retailer order. The SKUs of an
    in-flight order the retailer cancelled or edited are added to `released` (by wholesaler): their offered
    level moves once this order's change is committed."""
    by_partnership: dict[int, list] = {}
    for line in remote.lines:
        owner = owners.get(line.sku)
        if owner is not None:
            by_partnership.setdefault(owner[0].id, []).append((line, owner))
    if not by_partnership:
        record_synced(ctx, remote.remote_id)
        db.session.commit()
        return "skipped", set()
    outcome, wholesalers = "unchanged", set()
    for partnership_id, lines in by_partnership.items():
        partnership = lines[0][1][0]
        order = db.session.execute(
            select(Order).where(Order.partnership_id == partnership_id, Order.remote_order_id == remote.remote_id)
        ).scalar_one_or_none()
        if order is None:
            order = _new_order(conn, partnership, remote, lines)
            ctx.log("add", "order", order.id, f"{remote.name}: {len(lines)} line(s) received from the retailer",
                    organization_id=partnership.wholesaler_id, partnership_id=partnership.id)  # fmt: skip
            outcome = "created"
            wholesalers.add((partnership.wholesaler_id, partnership.id))
        elif remote.cancelled_at and order.cancelled_at is None:
            order.cancelled_at, order.remote_updated_at = remote.cancelled_at, remote.updated_at
            if order.status in PUSHABLE:
                order.status = "cancelled"
                released.setdefault(order.wholesaler_id, set()).update(line.sku for line in order.lines)
            ctx.log("edit", "order", order.id, f"{remote.name}: cancelled by the retailer",
                    organization_id=partnership.wholesaler_id, partnership_id=partnership.id)  # fmt: skip
            chain_cancellation(ctx, order)
            outcome = "updated" if outcome != "created" else outcome
        elif order.cancelled_at is None and apply_retailer_edit(ctx, order, lines):
            outcome = "updated" if outcome != "created" else outcome
            if order.status in PUSHABLE:
                released.setdefault(order.wholesaler_id, set()).update(line.sku for line in order.lines)
        db.session.flush()
    record_synced(ctx, remote.remote_id)
    db.session.commit()  # every wholesaler's part of this retailer order, and its failure resolved, at once
    return outcome, wholesalers


def _new_order(conn, partnership: Partnership, remote: RemoteOrder, lines) -> Order:
    order = Order(
        wholesaler_id=partnership.wholesaler_id, retailer_id=partnership.retailer_id, partnership_id=partnership.id,
        retailer_connection_id=conn.id, remote_order_id=remote.remote_id, retailer_order_name=remote.name,
        currency=remote.currency, email=remote.email, customer_name=remote.customer_name,
        shipping_address=remote.shipping_address, status="received", placed_at=remote.created_at,
        remote_updated_at=remote.updated_at, cancelled_at=remote.cancelled_at,
    )  # fmt: skip
    order_details_from(order, remote)
    if remote.cancelled_at:
        order.status = "cancelled"
    db.session.add(order)
    db.session.flush()
    for line, (_p, variant) in lines:
        db.session.add(
            OrderLine(order_id=order.id, variant_id=variant.id, remote_line_id=line.remote_id, sku=line.sku,
                      title=line.title or variant.title, quantity=line.quantity,
                      wholesale_price=variant.wholesale_price)
        )  # fmt: skip
    db.session.flush()
    return order


# ---------------------------------------------------------------- push: hub -> wholesaler system of record


def _pushable(wholesaler_id: int):
    return (
        select(Order)
        .join(Partnership, Order.partnership_id == Partnership.id)
        .where(
            Order.wholesaler_id == wholesaler_id, Order.status.in_(PUSHABLE), Order.sor_remote_order_id.is_(None),
            Order.cancelled_at.is_(None), Partnership.sync_orders_to_wholesaler.is_(True),
        )
        .order_by(Order.id)
    )  # fmt: skip


def _held(order: Order) -> bool:
    """Still inside its partnership's hold window: the order waits (a cancellation meanwhile means it never goes)."""
    return in_hold_window(order, db.session.get(Partnership, order.partnership_id).hold_minutes)


def marker(order: Order) -> str:
    """Our id on the order in the system of record: how a retry finds an order an earlier attempt created."""
    return f"wholesync-order-{order.id}"


def push(ctx: RunContext) -> None:
    """Create each received order in the system of record exactly once; a failure stays on that order only."""
    conn = ctx.target
    orders = [o for o in db.session.execute(_pushable(conn.organization_id)).scalars() if not _held(o)]
    ctx.set_total(len(orders))
    if not orders:
        return
    sor = system_of_record(conn, on_call=ctx.api_call)
    released: set[str] = set()
    for order in orders:
        try:
            created = _made_before(sor, order)
            outcome = "unchanged" if created else "created"
            if created is None:
                created = _create_once(sor, order)
            _record_sent(ctx, order, created)
            record_synced(ctx, f"order:{order.id}")
            db.session.commit()
            released |= {line.sku for line in order.lines}
        except AccessRevoked:
            raise  # the store shut us out: no other order can go either, and the run ends failed saying why
        except Exception as exc:  # visible on the order and as a failed record; the others go on
            db.session.rollback()
            order.status, order.last_error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            db.session.commit()
            record_failed(ctx, f"order:{order.id}", f"order {order.retailer_order_name}", order.last_error)
            continue
        ctx.count("created" if outcome == "created" else "updated")
        _accept_request(ctx, order)
    _offer_again(conn.organization_id, released)


def _offer_again(wholesaler_id: int, skus: set[str]) -> None:
    """Orders that left the in-flight count (now in the system of record, or cancelled before they got there):
    every retailer's push of those SKUs is requested. The offered level moves whenever the system of record's
    stock was read after it took the order and before we recorded it (a late answer, a worker that died in
    between): the order was then counted twice. A level that did not move sends nothing."""
    if skus:
        stock_reserved(wholesaler_id, skus)


def _made_before(sor, order: Order):
    """The order as an earlier attempt created it, or None. Only an order tried before can be in the store (the
    attempt is committed before its create), so a first attempt costs no look-up; a retry looks for our marker
    among the orders created since its first attempt (less CLOCK_SKEW for the store's clock)."""
    if order.sor_attempted_at is None:
        return None
    return sor.find_order(marker(order), created_since=order.sor_attempted_at - CLOCK_SKEW)


def _create_once(sor, order: Order):
    """Create the order; when the answer is lost (the store may have committed it), look it up by our marker
    instead of sending the create again. Still not found: the error stands and the next run looks again first."""
    if order.sor_attempted_at is None:
        order.sor_attempted_at = now()
        db.session.commit()  # before the create: a retry after a death in between knows to look first
    try:
        return sor.create_order(_draft(order))
    except OutcomeUnknown:
        found = _made_before(sor, order)
        if found is None:
            raise
        return found


def _draft(order: Order) -> OrderDraft:
    lines = [
        {"sku": line.sku, "quantity": line.quantity - line.cancelled_quantity, "price": line.wholesale_price,
         "title": line.title, "variant_remote_id": db.session.get(Variant, line.variant_id).remote_id
         if line.variant_id else None}
        for line in order.lines
        if line.quantity - line.cancelled_quantity > 0  # a line the retailer removed before it was sent
    ]  # fmt: skip
    return OrderDraft(
        marker=marker(order), name=order.retailer_order_name, currency=order.currency, email=order.email,
        shipping_address=order.shipping_address, lines=lines,
        **draft_details(order, db.session.get(Partnership, order.partnership_id)),
    )  # fmt: skip


def _record_sent(ctx, order: Order, created) -> None:
    order.sor_remote_order_id, order.status = created.remote_id, "sent"
    order.sent_to_sor_at, order.last_error = now(), None
    for line in order.lines:
        line.sor_remote_line_id = created.line_ids_by_sku.get(line.sku)
    ctx.log("edit", "order", order.id, f"{order.retailer_order_name}: created in the system of record",
            organization_id=order.wholesaler_id, partnership_id=order.partnership_id)  # fmt: skip
    db.session.commit()


def _accept_request(ctx: RunContext, order: Order) -> None:
    """The order is in the wholesaler's system: accept the retailer's fulfillment request (retried before shipping)."""
    partnership = db.session.get(Partnership, order.partnership_id)
    store_conn = db.session.get(Connection, order.retailer_connection_id) if order.retailer_connection_id else None
    if store_conn is None or not partnership.placement:
        return
    try:
        retailer_store(store_conn, on_call=ctx.api_call).accept_fulfillment_requests(
            order.remote_order_id, partnership.placement
        )
    except Exception:  # order_updates.push accepts again before it ships
        return


# ---------------------------------------------------------------- dry runs (no writes, no mutations)


def preview_pull(target, dry: DryRun) -> DryRun:
    """How many retailer orders a pull would bring in (reads the store, writes nothing)."""
    since = cursor_since(target.id, STREAM) or _first_since(target.organization_id)
    known = set(
        db.session.execute(select(Order.remote_order_id).where(Order.retailer_connection_id == target.id)).scalars()
    )
    remote_orders = list(retailer_store(target).orders(since))
    owners = _sku_owners(target.organization_id, _order_skus(remote_orders))
    for remote in remote_orders:
        if not any(line.sku in owners for line in remote.lines) or remote.remote_id in known:
            dry.skip += 1
        else:
            dry.create += 1
            if len(dry.sample) < 10:
                dry.sample.append(f"receive {remote.name}")
    return dry


def preview_push(target, dry: DryRun) -> DryRun:
    """How many orders a push would create in the system of record (no remote call, no write)."""
    for order in db.session.execute(_pushable(target.organization_id)).scalars():
        if _held(order):
            dry.skip += 1
            continue
        dry.create += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"create {order.retailer_order_name} ({len(order.lines)} lines)")
    dry.api_calls = dry.create * 2
    dry.api_cost = dry.create * 20
    return dry
