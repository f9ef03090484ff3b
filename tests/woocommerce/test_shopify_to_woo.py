"""A Shopify wholesaler, a WooCommerce retailer: products arrive as drafts (variable with variations), stock by the
batch endpoints and only what changed, orders pulled by modification date, shipments back as a customer note,
Shipment Tracking items and our record in order meta — each exactly once."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from fakes.shopify.resolvers.fulfillments import ship
from integrations.woocommerce.client import WooClient
from integrations.woocommerce.mapping import PRODUCT_KEY, meta
from jobs.preview import dry_run
from portal.extensions import db
from portal.models import Fulfillment, Order

WS = "acme-wholesale.myshopify.com"
RT = "corner-store"


def _items(world) -> dict[str, dict]:
    return {i["sku"]: i for i in world.woo.store(RT).products.values() if i.get("sku")}


def _place_woo_order(world, lines: list[tuple[str, int]], status: str = "processing") -> dict:
    key = world.woo.issue_key(RT)
    client = WooClient(f"{world.woo.base_url}/{RT}", key.consumer_key, key.consumer_secret, http=httpx.Client())
    return client.post("orders", {
        "status": status, "billing": {"email": "buyer@example.com", "first_name": "Ada"},
        "shipping": {"first_name": "Ada", "last_name": "L", "address_1": "1 Main St", "city": "Ottawa",
                     "postcode": "K1A 0A1", "country": "CA"},
        "line_items": [{"sku": sku, "quantity": qty} for sku, qty in lines],
    })  # fmt: skip


def test_products_arrive_as_drafts_with_variations_and_our_stock(shopify_to_woo):
    world = shopify_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    products = [p for p in world.woo.store(RT).products.values() if p["type"] in ("simple", "variable")]
    assert sorted(p["name"] for p in products) == ["Canvas Tote", "Linen Shirt"]
    assert {p["status"] for p in products} == {"draft"}
    shirt = next(p for p in products if p["name"] == "Linen Shirt")
    assert shirt["type"] == "variable" and meta(shirt, PRODUCT_KEY)
    items = _items(world)
    assert items["SHIRT-M"]["parent_id"] == shirt["id"] and items["SHIRT-M"]["stock_quantity"] == 7
    assert items["TOTE-1"]["regular_price"] == "14.99"  # 40 % markup, rounded up to .99
    world.ok("products.push")  # a replay changes nothing and creates nothing
    assert len([p for p in world.woo.store(RT).products.values() if p["type"] != "variation"]) == 2


def test_only_changed_stock_is_sent_through_the_batch_endpoints(shopify_to_woo):
    world = shopify_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    shop = world.shopify.shop(WS)
    item = shop.inventory_items[shop.variant_by_sku("SHIRT-S").inventory_item_id]
    item.levels[shop.primary_location.id]["available"] = 1
    world.ok("inventory.pull")
    world.ok("inventory.push")
    assert _items(world)["SHIRT-S"]["stock_quantity"] == 1
    assert _items(world)["SHIRT-M"]["stock_quantity"] == 7


def test_a_woocommerce_order_reaches_shopify_once_and_the_shipment_comes_back_once(shopify_to_woo):
    world = shopify_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    placed = _place_woo_order(world, [("TOTE-1", 2), ("SHIRT-S", 1)])
    _place_woo_order(world, [("TOTE-1", 1)], status="pending")  # unpaid: not an order to forward yet
    world.ok("orders.pull")
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    assert order.retailer_order_name == f"#{placed['number']}" and order.shipping_address["city"] == "Ottawa"
    assert len(world.shopify.shop(WS).orders) == 1

    ship(world.shopify.sandbox, WS, order.sor_remote_order_id, None, company="UPS", numbers=("1Z999",))
    for _ in range(2):  # the replay sends nothing twice
        world.ok("order_updates.pull")
        world.ok("order_updates.push")
    woo_order = world.woo.store(RT).orders[placed["id"]]
    assert woo_order["status"] == "completed"
    notes = [n for n in world.woo.store(RT).notes.get(placed["id"], []) if n.get("customer_note")]
    assert len(notes) == 1 and "1Z999" in notes[0]["note"]
    tracking = meta(woo_order, "_wc_shipment_tracking_items")
    assert [t["tracking_number"] for t in tracking] == ["1Z999"]
    assert db.session.execute(select(func.count()).select_from(Fulfillment)).scalar_one() == 1
    db.session.refresh(order)
    assert order.status == "completed"


def test_dry_runs_toward_a_woocommerce_retailer_count_what_would_be_sent_and_send_nothing(shopify_to_woo):
    world = shopify_to_woo
    world.ok("products.pull")
    dry = dry_run("products.push", f"partnership:{world.partnership.id}")
    assert dry.create == 2
    assert world.woo.store(RT).products == {}
    world.ok("products.push")
    _place_woo_order(world, [("TOTE-1", 1)])
    dry = dry_run("orders.pull", f"connection:{world.store.id}")
    assert dry.create == 1
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0
