"""Shipments from the wholesaler's store come back without waiting for the hourly pull: the store's orders/updated
webhook (sent after a fulfillment) starts order_updates.pull, which chains the push to the retailer."""

from __future__ import annotations

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.orders import place_order
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import Order, SyncRun
from tests.sync.conftest import RT_SHOPS, WS_SHOP


def test_a_shipment_in_the_wholesalers_store_reaches_the_retailer_through_its_webhook(world, app):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()

    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, company="UPS", numbers=("1Z900",))
    world.sandbox.deliver_webhooks()
    make_worker(app).work(burst=True)

    pulls = db.session.execute(select(SyncRun).where(SyncRun.job_name == "order_updates.pull")).scalars().all()
    assert [run.trigger for run in pulls] == ["webhook"]
    db.session.refresh(order)
    assert order.status == "completed"  # shipped, and the tracking is at the retailer
    tracking = [f.tracking_info[0]["number"] for f in world.store_shop(0).fulfillments.values()]
    assert tracking == ["1Z900"]
