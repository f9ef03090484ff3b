"""Webhook processing on the `webhooks` queue: one function per topic, run once per recorded receipt.

The endpoint has already verified and deduplicated the delivery; here the work is done and `processed_at` is set,
so an RQ retry of a receipt that already went through does nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import or_, select

from jobs import woocommerce_events
from jobs.flows import catalog_events, order_changes, stock_events
from jobs.flows.common import newer_delivery
from jobs.runtime import request_run
from portal.extensions import db
from portal.models import Order, WebhookReceipt, utcnow
from portal.services import connections

REDACTED = "[redacted]"


def process_receipt(receipt_id: int) -> dict:
    """Run the handler of the receipt's topic; returns what it did (kept on the receipt as `result`)."""
    receipt = db.session.get(WebhookReceipt, receipt_id)
    if receipt is None or receipt.processed_at is not None:
        return {"skipped": True}
    handler = HANDLERS.get(receipt.topic, _ignored)
    try:
        result = handler(receipt)
    except Exception as exc:
        db.session.rollback()
        receipt = db.session.get(WebhookReceipt, receipt_id)
        receipt.error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    receipt.result, receipt.processed_at, receipt.error = result, utcnow(), None
    db.session.commit()
    return result


def _ignored(receipt: WebhookReceipt) -> dict:
    return {"ignored": f"no handler for {receipt.topic!r}"}


def nothing_to_do(receipt: WebhookReceipt) -> dict | None:
    """What processing this receipt would record when it is known before any job that it acts on nothing; None
    when it needs its job. Only reads the database (the endpoint calls it before answering).

    The app's configuration subscribes every shop that installs the app to the orders topics, the wholesaler's
    store too: each order we create there comes back as an `orders/create` that only a retailer's store acts on
    (the chaos soak: 73 of 73 ignored, each a queued job). `orders/updated` from the wholesaler still acts (its
    shipments are pulled), so it keeps its job."""
    if receipt.topic not in HANDLERS:
        return _ignored(receipt)
    if receipt.topic in STORE_ONLY_TOPICS:
        conn = connections.store_connection(receipt.shop_domain or "")
        if conn is None or conn.status != "active":
            return {"ignored": f"no active store connection for {receipt.shop_domain}"}
    return None


def orders_changed(receipt: WebhookReceipt) -> dict:
    """orders/create, orders/updated: pull that store's orders now (the pull is incremental and idempotent).

    From a wholesaler's store the same topics mean one of the orders we sent changed (Shopify sends orders/updated
    after a fulfillment), so its shipments are pulled now instead of at the hourly order_updates.pull."""
    conn = connections.store_connection(receipt.shop_domain or "")
    if conn is None or conn.status != "active":
        sor = stock_events.sor_connection(receipt.shop_domain) if receipt.topic == "orders/updated" else None
        if sor is None:
            return {"ignored": f"no active store connection for {receipt.shop_domain}"}
        run = request_run("order_updates.pull", f"connection:{sor.id}", trigger="webhook")
        return {"sync_run_id": run.id}
    newer = newer_delivery(receipt, ("orders/create", "orders/updated"))
    if newer is not None:  # an older state delivered late: the newer delivery already asked for a pull
        return {"stale": f"receipt {newer.id} already carried a newer state of this order", "newer_receipt": newer.id}
    run = request_run("orders.pull", f"connection:{conn.id}", trigger="webhook")
    return {"sync_run_id": run.id}


def app_uninstalled(receipt: WebhookReceipt) -> dict:
    """Revoke (forget) the shop's tokens, mark its connections uninstalled, pause its partnerships."""
    payload = receipt.payload or {}
    shop = receipt.shop_domain or payload.get("myshopify_domain") or ""
    paused = connections.uninstall(shop)
    if not connections.shop_connections(shop) and payload.get("myshopify_domain"):
        # A custom domain in the header has been reported; fall back to the payload's myshopify domain.
        paused = connections.uninstall(payload["myshopify_domain"])
    return {"paused_partnerships": paused}


def scopes_updated(receipt: WebhookReceipt) -> dict:
    """app/scopes_update: record the scopes the merchant granted now."""
    current = (receipt.payload or {}).get("current") or []
    scopes = ",".join(current) if isinstance(current, list) else str(current)
    for conn in connections.shop_connections(receipt.shop_domain or ""):
        conn.scopes = scopes
    return {"scopes": scopes}


# --- Compliance (GDPR/CCPA) topics -------------------------------------------------------------------------------


def _order_ids(numeric_ids) -> set[str]:
    """Payload order ids are numeric; we store GIDs (and accept plain ids), so match both forms."""
    ids = set()
    for n in numeric_ids or []:
        ids |= {str(n), f"gid://shopify/Order/{n}"}
    return ids


def _customer_orders(shop: str, customer: dict, order_ids) -> list[Order]:
    conn_ids = [c.id for c in connections.shop_connections(shop)]
    if not conn_ids:
        return []
    match = []
    ids = _order_ids(order_ids)
    if ids:
        match.append(Order.remote_order_id.in_(ids))
    email = (customer or {}).get("email")
    if email:
        match.append(db.func.lower(Order.email) == email.lower())
    if not match:
        return []
    stmt = select(Order).where(Order.retailer_connection_id.in_(conn_ids), or_(*match)).order_by(Order.id)
    return list(db.session.execute(stmt).scalars())


