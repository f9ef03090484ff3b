"""Lines a wholesaler cannot fill, toward a WooCommerce retailer and from a WooCommerce wholesaler: the retailer's
order is cancelled when nothing of it will come (a private note with the reason otherwise), once; a wholesaler's
WooCommerce order set to `cancelled` is read as its rejection of every line."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from fakes.shopify.resolvers.order_changes import cancel_order
from integrations.woocommerce.client import WooClient
from jobs.flows.order_changes import reject_from_portal
from portal.extensions import db
from portal.models import Order
from tests.woocommerce.test_shopify_to_woo import RT, WS, _place_woo_order


def test_an_order_the_shopify_wholesaler_cancels_cancels_the_woocommerce_retailers_order_with_the_reason(
    shopify_to_woo,
):
    world = shopify_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    placed = _place_woo_order(world, [("TOTE-1", 2)])
    world.ok("orders.pull")
    world.ok("orders.push")
    shop = world.shopify.shop(WS)
    (sor_order,) = shop.orders.values()
    ctx = world.shopify.sandbox.merchant_context(WS)
    with shop.lock:
        cancel_order(ctx, sor_order, reason="INVENTORY")
    ctx.flush()
    world.ok("order_updates.pull")
    for _ in range(2):  # the replay writes nothing twice
        world.ok("order_updates.push")
    woo_order = world.woo.store(RT).orders[placed["id"]]
    assert woo_order["status"] == "cancelled"
    notes = [n for n in world.woo.store(RT).notes.get(placed["id"], []) if "wholesync-rejection" in n["note"]]
    assert len(notes) == 1 and "Out of stock" in notes[0]["note"] and not notes[0].get("customer_note")
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "cancelled" and order.rejection_sent_at is not None


def test_a_woocommerce_wholesaler_cancelling_the_order_rejects_every_line(woo_to_woo):
    world = woo_to_woo
    order = _one_tote_ordered_and_sent(world)
    ws_key = world.woo.issue_key("acme-wholesale")
    ws_client = WooClient(f"{world.woo.base_url}/acme-wholesale", ws_key.consumer_key, ws_key.consumer_secret,
                          http=httpx.Client())  # fmt: skip
    ws_client.put(f"orders/{order.sor_remote_order_id}", {"status": "cancelled"})
    world.ok("order_updates.pull")
    db.session.refresh(order)
    assert order.status == "cancelled" and [line.rejected_quantity for line in order.lines] == [1]


def test_every_line_rejected_from_the_portal_cancels_the_wholesalers_woocommerce_order(woo_to_woo):
    world = woo_to_woo
    order = _one_tote_ordered_and_sent(world)
    reject_from_portal(order, {order.lines[0].id: 1}, "Out of stock: none left")
    world.ok("order_changes.push")
    assert world.woo.store("acme-wholesale").orders[int(order.sor_remote_order_id)]["status"] == "cancelled"
    world.ok("order_updates.push")
    retailer_order = next(iter(world.woo.store(RT).orders.values()))
    assert retailer_order["status"] == "cancelled"


def _one_tote_ordered_and_sent(world) -> Order:
    """Catalog in the WooCommerce retailer's store, one tote ordered there and forwarded to the wholesaler."""
    world.ok("products.pull")
    world.ok("products.push")
    key = world.woo.issue_key(RT)
    client = WooClient(f"{world.woo.base_url}/{RT}", key.consumer_key, key.consumer_secret, http=httpx.Client())
    client.post("orders", {"status": "processing", "billing": {"email": "b@example.com"},
                           "line_items": [{"sku": "TOTE-1", "quantity": 1}]})  # fmt: skip
    world.ok("orders.pull")
    world.ok("orders.push")
    return db.session.execute(select(Order)).scalar_one()
