"""Orders and order updates through the sandbox: a retailer's order reaches the wholesaler's store once, its
(partial) shipments with tracking come back to the retailer once each, and replays create nothing twice."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.orders import place_order
from portal.extensions import db
from portal.models import Fulfillment, Order, OrderLine
from tests.sync.conftest import RT_SHOPS, WS_SHOP, mutation_calls


def _order_flows(world):
    world.ok("orders.pull")
    world.ok("orders.push")


def _updates(world):
    world.ok("order_updates.pull")
    world.ok("order_updates.push")


def _placed(world, lines=(("TOTE-1", 2), ("SHIRT-S", 1)), shop=0):
    world.sync_catalog()
    return place_order(world.sandbox.sandbox, RT_SHOPS[shop], list(lines))


def test_retailer_order_flows_into_the_wholesalers_store_with_our_marker(world):
    placed = _placed(world)
    _order_flows(world)
    order = db.session.execute(select(Order)).scalar_one()
    assert (order.retailer_order_name, order.status) == (placed["name"], "sent")
    assert order.shipping_address["city"] == "Ottawa"
    lines = {line.sku: line for line in order.lines}
    assert {sku: line.quantity for sku, line in lines.items()} == {"TOTE-1": 2, "SHIRT-S": 1}
    assert lines["TOTE-1"].wholesale_price == Decimal("10.00")  # billing charges the wholesale price
    sor_orders = list(world.sor_shop().orders.values())
    assert len(sor_orders) == 1 and f"wholesync-order-{order.id}" in sor_orders[0].tags
    assert order.sor_remote_order_id == f"gid://shopify/Order/{sor_orders[0].id}"
    assert all(line.sor_remote_line_id for line in order.lines)
    retailer_fos = [fo for fo in world.store_shop(0).fulfillment_orders.values()]
    assert [fo.request_status for fo in retailer_fos] == ["ACCEPTED"]  # accepted once in the wholesaler's system


def test_only_this_wholesalers_lines_are_kept(world):
    world.sandbox.add_product(RT_SHOPS[0], "Retailer's own mug", [{"sku": "MUG-1", "price": "5.00", "available": 9}])
    _placed(world, lines=(("TOTE-1", 1), ("MUG-1", 3)))
    _order_flows(world)
    line = db.session.execute(select(OrderLine)).scalar_one()
    assert (line.sku, line.quantity) == ("TOTE-1", 1)
    sor_order = next(iter(world.sor_shop().orders.values()))
    assert [li["sku"] for li in sor_order.data["line_items"]] == ["TOTE-1"]


def test_replaying_order_jobs_creates_nothing_twice(world):
    _placed(world)
    _order_flows(world)
    sor_mutations = mutation_calls(world.sor_shop())
    _order_flows(world)
    db.session.execute(Order.__table__.update().values(status="received", sor_remote_order_id=None))
    db.session.commit()  # as if the worker died after orderCreate but before recording it
    world.ok("orders.push")
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 1
    assert len(world.sor_shop().orders) == 1
    assert mutation_calls(world.sor_shop()) == sor_mutations  # found by its marker, not created again


def _look_ups(world) -> list[str]:
    return [r["name"] for r in world.sor_shop().requests if r["name"] in ("SyncRecentOrders", "SyncFindOrder")]


def test_a_first_attempt_to_send_orders_looks_nothing_up_in_the_wholesalers_store(world):
    for _ in range(5):
        _placed(world, lines=(("TOTE-1", 1),))
    _order_flows(world)
    assert _look_ups(world) == []  # nothing tried before: nothing can be there yet
    sent = db.session.execute(select(Order).where(Order.status == "sent")).scalars().all()
    assert len(sent) == 5 and all(order.sor_attempted_at is not None for order in sent)
    assert len(world.sor_shop().orders) == 5


def _tried_before(when: datetime) -> None:
    """As if an earlier push committed its attempt on every order and died before orderCreate."""
    db.session.execute(Order.__table__.update().values(sor_attempted_at=when))
    db.session.commit()


def test_one_push_retrying_many_orders_lists_the_stores_recent_orders_once_not_once_per_order(world):
    for _ in range(5):
        _placed(world, lines=(("TOTE-1", 1),))
    world.ok("orders.pull")
    _tried_before(datetime.now(UTC))
    world.ok("orders.push")
    assert _look_ups(world) == ["SyncRecentOrders"]
    assert db.session.execute(select(func.count()).select_from(Order).where(Order.status == "sent")).scalar_one() == 5
    assert len(world.sor_shop().orders) == 5


def test_a_retry_reads_only_the_orders_the_store_created_since_the_first_attempt(world):
    _placed(world, lines=(("TOTE-1", 1),))
    for _ in range(250):  # the wholesaler's own trade of the last hour: three pages of recent orders
        older = place_order(world.sandbox.sandbox, WS_SHOP, [("SCARF-1", 1)])
        world.sor_shop().orders[int(older["id"].rsplit("/", 1)[1])].created_at -= timedelta(hours=1)
    world.ok("orders.pull")
    _tried_before(datetime.now(UTC))
    world.ok("orders.push")
    # One page: it reaches the hour-old orders, so every order since the attempt is listed and no search is needed.
    assert _look_ups(world) == ["SyncRecentOrders"]
    assert db.session.execute(select(Order)).scalar_one().status == "sent"


def test_a_failing_order_is_visible_on_it_and_the_others_still_go(world):
    _placed(world, lines=(("TOTE-1", 1),), shop=0)
    place_order(world.sandbox.sandbox, RT_SHOPS[1], [("SCARF-1", 1)])
    world.ok("orders.pull")
    tote_variant = world.sor_shop().variant_by_sku("TOTE-1")
    del world.sor_shop().variants[tote_variant.id]  # orderCreate will refuse this order's variant
    results = world.run("orders.push")
    assert results[0]["failed"] == 1 and results[0]["created"] == 1
    failed = db.session.execute(select(Order).where(Order.status == "failed")).scalar_one()
    assert "Variant not found" in failed.last_error
    assert db.session.execute(select(Order).where(Order.status == "sent")).scalar_one().retailer_order_name


def test_partial_then_final_shipment_flow_back_with_tracking_each_exactly_once(world):
    _placed(world)
    _order_flows(world)
    order = db.session.execute(select(Order)).scalar_one()
    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, [("TOTE-1", 1)], company="UPS",
         numbers=("1Z001",), urls=("https://ups.example/1Z001",))  # fmt: skip
    _updates(world)
    db.session.refresh(order)
    assert order.status == "partial" and order.shipped_at is not None
    assert {line.sku: line.fulfilled_quantity for line in order.lines} == {"TOTE-1": 1, "SHIRT-S": 0}
    retailer = world.store_shop(0)
    assert [f.tracking_info[0]["number"] for f in retailer.fulfillments.values()] == ["1Z001"]
    assert next(iter(retailer.fulfillments.values())).tracking_info[0]["company"] == "UPS"

    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, company="FedEx", numbers=("FX9",))
    _updates(world)
    _updates(world)  # replay: nothing new
    db.session.refresh(order)
    assert order.status == "completed" and order.completed_at is not None
    assert {line.sku: line.fulfilled_quantity for line in order.lines} == {"TOTE-1": 2, "SHIRT-S": 1}
    assert sorted(f.tracking_info[0]["number"] for f in retailer.fulfillments.values()) == ["1Z001", "FX9"]
    assert db.session.execute(select(func.count()).select_from(Fulfillment)).scalar_one() == 2
    assert all(fo.status == "CLOSED" for fo in retailer.fulfillment_orders.values())


def test_shipment_created_by_a_dead_attempt_is_found_not_duplicated(world):
    _placed(world)
    _order_flows(world)
    order = db.session.execute(select(Order)).scalar_one()
    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z777",))
    _updates(world)
    db.session.execute(Fulfillment.__table__.update().values(pushed_at=None, retailer_remote_fulfillment_id=None))
    db.session.commit()  # as if the worker died after fulfillmentCreate
    world.ok("order_updates.push")
    assert len(world.store_shop(0).fulfillments) == 1
    assert db.session.execute(select(Fulfillment)).scalar_one().retailer_remote_fulfillment_id


def test_cancelled_retailer_order_is_not_sent(world):
    placed = _placed(world)
    shop = world.store_shop(0)
    remote = shop.orders[int(placed["id"].rsplit("/", 1)[1])]
    from fakes.shopify.state import now

    remote.data["cancelled_at"] = now()
    remote.updated_at = now()
    _order_flows(world)
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "cancelled" and not world.sor_shop().orders