def _export(order: Order) -> dict:
    return {
        "order": order.retailer_order_name or order.remote_order_id,
        "remote_order_id": order.remote_order_id,
        "email": order.email,
        "customer_name": order.customer_name,
        "shipping_address": order.shipping_address,
        "placed_at": order.placed_at.isoformat() if order.placed_at else None,
        "lines": [{"sku": ln.sku, "title": ln.title, "quantity": ln.quantity} for ln in order.lines],
        "tracking": [{"carrier": f.carrier, "numbers": f.tracking_numbers} for f in order.fulfillments],
    }


def _redact_order(order: Order) -> None:
    order.email = None
    order.customer_name = None
    order.shipping_address = None


def _mentions(payload, needles: set[str]) -> bool:
    text = json.dumps(payload, default=str).lower()
    return any(n and n.lower() in text for n in needles)


def _redact_receipts(shop: str, needles: set[str] | None, keep_id: int) -> int:
    """Drop stored webhook payloads of the shop that mention the customer (or all of them when needles is None)."""
    count = 0
    rows = db.session.execute(select(WebhookReceipt).where(WebhookReceipt.shop_domain == shop)).scalars()
    for r in rows:
        if r.id == keep_id or r.payload is None:
            continue
        if needles is None or _mentions(r.payload, needles):
            r.payload = {"redacted": True}
            if r.result is not None:
                r.result = {"redacted": True}
            count += 1
    return count


def _strip_customer(receipt: WebhookReceipt) -> None:
    """The compliance request itself carries the customer's email and phone; keep only ids once it is handled."""
    p = dict(receipt.payload or {})
    if isinstance(p.get("customer"), dict):
        p["customer"] = {"id": p["customer"].get("id"), "email": REDACTED, "phone": REDACTED}
    receipt.payload = p


def customers_data_request(receipt: WebhookReceipt) -> dict:
    """Export what we hold about the customer (their orders' names, addresses, emails, lines, tracking)."""
    p = receipt.payload or {}
    orders = _customer_orders(
        receipt.shop_domain or p.get("shop_domain", ""), p.get("customer"), p.get("orders_requested")
    )
    return {
        "data_request_id": (p.get("data_request") or {}).get("id"),
        "customer_id": (p.get("customer") or {}).get("id"),
        "orders": [_export(o) for o in orders],
    }


def customers_redact(receipt: WebhookReceipt) -> dict:
    """Erase the customer's personal data from our orders and from the webhook payloads we kept."""
    p = receipt.payload or {}
    shop = receipt.shop_domain or p.get("shop_domain", "")
    customer = p.get("customer") or {}
    orders = _customer_orders(shop, customer, p.get("orders_to_redact"))
    needles = {customer.get("email") or "", customer.get("phone") or ""}
    for o in orders:
        needles |= {o.email or "", o.customer_name or "", o.remote_order_id}
        _redact_order(o)
    needles |= _order_ids(p.get("orders_to_redact"))
    receipts = _redact_receipts(shop, {n for n in needles if n}, receipt.id)
    _strip_customer(receipt)
    return {"orders_redacted": [o.id for o in orders], "payloads_redacted": receipts}


def shop_redact(receipt: WebhookReceipt) -> dict:
    """48 h after uninstall: erase every customer's personal data we hold for the shop, and its tokens."""
    shop = receipt.shop_domain or (receipt.payload or {}).get("shop_domain", "")
    conns = connections.shop_connections(shop)
    orders = []
    if conns:
        orders = list(
            db.session.execute(select(Order).where(Order.retailer_connection_id.in_([c.id for c in conns]))).scalars()
        )
    for o in orders:
        _redact_order(o)
    for c in conns:
        c.access_token = c.refresh_token = None
    receipts = _redact_receipts(shop, None, receipt.id)
    return {"orders_redacted": len(orders), "payloads_redacted": receipts}


HANDLERS = {
    # The wholesaler's store only (its subscriptions are the only ones to these topics): deltas, not full passes.
    "inventory_levels/update": stock_events.inventory_level_changed,
    "products/create": catalog_events.product_changed,
    "products/update": catalog_events.product_changed,
    "products/delete": catalog_events.product_changed,
    "orders/create": orders_changed,
    "orders/updated": orders_changed,
    "orders/cancelled": order_changes.retailer_order_cancelled,
    "app/uninstalled": app_uninstalled,
    "app/scopes_update": scopes_updated,
    "customers/data_request": customers_data_request,
    "customers/redact": customers_redact,
    "shop/redact": shop_redact,
}
HANDLERS.update(woocommerce_events.HANDLERS)  # topics prefixed "woocommerce/": no clash with Shopify's
# Topics whose handlers act only for a retailer's active store connection (see nothing_to_do).
STORE_ONLY_TOPICS = ("orders/create", "orders/cancelled")
