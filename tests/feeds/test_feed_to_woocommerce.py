"""A wholesaler's ERP trading in CSV files over SFTP, a WooCommerce retailer: catalog and stock from the feed file
reach the shop, the shop's order is written once to the outbox, the ERP's shipment file in the inbox comes back to the
retailer's WooCommerce order (tracking items, customer note, completed) and moves to processed, and the shipped lines
are billed."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from integrations.woocommerce.client import WooClient
from integrations.woocommerce.mapping import SHIPMENTS_KEY, meta
from portal.extensions import db
from portal.models import Fulfillment, GatewayAccount, Order
from portal.services import billing
from portal.services.orders import timeline
from tests.billing.conftest import fake_stripe  # noqa: F401 - the Stripe fake fixture
from tests.feeds.conftest import CATALOG, World, feed_connection
from tests.support import factories
from tests.woocommerce.conftest import woo, woo_connection, woo_shop  # noqa: F401 - the WooCommerce sandbox fixture

RT = "corner-store"


@pytest.fixture
def feed_to_woo(app, woo, sftp_server):  # noqa: F811
    """A wholesaler on file feeds, a retailer on WooCommerce with the Shipment Tracking extension."""
    (sftp_server.data / "catalog.csv").write_text(CATALOG)
    user = factories.wholesaler(name="Acme Wholesale")
    sor = feed_connection(user.organization, sftp_server)
    retailer = factories.retailer()
    site, key = woo_shop(woo, RT, shipment_tracking=True)
    store = woo_connection(retailer, "store", site, key)
    partnership = factories.partnership(user.organization, retailer)
    world = World(sftp_server, None, user.organization, sor, retailer, store, partnership)
    world.woo = woo
    world.client = WooClient(site, key.consumer_key, key.consumer_secret, http=httpx.Client())
    return world


def test_a_feed_catalog_reaches_a_woocommerce_retailer_and_its_order_lands_in_the_outbox(feed_to_woo):
    world = feed_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    shop = world.woo.store(RT)
    assert {i["sku"] for i in shop.products.values() if i.get("sku")} >= {"TOTE-1"}
    assert shop.by_sku("SHIRT-M")["stock_quantity"] == 7

    world.client.post("orders", {"status": "processing", "line_items": [{"sku": "TOTE-1", "quantity": 3}]})
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    outbox = sorted(p.name for p in (world.server.data / "orders" / "outbox").iterdir())
    assert outbox == [f"wholesync-order-{order.id}.csv"]
    assert ",TOTE-1,Canvas Tote,3," in (world.server.data / "orders" / "outbox" / outbox[0]).read_text()


def test_a_shipment_file_reaches_the_woocommerce_order_with_tracking_and_the_shipped_lines_are_billed(
    feed_to_woo,
    fake_stripe,  # noqa: F811
):
    world = feed_to_woo
    p = world.partnership
    p.billing_enabled, p.billing_gateway, p.billing_terms = True, "stripe", "card"
    p.gateway_customer_ref = fake_stripe.seed_customer(world.retailer.name, card="4242424242424242")
    db.session.add(GatewayAccount(organization_id=world.wholesaler.id, gateway="stripe", account_ref="m", secret="sk"))
    db.session.commit()
    world.ok("products.pull")
    world.ok("products.push")
    placed = world.client.post(
        "orders",
        {"status": "processing", "line_items": [{"sku": "TOTE-1", "quantity": 2}, {"sku": "SHIRT-S", "quantity": 1}]},
    )
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    marker = f"wholesync-order-{order.id}"
    world.write(
        "shipments/inbox/ship-0001.csv",
        "order,sku,quantity,carrier,tracking_number,tracking_url\n"
        f"{marker},TOTE-1,2,UPS,1Z999AA10123456784,https://www.ups.com/track?tracknum=1Z999AA10123456784\n"
        f"{marker},SHIRT-S,1,UPS,1Z999AA10123456784,https://www.ups.com/track?tracknum=1Z999AA10123456784\n",
    )
    for _ in range(2):  # the processed file is read again by the next runs: nothing is sent twice
        world.ok("order_updates.pull")
        world.ok("order_updates.push")
    assert not (world.server.data / "shipments" / "inbox" / "ship-0001.csv").exists()
    assert (world.server.data / "shipments" / "processed" / "ship-0001.csv").exists()

    woo_order = world.woo.store(RT).orders[placed["id"]]
    assert woo_order["status"] == "completed"
    [shipment] = meta(woo_order, SHIPMENTS_KEY)
    assert (shipment["carrier"], shipment["tracking_numbers"]) == ("UPS", ["1Z999AA10123456784"])
    tracking = meta(woo_order, "_wc_shipment_tracking_items")
    assert [t["tracking_number"] for t in tracking] == ["1Z999AA10123456784"]
    notes = [n for n in world.woo.store(RT).notes[placed["id"]] if n["customer_note"]]
    assert len(notes) == 1 and "1Z999AA10123456784" in notes[0]["note"]
    assert db.session.execute(select(func.count()).select_from(Fulfillment)).scalar_one() == 1

    db.session.refresh(order)
    steps = {s.label: s.at for s in timeline(order)}
    assert steps["Shipped"] is not None and steps["Tracking sent to the retailer's store"] is not None
    invoice = billing.bill(p, order.shipped_at.date() + timedelta(days=1))
    assert invoice.status == "paid" and invoice.total == 2 * 10 + 20  # the feed's wholesale prices
    db.session.refresh(order)
    assert sorted((line.sku, line.billed_quantity) for line in order.lines) == [("SHIRT-S", 1), ("TOTE-1", 2)]
