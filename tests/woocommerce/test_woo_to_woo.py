"""WooCommerce on both sides: the wholesaler's shop is the system of record, the retailer's shop sells its goods.

Catalog as drafts, stock by the batch endpoints (only what changed), the order created once in the wholesaler's shop
(found by our marker before any retry), the shipment and tracking back to the retailer's order, and the shipped lines
billed — run by hand (`flask sync run`) with dry runs that write nothing, and by the scheduler's dispatch alone; the
activity log and the order's timeline show each step."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from integrations.woocommerce.client import WooClient
from integrations.woocommerce.mapping import MARKER_KEY, PRODUCT_KEY, SHIPMENTS_KEY, meta
from jobs.preview import dry_run
from portal.extensions import db
from portal.models import ActivityLog, Fulfillment, GatewayAccount, Order, Variant
from portal.services import billing
from portal.services.orders import timeline
from tests.billing.conftest import fake_stripe  # noqa: F401 - the Stripe fake fixture
from tests.support.scheduling import runs_not_done, tick

WS = "acme-wholesale"
RT = "corner-store"


def _client(world, store: str) -> WooClient:
    key = world.woo.issue_key(store)
    return WooClient(f"{world.woo.base_url}/{store}", key.consumer_key, key.consumer_secret, http=httpx.Client())


def _retail_items(world) -> dict[str, dict]:
    return {i["sku"]: i for i in world.woo.store(RT).products.values() if i.get("sku")}


def _place(world, lines, status="processing") -> dict:
    return _client(world, RT).post("orders", {
        "status": status, "billing": {"email": "buyer@example.com", "first_name": "Ada"},
        "shipping": {"first_name": "Ada", "last_name": "L", "address_1": "1 Main St", "city": "Ottawa",
                     "postcode": "K1A 0A1", "country": "CA"},
        "line_items": [{"sku": sku, "quantity": qty} for sku, qty in lines],
    })  # fmt: skip


def _ship_in_wholesaler_shop(world, order_id: int, note: str) -> None:
    """The wholesaler marks the order completed and a shipping plugin writes the tracking as an order note."""
    client = _client(world, WS)
    client.post(f"orders/{order_id}/notes", {"note": note, "customer_note": False})
    client.put(f"orders/{order_id}", {"status": "completed"})


def _logged(world) -> list[str]:
    return [a.summary for a in db.session.execute(select(ActivityLog).order_by(ActivityLog.id)).scalars()]


def _with_billing(world, fake):
    p = world.partnership
    p.billing_enabled, p.billing_gateway, p.billing_terms = True, "stripe", "card"
    p.gateway_customer_ref = fake.seed_customer(world.retailer.name, card="4242424242424242")
    db.session.add(
        GatewayAccount(organization_id=world.wholesaler.id, gateway="stripe", account_ref="m-1", secret="sk_test_1")
    )
    db.session.commit()


def test_catalog_arrives_as_drafts_and_only_changed_stock_moves_through_the_batch_endpoints(woo_to_woo):
    world = woo_to_woo
    dry = dry_run("products.pull", f"connection:{world.sor.id}")
    assert dry.create == 2 and db.session.execute(select(Variant)).first() is None
    world.ok("products.pull")
    dry = dry_run("products.push", f"partnership:{world.partnership.id}")
    assert dry.create == 2 and world.woo.store(RT).products == {}
    world.ok("products.push")
    parents = [p for p in world.woo.store(RT).products.values() if p["type"] != "variation"]
    assert sorted((p["name"], p["type"], p["status"]) for p in parents) == [
        ("Canvas Tote", "simple", "draft"),
        ("Linen Shirt", "variable", "draft"),
    ]
    assert all(meta(p, PRODUCT_KEY) for p in parents)
    items = _retail_items(world)
    assert {s: i["stock_quantity"] for s, i in items.items()} == {"TOTE-1": 20, "SHIRT-S": 5, "SHIRT-M": 7}
    assert items["TOTE-1"]["regular_price"] == "14.99"
    assert any("Linen Shirt: created in the retailer's store as a draft" in s for s in _logged(world))

    world.woo.set_stock(WS, "SHIRT-M", 2)
    world.ok("inventory.pull")
    before = {i["id"]: i["_modified"] for i in world.woo.store(RT).products.values()}
    world.ok("inventory.push")
    items = _retail_items(world)
    assert items["SHIRT-M"]["stock_quantity"] == 2
    changed = {i["sku"] for i in world.woo.store(RT).products.values() if i["_modified"] != before[i["id"]]}
    assert changed == {"SHIRT-M"}  # the delta only: the other items were not written
    world.ok("inventory.push")  # a replay sends nothing
    assert _retail_items(world)["SHIRT-M"]["stock_quantity"] == 2


def test_an_order_goes_to_the_wholesaler_once_and_its_tracking_and_invoice_follow(woo_to_woo, fake_stripe):  # noqa: F811
    world = woo_to_woo
    _with_billing(world, fake_stripe)
    world.ok("products.pull")
    world.ok("products.push")
    placed = _place(world, [("TOTE-1", 2), ("SHIRT-S", 1)])
    assert dry_run("orders.pull", f"connection:{world.store.id}").create == 1
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0
    world.ok("orders.pull")
    order = db.session.execute(select(Order)).scalar_one()
    dry = dry_run("orders.push", f"connection:{world.sor.id}")
    assert dry.create == 1 and world.woo.store(WS).orders == {}
    world.ok("orders.push")
    [created] = world.woo.store(WS).orders.values()
    assert meta(created, MARKER_KEY) == f"wholesync-order-{order.id}"
    assert {li["sku"]: li["quantity"] for li in created["line_items"]} == {"TOTE-1": 2, "SHIRT-S": 1}
    assert created["status"] == "processing"

    # the worker died after POST /orders: the retry finds the order by its marker instead of making a second one
    db.session.execute(Order.__table__.update().values(status="received", sor_remote_order_id=None))
    db.session.commit()
    world.ok("orders.push")
    assert len(world.woo.store(WS).orders) == 1

    _ship_in_wholesaler_shop(world, created["id"], "Shipped via UPS. Tracking number: 1Z999AA10123456784")
    world.ok("order_updates.pull")
    world.ok("order_updates.push")
    world.ok("order_updates.pull")
    world.ok("order_updates.push")  # a replay adds nothing
    retail_order = world.woo.store(RT).orders[placed["id"]]
    assert retail_order["status"] == "completed"
    [shipment] = meta(retail_order, SHIPMENTS_KEY)
    assert shipment["tracking_numbers"] == ["1Z999AA10123456784"] and shipment["carrier"] == "UPS"
    tracking = meta(retail_order, "_wc_shipment_tracking_items")
    assert [t["tracking_number"] for t in tracking] == ["1Z999AA10123456784"]
    customer_notes = [n for n in world.woo.store(RT).notes[placed["id"]] if n["customer_note"]]
    assert len(customer_notes) == 1 and "1Z999AA10123456784" in customer_notes[0]["note"]
    assert db.session.execute(select(func.count()).select_from(Fulfillment)).scalar_one() == 1

    db.session.refresh(order)
    invoice = billing.bill(world.partnership, order.shipped_at.date() + timedelta(days=1))
    assert invoice.status == "paid" and invoice.total == 2 * 10 + 20  # the wholesale prices of the shipped lines
    db.session.refresh(order)
    assert sorted((line.sku, line.billed_quantity) for line in order.lines) == [("SHIRT-S", 1), ("TOTE-1", 2)]
    steps = {s.label: s.at for s in timeline(order)}
    reached = ["Placed at the retailer's store", "Received by Wholesync", "In the wholesaler's system of record",
               "Shipped", "Tracking sent to the retailer's store", "Invoiced"]  # fmt: skip
    assert [label for label in reached if steps[label] is None] == []
    assert steps["Invoiced"] == invoice.created_at  # the invoice charging its lines, shipping billed or not
    name = f"#{placed['number']}"
    for step in (
        f"{name}: 2 line(s) received from the retailer",
        f"{name}: created in the system of record",
        f"{name}: shipped 3 unit(s), tracking 1Z999AA10123456784",
        f"{name}: tracking sent to the retailer",
    ):
        assert step in _logged(world)  # fmt: skip


def test_woocommerce_to_woocommerce_trades_by_the_scheduler_alone(woo_to_woo, app):
    world = woo_to_woo
    app.config["STOCK_EVENT_WINDOW_SECONDS"] = 0  # delta pushes at once, so the burst worker runs them too
    tick(app, "products.pull", slot=1)  # chains products.push
    assert runs_not_done() == []
    assert set(_retail_items(world)) == {"TOTE-1", "SHIRT-S", "SHIRT-M"}

    world.woo.set_stock(WS, "TOTE-1", 4)
    tick(app, "inventory.pull", slot=2)  # then the moved variant's delta push
    assert _retail_items(world)["TOTE-1"]["stock_quantity"] == 4

    placed = _place(world, [("TOTE-1", 1)])
    tick(app, "orders.pull", slot=3)  # chains orders.push
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "sent" and len(world.woo.store(WS).orders) == 1

    _ship_in_wholesaler_shop(world, int(order.sor_remote_order_id), "Tracking number: 9400111899223197428490")
    tick(app, "order_updates.pull", slot=4)  # chains order_updates.push
    retail_order = world.woo.store(RT).orders[placed["id"]]
    assert retail_order["status"] == "completed"
    assert meta(retail_order, SHIPMENTS_KEY)[0]["tracking_numbers"] == ["9400111899223197428490"]
    assert runs_not_done() == []
