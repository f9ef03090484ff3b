"""A product deleted, trashed, made private or put back to draft in the wholesaler's WooCommerce shop leaves the
retailer's shop as a draft with stock 0 (never deleted from under the retailer), with an activity entry — noticed by
the full pull, and at once from WooCommerce's `product.deleted` webhook."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from integrations.woocommerce.client import WooClient
from integrations.woocommerce.webhooks import WHOLESALER_TOPICS, ensure_webhooks
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import ActivityLog, SyncRun

WS = "acme-wholesale"
RT = "corner-store"


def _wholesaler(world) -> WooClient:
    key = world.woo.issue_key(WS)
    return WooClient(f"{world.woo.base_url}/{WS}", key.consumer_key, key.consumer_secret, http=httpx.Client())


def _retail_copy(world, name: str) -> tuple[dict, list[dict]]:
    shop = world.woo.store(RT)
    parent = next(p for p in shop.products.values() if p["name"] == name and p["type"] != "variation")
    children = [shop.products[v] for v in parent.get("variations") or []]
    return parent, children


def _ws_product(world, name: str) -> dict:
    return next(p for p in world.woo.store(WS).products.values() if p["name"] == name and p["type"] != "variation")


REMOVALS = {
    "deleted": lambda client, pid: client.request("DELETE", f"products/{pid}", {"force": "true"}),
    "trashed": lambda client, pid: client.request("DELETE", f"products/{pid}"),
    "private": lambda client, pid: client.put(f"products/{pid}", {"status": "private"}),
    "draft": lambda client, pid: client.put(f"products/{pid}", {"status": "draft"}),
}


@pytest.mark.parametrize("how", list(REMOVALS))
def test_a_product_leaving_the_wholesalers_shop_goes_back_to_draft_with_stock_zero_at_the_retailer(woo_to_woo, how):
    world = woo_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    parent, children = _retail_copy(world, "Linen Shirt")
    parent["status"] = "publish"  # the retailer put our copy on sale
    REMOVALS[how](_wholesaler(world), _ws_product(world, "Linen Shirt")["id"])

    world.ok("products.pull")
    world.ok("products.push")
    parent, children = _retail_copy(world, "Linen Shirt")
    assert parent["status"] == "draft"
    assert [c["stock_quantity"] for c in children] == [0, 0]
    tote, _ = _retail_copy(world, "Canvas Tote")
    assert tote["stock_quantity"] == 20  # the other product is untouched
    summaries = [a.summary for a in db.session.execute(select(ActivityLog)).scalars()]
    assert any("Linen Shirt" in s and "back to draft with stock 0" in s for s in summaries), summaries
    assert any("removed by the wholesaler: back to draft with stock 0" in s for s in summaries), summaries


def test_a_product_deleted_webhook_takes_the_retailers_copy_off_sale_without_a_tick(woo_to_woo, app):
    world = woo_to_woo
    world.ok("products.pull")
    world.ok("products.push")
    test_client = app.test_client()
    world.woo.send = lambda url, headers, body: (
        test_client.post(urlsplit(url).path, data=body, headers=headers).status_code
    )
    sor = world.sor
    client = WooClient(sor.address, sor.api_key, sor.access_token, http=httpx.Client())
    ensure_webhooks(client, f"http://localhost/webhooks/woocommerce/{sor.id}", sor.webhook_secret, WHOLESALER_TOPICS)

    _wholesaler(world).request("DELETE", f"products/{_ws_product(world, 'Canvas Tote')['id']}", {"force": "true"})
    assert world.woo.deliver_webhooks() == 1
    make_worker(app).work(burst=True)  # only what the webhook started, and what it chained
    db.session.expire_all()
    tote, _ = _retail_copy(world, "Canvas Tote")
    assert (tote["status"], tote["stock_quantity"]) == ("draft", 0)
    assert db.session.execute(select(SyncRun).where(SyncRun.status != "done")).first() is None
