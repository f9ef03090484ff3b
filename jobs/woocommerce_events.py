"""What a WooCommerce webhook starts: orders at a retailer pull that store's orders; product and stock changes at a
wholesaler pull its catalog and stock; an order change at a wholesaler looks for shipments. Each is a coalescing
run request, so a burst of deliveries costs one pull; the scheduled pulls remain the reconciliation.
"""

from __future__ import annotations

from jobs.runtime import request_run
from portal.extensions import db
from portal.models import Connection, WebhookReceipt

SOURCE = "woocommerce"
TOPIC_PREFIX = "woocommerce/"


def _connection(receipt: WebhookReceipt) -> Connection | None:
    try:
        conn_id = int((receipt.shop_domain or "").rpartition(":")[2])
    except ValueError:
        return None
    conn = db.session.get(Connection, conn_id)
    return conn if conn is not None and conn.platform == "woocommerce" and conn.status == "active" else None


def order_changed(receipt: WebhookReceipt) -> dict:
    """order.created / order.updated: a retailer's store pulls its orders; a wholesaler's shop its shipments."""
    conn = _connection(receipt)
    if conn is None:
        return {"ignored": "no active WooCommerce connection"}
    job = "orders.pull" if conn.role == "store" else "order_updates.pull"
    return {"sync_run_id": request_run(job, f"connection:{conn.id}", trigger="webhook").id}


def product_changed(receipt: WebhookReceipt) -> dict:
    """product.* (variations and stock edits included) at a wholesaler: pull the changed products and the stock."""
    conn = _connection(receipt)
    if conn is None or conn.role != "system_of_record":
        return {"ignored": "not a wholesaler's WooCommerce shop"}
    runs = [
        request_run(job, f"connection:{conn.id}", trigger="webhook").id for job in ("products.pull", "inventory.pull")
    ]
    return {"sync_run_ids": runs}


HANDLERS = {
    f"{TOPIC_PREFIX}order.created": order_changed,
    f"{TOPIC_PREFIX}order.updated": order_changed,
    f"{TOPIC_PREFIX}product.created": product_changed,
    f"{TOPIC_PREFIX}product.updated": product_changed,
    f"{TOPIC_PREFIX}product.deleted": product_changed,
}
