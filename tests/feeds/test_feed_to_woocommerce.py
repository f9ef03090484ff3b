"""A wholesaler's ERP trading in CSV files over SFTP, a WooCommerce retailer: catalog and stock from the feed file
reach the shop, and the shop's order is written once to the outbox."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from integrations.woocommerce.client import WooClient
from portal.extensions import db
from portal.models import Order
from tests.feeds.conftest import CATALOG, World, feed_connection
from tests.support import factories
from tests.woocommerce.conftest import woo, woo_connection, woo_shop  # noqa: F401 - the WooCommerce sandbox fixture

RT = "corner-store"


def test_a_feed_catalog_reaches_a_woocommerce_retailer_and_its_order_lands_in_the_outbox(app, woo, sftp_server):  # noqa: F811
    (sftp_server.data / "catalog.csv").write_text(CATALOG)
    user = factories.wholesaler(name="Acme Wholesale")
    sor = feed_connection(user.organization, sftp_server)
    retailer = factories.retailer()
    site, key = woo_shop(woo, RT)
    store = woo_connection(retailer, "store", site, key)
    partnership = factories.partnership(user.organization, retailer)
    world = World(sftp_server, None, user.organization, sor, retailer, store, partnership)
    world.ok("products.pull")
    world.ok("products.push")
    shop = woo.store(RT)
    assert {i["sku"] for i in shop.products.values() if i.get("sku")} >= {"TOTE-1"}
    assert shop.by_sku("SHIRT-M")["stock_quantity"] == 7

    client = WooClient(site, key.consumer_key, key.consumer_secret, http=httpx.Client())
    client.post("orders", {"status": "processing", "line_items": [{"sku": "TOTE-1", "quantity": 3}]})
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    outbox = sorted(p.name for p in (sftp_server.data / "orders" / "outbox").iterdir())
    assert outbox == [f"wholesync-order-{order.id}.csv"]
    assert ",TOTE-1,Canvas Tote,3," in (sftp_server.data / "orders" / "outbox" / outbox[0]).read_text()
