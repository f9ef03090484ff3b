"""Webhook health: WooCommerce disables a hook after repeated failed deliveries (the sandbox does as WooCommerce does:
a failure arriving with failure_count > 5 disables it, so the 7th in a row); the hourly reconciliation (the
wholesaler's inventory.pull, the retailer's orders.pull) finds our hooks by delivery URL and topic, reactivates a
disabled or paused one, recreates a deleted one, and logs what it repaired."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from fakes.woocommerce.webhooks import MAX_FAILURES
from integrations.woocommerce.client import WooClient
from integrations.woocommerce.webhooks import RETAILER_TOPICS, WHOLESALER_TOPICS, delivery_url, ensure_webhooks
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import ActivityLog

WS = "acme-wholesale"
RT = "corner-store"


def _route_to_app(world, app, answer: list[int | None]):
    """Deliveries reach the app's webhook endpoint; `answer[0]`, when set, is what a broken receiver answers."""
    test_client = app.test_client()

    def send(url, headers, body):
        if answer[0] is not None:
            return answer[0]
        return test_client.post(urlsplit(url).path, data=body, headers=headers).status_code

    world.woo.send = send


def _hooks(world, store: str) -> dict[str, dict]:
    return {h["topic"]: h for h in world.woo.store(store).webhooks.values()}


def _restored(conn) -> list[str]:
    rows = db.session.execute(select(ActivityLog).where(ActivityLog.record_type == "connection")).scalars()
    return [a.summary for a in rows if a.record_id == str(conn.id)]


def test_a_hook_disabled_after_failed_deliveries_is_reactivated_by_the_hourly_pull_and_delivers_again(woo_to_woo, app):
    world = woo_to_woo
    answer: list[int | None] = [None]
    _route_to_app(world, app, answer)
    sor = world.sor
    client = WooClient(sor.address, sor.api_key, sor.access_token, http=httpx.Client())
    ensure_webhooks(client, delivery_url(app.config, sor.id), sor.webhook_secret, WHOLESALER_TOPICS)
    world.ok("products.pull")
    world.ok("products.push")

    answer[0] = 500  # our endpoint is down
    for n in range(MAX_FAILURES + 2):
        world.woo.set_stock(WS, "TOTE-1", 10 + n)
        assert world.woo.deliver_webhooks() == 1
    assert _hooks(world, WS)["product.updated"]["status"] == "disabled"
    world.woo.set_stock(WS, "TOTE-1", 3)
    assert world.woo.deliver_webhooks() == 0  # a disabled hook sends nothing

    answer[0] = None  # back up; the hourly stock pull is the reconciliation
    world.ok("inventory.pull")
    assert _hooks(world, WS)["product.updated"]["status"] == "active"
    assert _restored(sor) == ["event subscriptions restored: product.updated reactivated"]
    world.ok("inventory.pull")  # healthy now: nothing to repair, nothing logged
    assert len(_restored(sor)) == 1

    world.ok("inventory.push")
    world.woo.set_stock(WS, "TOTE-1", 2)
    assert world.woo.deliver_webhooks() == 1
    make_worker(app).work(burst=True)  # only what the webhook started
    db.session.expire_all()
    assert world.woo.store(RT).by_sku("TOTE-1")["stock_quantity"] == 2


def test_the_retailers_order_hooks_are_created_reactivated_and_left_alone_when_healthy(woo_to_woo, app):
    world = woo_to_woo
    _route_to_app(world, app, [None])
    store = world.store
    url = delivery_url(app.config, store.id)
    key = world.woo.issue_key(RT)
    client = WooClient(store.address, key.consumer_key, key.consumer_secret, http=httpx.Client())
    ensure_webhooks(client, url, store.webhook_secret, RETAILER_TOPICS)
    hooks = _hooks(world, RT)
    hooks["order.updated"]["status"] = "paused"  # the merchant paused it
    client.request("DELETE", f"webhooks/{hooks['order.created']['id']}", {"force": "true"})  # and deleted this one
    client.post("webhooks", {"topic": "order.created", "delivery_url": "https://elsewhere.example/hook"})

    world.ok("products.pull")
    world.ok("orders.pull")
    ours = {h["topic"]: h for h in world.woo.store(RT).webhooks.values() if h["delivery_url"] == url}
    assert {t: h["status"] for t, h in ours.items()} == {"order.created": "active", "order.updated": "active"}
    assert all(h["secret"] == store.webhook_secret for h in ours.values())
    assert len(world.woo.store(RT).webhooks) == 3  # the merchant's own hook elsewhere is untouched
    assert _restored(store) == ["event subscriptions restored: order.created created, order.updated reactivated"]
    world.ok("orders.pull")
    assert len(_restored(store)) == 1 and len(world.woo.store(RT).webhooks) == 3
