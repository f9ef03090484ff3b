"""The whole trade by the scheduler alone (dispatch ticks + a burst worker of forked work-horses), webhooks that
start pulls at once, and the hourly pull repairing what lost webhooks missed."""

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.orders import place_order
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import Order
from tests.support.scheduling import runs_not_done, tick
from tests.sync.conftest import RT_SHOPS, WS_SHOP


def test_catalog_orders_tracking_and_stock_flow_by_the_scheduler_alone(world, app):
    app.config["STOCK_EVENT_WINDOW_SECONDS"] = 0  # delta pushes at once, so the burst worker runs them too
    tick(app, "products.pull", slot=1)  # chains products.push to both retailers
    assert runs_not_done() == []
    assert [len(world.store_shop(n).products) for n in range(2)] == [3, 3]

    place_order(world.sandbox.sandbox, RT_SHOPS[1], [("SCARF-1", 2)])
    tick(app, "orders.pull", slot=2)  # chains orders.push (and inventory.push)
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "sent" and len(world.sor_shop().orders) == 1

    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z42",))
    tick(app, "order_updates.pull", slot=3)  # chains order_updates.push
    db.session.refresh(order)
    assert order.status == "completed"
    assert [f.tracking_info[0]["number"] for f in world.store_shop(1).fulfillments.values()] == ["1Z42"]

    shop = world.sor_shop()
    item = shop.inventory_items[shop.variant_by_sku("TOTE-1").inventory_item_id]
    item.levels[shop.primary_location.id]["available"] = 4
    tick(app, "inventory.pull", slot=4)  # then the moved variant's delta push
    retailer = world.store_shop(0)
    loc = int(world.partnerships[0].placement["location_id"].rsplit("/", 1)[1])
    assert retailer.available(retailer.variant_by_sku("TOTE-1").inventory_item_id, loc) == 4
    assert runs_not_done() == []


def test_a_fulfillment_request_webhook_brings_the_order_in_at_once(world, app):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    world.sandbox.deliver_webhooks()
    make_worker(app).work(burst=True)  # no scheduler tick: only what the callback started (and its chain)
    db.session.expire_all()
    assert db.session.execute(select(Order.status)).scalar_one() == "sent"
    assert len(world.sor_shop().orders) == 1


def test_lost_webhooks_are_repaired_by_the_next_scheduled_pull(world, app):
    world.sync_catalog()
    world.sandbox.drop_webhooks(1.0)
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("SHIRT-M", 1)])
    assert all(d.dropped for d in world.sandbox.deliver_webhooks())
    make_worker(app).work(burst=True)
    assert db.session.execute(select(Order)).scalar_one_or_none() is None  # nobody heard about it
    tick(app, "orders.pull", slot=7)
    assert db.session.execute(select(Order.status)).scalar_one() == "sent"
    assert len(world.sor_shop().orders) == 1
