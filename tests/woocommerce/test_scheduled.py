"""By the scheduler alone (dispatch ticks + a burst worker of forked work-horses) with a WooCommerce retailer, and a
WooCommerce wholesaler's stock edit reaching the Shopify retailer from the signed webhook alone."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from integrations.woocommerce.client import WooClient
from integrations.woocommerce.webhooks import WHOLESALER_TOPICS, ensure_webhooks
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import Order
from tests.support.scheduling import runs_not_done, tick

WS_SHOPIFY = "acme-wholesale.myshopify.com"
RT_WOO = "corner-store"
WS_WOO = "acme-wholesale"
RT_SHOPIFY = "corner-store.myshopify.com"


def test_a_woocommerce_retailer_trades_by_the_scheduler_alone(shopify_to_woo, app):
    world = shopify_to_woo
    tick(app, "products.pull", slot=1)  # chains products.push to the WooCommerce retailer
    assert runs_not_done() == []
    skus = {i["sku"] for i in world.woo.store(RT_WOO).products.values() if i.get("sku")}
    assert skus == {"TOTE-1", "SHIRT-S", "SHIRT-M"}

    key = world.woo.issue_key(RT_WOO)
    client = WooClient(f"{world.woo.base_url}/{RT_WOO}", key.consumer_key, key.consumer_secret, http=httpx.Client())
    placed = client.post("orders", {"status": "processing", "line_items": [{"sku": "TOTE-1", "quantity": 1}]})
    tick(app, "orders.pull", slot=2)  # chains orders.push
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "sent" and len(world.shopify.shop(WS_SHOPIFY).orders) == 1

    ship(world.shopify.sandbox, WS_SHOPIFY, order.sor_remote_order_id, None, numbers=("1Z42",))
    tick(app, "order_updates.pull", slot=3)  # chains order_updates.push
    assert world.woo.store(RT_WOO).orders[placed["id"]]["status"] == "completed"
    assert runs_not_done() == []


def test_a_stock_edit_in_the_wholesalers_woocommerce_shop_reaches_the_retailer_from_its_webhook(woo_to_shopify, app):
    world = woo_to_shopify
    world.ok("products.pull")
    world.ok("products.push")
    test_client = app.test_client()
    world.woo.send = lambda url, headers, body: (
        test_client.post(urlsplit(url).path, data=body, headers=headers).status_code
    )
    sor = world.sor
    client = WooClient(sor.address, sor.api_key, sor.access_token, http=httpx.Client())
    ensure_webhooks(client, f"http://localhost/webhooks/woocommerce/{sor.id}", sor.webhook_secret, WHOLESALER_TOPICS)

    started = time.perf_counter()
    world.woo.set_stock(WS_WOO, "SHIRT-M", 3)
    assert world.woo.deliver_webhooks() == 1
    make_worker(app).work(burst=True)  # no tick: only what the webhook started, and its chain
    db.session.expire_all()
    elapsed = time.perf_counter() - started
    shop = world.shopify.shop(RT_SHOPIFY)
    db.session.refresh(world.partnership)
    loc = int(world.partnership.placement["location_id"].rsplit("/", 1)[1])
    assert shop.available(shop.variant_by_sku("SHIRT-M").inventory_item_id, loc) == 3
    assert runs_not_done() == []
    print(f"stock latency from the WooCommerce webhook: {elapsed:.2f} s")
