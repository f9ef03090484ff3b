"""order_updates.pull reads only the orders the wholesaler's store changed since the last pull (its cursor, less the
overlap) and whose update stamp moved since it read them, reads an order it failed to read on every pull until it
succeeds (without holding the cursor back for the others), and reads every order awaiting shipment when run by hand
and every FULL_READ_EVERY."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.orders import place_order
from integrations.shopify.fulfillment import ShipmentSource
from jobs.flows.common import now, open_failures
from jobs.flows.order_updates import CHANGES_STREAM, FULL_READ_STREAM
from jobs.plan import get_job
from jobs.runtime import new_run, run_job
from portal.extensions import db
from portal.models import Order, SyncCursor
from tests.sync.conftest import RT_SHOPS, WS_SHOP


def _three_sent_orders(world) -> list[Order]:
    world.sync_catalog()
    for sku in ("TOTE-1", "SHIRT-S", "SCARF-1"):
        place_order(world.sandbox.sandbox, RT_SHOPS[0], [(sku, 1)])
    world.ok("orders.pull")
    world.ok("orders.push")
    return list(db.session.execute(select(Order).order_by(Order.id)).scalars())


def _scheduled_pull(world) -> dict:
    target = f"connection:{world.sor.id}"
    run = new_run(get_job("order_updates.pull"), target, "schedule")
    return run_job("order_updates.pull", target, "schedule", run.id)


def _shipment_reads(world) -> int:
    return sum(1 for r in world.sor_shop().requests if r["name"] == "SyncShipments")


def _as_if_pulled(world, ago: timedelta, full_ago: timedelta) -> None:
    """The last pull began `ago`, the last full read `full_ago`; the store's orders last changed before both."""
    for stream, when in ((CHANGES_STREAM, ago), (FULL_READ_STREAM, full_ago)):
        db.session.execute(
            update(SyncCursor)
            .where(SyncCursor.connection_id == world.sor.id, SyncCursor.stream == stream)
            .values(high_water_mark=now() - when)
        )
    db.session.commit()
    for order in world.sor_shop().orders.values():
        order.updated_at = now() - ago - timedelta(hours=1)


def _ship_at(world, order: Order, ago: timedelta, number: str) -> None:
    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=(number,))
    world.sor_shop().orders[int(order.sor_remote_order_id.rsplit("/", 1)[1])].updated_at = now() - ago


def test_a_scheduled_pull_reads_the_shipments_of_only_the_orders_the_store_changed_since_the_last_pull(world):
    orders = _three_sent_orders(world)
    _scheduled_pull(world)  # the first pull reads every order awaiting shipment
    assert _shipment_reads(world) == 3
    _as_if_pulled(world, ago=timedelta(hours=1), full_ago=timedelta(hours=1))
    _ship_at(world, orders[1], timedelta(minutes=30), "1Z-SHIRT")

    result = _scheduled_pull(world)

    assert result["status"] == "done" and result["total"] == 1
    assert _shipment_reads(world) == 4  # the shipped order alone
    assert [r["name"] for r in world.sor_shop().requests].count("SyncChangedOrders") == 1
    statuses = [db.session.get(Order, o.id).status for o in orders]
    assert statuses == ["sent", "shipped", "sent"]


def test_an_order_whose_read_failed_is_read_again_by_the_next_pull_though_it_changed_before_that_pulls_window(
    world, monkeypatch
):
    orders = _three_sent_orders(world)
    _scheduled_pull(world)
    _as_if_pulled(world, ago=timedelta(hours=2), full_ago=timedelta(hours=2))
    _ship_at(world, orders[0], timedelta(hours=1), "1Z-TOTE")
    real = ShipmentSource.shipments
    monkeypatch.setattr(ShipmentSource, "shipments", lambda self, remote_id: (_ for _ in ()).throw(TimeoutError()))
    failed = _scheduled_pull(world)
    assert failed["failed"] == 1
    monkeypatch.setattr(ShipmentSource, "shipments", real)

    cursor = db.session.execute(
        select(SyncCursor.high_water_mark).where(SyncCursor.connection_id == world.sor.id,
                                                 SyncCursor.stream == CHANGES_STREAM)
    ).scalar_one()  # fmt: skip
    assert cursor > now() - timedelta(minutes=1)  # the failed order does not hold the others' cursor back
    reads = _shipment_reads(world)

    _scheduled_pull(world)  # the shipment is an hour outside this pull's window: read as a failed record

    assert db.session.get(Order, orders[0].id).status == "shipped"
    assert _shipment_reads(world) - reads == 1
    assert open_failures("order_updates.pull", f"connection:{world.sor.id}") == []


def _stamp(world, order: Order, ago: timedelta) -> None:
    """The wholesaler's store updates the order (e.g. a note) without shipping it."""
    world.sor_shop().orders[int(order.sor_remote_order_id.rsplit("/", 1)[1])].updated_at = now() - ago


def _cursor_back(world, ago: timedelta) -> None:
    db.session.execute(
        update(SyncCursor)
        .where(SyncCursor.connection_id == world.sor.id, SyncCursor.stream == CHANGES_STREAM)
        .values(high_water_mark=now() - ago)
    )
    db.session.commit()


def test_an_order_whose_store_stamp_has_not_moved_since_it_was_read_is_not_read_again(world):
    orders = _three_sent_orders(world)
    _scheduled_pull(world)
    _as_if_pulled(world, ago=timedelta(hours=1), full_ago=timedelta(hours=1))
    _stamp(world, orders[0], timedelta(minutes=30))
    _scheduled_pull(world)
    reads = _shipment_reads(world)

    _cursor_back(world, timedelta(hours=1))  # the order is in the window again, its stamp unchanged
    unchanged = _scheduled_pull(world)
    _cursor_back(world, timedelta(hours=1))
    _stamp(world, orders[0], timedelta(minutes=20))  # updated again in the store
    moved = _scheduled_pull(world)

    assert unchanged["total"] == 0
    assert moved["total"] == 1 and _shipment_reads(world) - reads == 1


def test_an_order_read_in_the_second_the_store_stamped_it_is_read_again_by_the_next_pull(world):
    orders = _three_sent_orders(world)
    _scheduled_pull(world)
    _as_if_pulled(world, ago=timedelta(hours=1), full_ago=timedelta(hours=1))
    _stamp(world, orders[0], timedelta(0))  # whole seconds: a second update in this second would keep the stamp
    _scheduled_pull(world)
    _cursor_back(world, timedelta(hours=1))

    again = _scheduled_pull(world)

    assert again["total"] == 1


def test_a_pull_by_hand_and_one_after_the_full_read_interval_read_every_order_awaiting_shipment(world):
    orders = _three_sent_orders(world)
    _scheduled_pull(world)
    _as_if_pulled(world, ago=timedelta(hours=1), full_ago=timedelta(hours=1))
    _ship_at(world, orders[2], timedelta(hours=3), "1Z-LATE")  # outside the window (its change was missed)

    _scheduled_pull(world)
    assert db.session.get(Order, orders[2].id).status == "sent"
    reads = _shipment_reads(world)
    world.ok("order_updates.pull")  # by hand
    assert _shipment_reads(world) - reads == 3
    assert db.session.get(Order, orders[2].id).status == "shipped"

    _as_if_pulled(world, ago=timedelta(hours=1), full_ago=timedelta(hours=7))
    reads = _shipment_reads(world)
    _scheduled_pull(world)
    assert _shipment_reads(world) - reads == 2  # the two still awaiting shipment, though neither changed
