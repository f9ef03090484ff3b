"""An order that stops being in flight gives its units back to every retailer's offered level at once.

While an order is in flight (received, or failed on its way) every retailer is offered the wholesaler's stock less
its units. When the system of record's stock event is read before the hub records the order as created there (the
answer came late, or the worker died in between), that stock already lacks the order and the order still counts as
in flight: the retailers are offered its units twice too few. Recording the order as created (or cancelled) moves
the offered level back up, and nothing else would push it before the hourly full pass.
"""

from __future__ import annotations

import pytest

from fakes.shopify.resolvers.orders import place_order
from tests.sync.conftest import RT_SHOPS
from tests.sync.test_events_stock import placed_and_subscribed, retailer_level, settle


@pytest.fixture
def events(world, app):
    return placed_and_subscribed(world, app)


def _orders_to_wholesaler(world, on: bool) -> None:
    from portal.extensions import db

    for p in world.partnerships:
        p.sync_orders_to_wholesaler = on
    db.session.commit()


def test_an_order_recorded_as_created_after_its_stock_event_gives_the_retailers_its_units_back(
    events, app, monkeypatch
):
    import jobs.flows.orders as orders

    _orders_to_wholesaler(events, False)  # the order waits at the hub: in flight
    place_order(events.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 3)])
    settle(events, app)
    assert [retailer_level(events, n, "TOTE-1") for n in range(2)] == [17, 17]  # 20 less 3 in flight

    recorded = orders._record_sent

    def worker_died_before_recording(ctx, order, created):
        raise RuntimeError("the work-horse died after the store created the order")

    _orders_to_wholesaler(events, True)
    monkeypatch.setattr(orders, "_record_sent", worker_died_before_recording)
    events.run("orders.push")  # created in the wholesaler's store (20 -> 17); the hub still counts it in flight
    settle(events, app)  # the store's stock event: 17 less 3 in flight
    assert events.sor_shop().available(events.sor_shop().variant_by_sku("TOTE-1").inventory_item_id) == 17
    assert [retailer_level(events, n, "TOTE-1") for n in range(2)] == [14, 14]

    monkeypatch.setattr(orders, "_record_sent", recorded)
    events.run("orders.push")  # found by its marker and recorded as created: no longer in flight
    settle(events, app)
    assert [retailer_level(events, n, "TOTE-1") for n in range(2)] == [17, 17]


def test_an_in_flight_order_the_retailer_cancels_gives_the_other_retailers_its_units_back(events, app):
    from fakes.shopify.resolvers.order_changes import cancel_order

    _orders_to_wholesaler(events, False)  # the order waits at the hub: in flight
    placed = place_order(events.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 3)])
    settle(events, app)
    assert [retailer_level(events, n, "TOTE-1") for n in range(2)] == [17, 17]

    shop = events.store_shop(0)
    ctx = events.sandbox.sandbox.merchant_context(RT_SHOPS[0])
    with shop.lock:
        cancel_order(ctx, shop.orders[int(placed["id"].rsplit("/", 1)[1])], reason="CUSTOMER")  # restocks its 3
    ctx.flush()
    settle(events, app)
    assert [retailer_level(events, n, "TOTE-1") for n in range(2)] == [20, 20]
