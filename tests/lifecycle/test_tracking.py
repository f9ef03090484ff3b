"""Tracking for every order, end to end through the sandbox stores: an order of products the retailer linked by SKU
(fulfilled from its own locations, not our fulfillment service) gets the wholesaler's shipments back, with tracking,
as fulfillments at the retailer's location — partial shipments included, each once."""

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from portal.extensions import db
from portal.models import Fulfillment, Order
from tests.lifecycle.test_cancellations import _sku_linked_order
from tests.sync.conftest import WS_SHOP


def _retailer_fulfillments(trade):
    return list(trade.store_shop(0).fulfillments.values())


def test_a_sku_linked_order_gets_the_wholesalers_tracking_as_a_fulfillment_at_the_retailers_location(trade):
    placed = _sku_linked_order(trade)
    assert trade.partnerships[0].placement is None  # no fulfillment service: the lines stay at the merchant's location
    trade.ok("orders.pull")
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, company="UPS", numbers=("1Z999",),
         urls=("https://ups.example/1Z999",))  # fmt: skip
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    (created,) = _retailer_fulfillments(trade)
    assert [(t["company"], t["number"]) for t in created.tracking_info] == [("UPS", "1Z999")]
    shop = trade.store_shop(0)
    retailer_order = shop.orders[int(placed["id"].rsplit("/", 1)[1])]
    assert all(li["remaining"] == 0 for fo in shop.fulfillment_orders.values() if fo.order_id == retailer_order.id
               for li in fo.line_items)  # fmt: skip
    fulfillment = db.session.execute(select(Fulfillment)).scalar_one()
    assert fulfillment.pushed_at is not None and fulfillment.retailer_remote_fulfillment_id
    assert db.session.execute(select(Order)).scalar_one().status == "completed"


def test_a_partial_shipment_of_a_sku_linked_order_is_sent_once_and_the_rest_follows(trade):
    _sku_linked_order(trade, lines=(("TOTE-1", 3),))
    trade.ok("orders.pull")
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, [("TOTE-1", 1)], numbers=("A1",))
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    trade.ok("order_updates.push")  # nothing new: not sent twice
    assert len(_retailer_fulfillments(trade)) == 1
    assert db.session.execute(select(Order)).scalar_one().status == "partial"
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("A2",))
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    numbers = sorted(t["number"] for f in _retailer_fulfillments(trade) for t in f.tracking_info)
    assert numbers == ["A1", "A2"]
    assert db.session.execute(select(Order)).scalar_one().status == "completed"
