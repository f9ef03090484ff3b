"""Stock events from the wholesaler's store: subscribed at connect (the wholesaler's store only) and repaired by the
hourly pull; a level changed in the sandbox reaches every retailer through the webhook, coalesced per window; a
retailer's order lowers what the other retailers are offered at once."""

from __future__ import annotations

import time
import uuid

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from fakes.shopify.resolvers.orders import place_order
from fakes.shopify.state import gid
from jobs.flows import event_push
from jobs.runtime import connection
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import SyncRun, WebhookReceipt
from portal.services.subscriptions import ensure_sor_subscriptions
from tests.sync.conftest import RT_SHOPS, WS_SHOP

WINDOW = 0.5

SET_STOCK = (
    "mutation($i: InventorySetQuantitiesInput!, $k: String!) { inventorySetQuantities(input: $i) "
    "@idempotent(key: $k) { userErrors { message } } }"
)


def placed_and_subscribed(world, app):
    """The world with its catalog placed, the wholesaler's store subscribed, and a short coalescing window."""
    app.config["STOCK_EVENT_WINDOW_SECONDS"] = WINDOW
    world.sync_catalog()
    ensure_sor_subscriptions(world.sor)
    return world


@pytest.fixture
def events(world, app):
    return placed_and_subscribed(world, app)


def set_sor_stock(world, sku: str, quantity: int) -> None:
    """The merchant sets stock in the wholesaler's store (GraphQL, as its admin does): the store sends the event."""
    shop = world.sor_shop()
    variant = shop.variant_by_sku(sku)
    quantities = [{"inventoryItemId": gid("InventoryItem", variant.inventory_item_id),
                   "locationId": gid("Location", shop.primary_location.id), "quantity": quantity,
                   "changeFromQuantity": None}]  # fmt: skip
    world.sandbox.graphql(WS_SHOP, SET_STOCK, {"i": {"name": "available", "reason": "correction",
                                                     "quantities": quantities}, "k": str(uuid.uuid4())})  # fmt: skip


def settle(world, app, rounds: int = 4) -> None:
    """Deliver the stores' webhooks and run the workers (with their scheduler) until nothing is left to do."""
    registry = ScheduledJobRegistry(queue=Queue("webhooks", connection=connection()))
    for _ in range(rounds):
        world.sandbox.deliver_webhooks()
        make_worker(app).work(burst=True, with_scheduler=True)
        if not registry.get_job_ids() and not world.sandbox.sandbox.outbox.pending:
            break
        time.sleep(WINDOW + 0.2)
    db.session.expire_all()


def retailer_level(world, n: int, sku: str) -> int:
    shop = world.store_shop(n)
    location = int(world.partnerships[n].placement["location_id"].rsplit("/", 1)[1])
    return shop.available(shop.variant_by_sku(sku).inventory_item_id, location)


def set_calls(world, n: int) -> int:
    return sum(1 for r in world.store_shop(n).requests if r["root_fields"] == ["inventorySetQuantities"])


def runs(job: str) -> list[SyncRun]:
    return list(db.session.execute(select(SyncRun).where(SyncRun.job_name == job)).scalars())


def test_only_the_wholesalers_store_is_subscribed_and_subscribing_again_creates_nothing(world, app):
    created = ensure_sor_subscriptions(world.sor)
    assert sorted(created) == ["INVENTORY_LEVELS_UPDATE", "PRODUCTS_CREATE", "PRODUCTS_DELETE", "PRODUCTS_UPDATE"]
    subs = list(world.sor_shop().webhooks.values())
    assert {s.uri for s in subs} == {app.config["SHOPIFY_APP_URL"].rstrip("/") + "/webhooks/shopify"}
    stock = next(s for s in subs if s.topic == "INVENTORY_LEVELS_UPDATE")
    assert "updated_at" in stock.include_fields  # else Shopify drops a repeated identical payload
    assert ensure_sor_subscriptions(world.sor) == []
    assert [ensure_sor_subscriptions(store) for store in world.stores] == [[], []]
    assert [len(world.store_shop(n).webhooks) for n in range(2)] == [0, 0]


def test_the_hourly_stock_pull_restores_a_subscription_the_store_dropped(world):
    world.sync_catalog()
    ensure_sor_subscriptions(world.sor)
    shop = world.sor_shop()
    dropped = next(s.id for s in shop.webhooks.values() if s.topic == "INVENTORY_LEVELS_UPDATE")
    del shop.webhooks[dropped]  # Shopify deletes an API-made subscription after repeated failed deliveries
    world.ok("inventory.pull")
    assert sorted(s.topic for s in shop.webhooks.values()) == [
        "INVENTORY_LEVELS_UPDATE", "PRODUCTS_CREATE", "PRODUCTS_DELETE", "PRODUCTS_UPDATE"
    ]  # fmt: skip


def test_a_stock_change_in_the_wholesalers_store_reaches_every_retailer_without_a_full_pass(events, app):
    set_sor_stock(events, "SHIRT-M", 2)
    settle(events, app)
    assert [retailer_level(events, n, "SHIRT-M") for n in range(2)] == [2, 2]
    assert retailer_level(events, 0, "SHIRT-S") == 5  # untouched
    assert runs("inventory.pull") == []  # no whole-catalog read: the event moved one item
    pushes = runs("inventory.push")
    assert {(r.trigger, r.status) for r in pushes} == {("event", "done")}
    assert sorted(r.updated for r in pushes if r.updated) == [1, 1]


def test_a_burst_on_one_item_becomes_one_push_per_retailer_with_the_last_level(events, app):
    before = [set_calls(events, n) for n in range(2)]
    for quantity in (9, 8, 7, 6, 4):
        set_sor_stock(events, "TOTE-1", quantity)
    events.sandbox.deliver_webhooks()
    make_worker(app).work(burst=True)  # every event is taken within the window
    settle(events, app)
    assert [retailer_level(events, n, "TOTE-1") for n in range(2)] == [4, 4]
    assert [set_calls(events, n) - before[n] for n in range(2)] == [1, 1]


def test_the_stock_event_is_a_trigger_the_level_is_read_back_from_the_store(events, app):
    set_sor_stock(events, "SCARF-1", 8)
    delivered = events.sandbox.deliver_webhooks()
    shop = events.sor_shop()
    item = shop.inventory_items[shop.variant_by_sku("SCARF-1").inventory_item_id]
    item.levels[shop.primary_location.id]["available"] = 11  # moved again before the event was processed
    make_worker(app).work(burst=True)
    settle(events, app)
    assert any(d.topic == "inventory_levels/update" for d in delivered)
    assert [retailer_level(events, n, "SCARF-1") for n in range(2)] == [11, 11]


def test_stock_events_from_a_retailers_store_are_not_mirrored(events, app):
    payload = {"inventory_item_id": 1, "location_id": 1, "available": 3, "updated_at": "2026-11-30T00:00:00Z"}
    events.sandbox.emit(RT_SHOPS[0], "inventory_levels/update", payload)
    events.sandbox.sandbox.outbox.pending.clear()  # retailers' stores have no subscription: nothing is sent
    assert events.store_shop(0).webhooks == {}
    from jobs.flows.stock_events import inventory_level_changed

    receipt = WebhookReceipt(source="shopify", event_id="forged", topic="inventory_levels/update",
                             shop_domain=RT_SHOPS[0], payload=payload)  # fmt: skip
    assert "ignored" in inventory_level_changed(receipt)


def test_a_retailers_order_lowers_the_other_retailers_level_at_once(events, app):
    place_order(events.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 3)])  # the orders webhook starts orders.pull
    settle(events, app)
    # The other retailer is offered 20 - 3 in flight without waiting for the hourly push.
    assert retailer_level(events, 1, "TOTE-1") == 17
    assert any(r.trigger == "event" for r in runs("inventory.push"))
    assert len(events.sor_shop().orders) == 1


def test_a_push_whose_levels_the_store_refused_ends_with_failures_and_sends_them_with_the_next_window(
    events, app, monkeypatch
):
    import jobs.flows.inventory as inventory

    def refused(*args, **kwargs):
        raise RuntimeError("the store refused the levels")

    monkeypatch.setattr(inventory, "set_levels", refused)
    set_sor_stock(events, "SHIRT-M", 2)
    settle(events, app)
    pushes = runs("inventory.push")
    assert {(r.trigger, r.status) for r in pushes} == {("event", "done_with_failures")}
    assert all(r.failed == 1 and "failed" in r.message for r in pushes)
    monkeypatch.undo()
    set_sor_stock(events, "SCARF-1", 8)  # the next change of the partnership: its push takes SHIRT-M too
    settle(events, app)
    assert [retailer_level(events, n, "SHIRT-M") for n in range(2)] == [2, 2]
    assert [retailer_level(events, n, "SCARF-1") for n in range(2)] == [8, 8]


def test_an_event_push_whose_process_dies_right_after_opening_its_run_is_taken_over_and_not_left_blocking(
    events, app, monkeypatch
):
    import jobs.flows.stock_events as stock_events
    from jobs.runtime import drain_outbox
    from jobs.sweeper import take_over_lost_leases

    set_sor_stock(events, "SHIRT-M", 2)
    events.sandbox.deliver_webhooks()
    make_worker(app).work(burst=True)  # the receipt takes the change; the window's push is only scheduled
    partnership_id = events.partnerships[0].id

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("the work-horse was killed")  # not an Exception: nothing of ours catches it

    monkeypatch.setattr(stock_events, "current_rq_id", lambda: "push_partnership-job-1")
    monkeypatch.setattr(stock_events, "RunContext", killed)
    with pytest.raises(KeyboardInterrupt):
        stock_events.push_partnership(partnership_id)
    db.session.rollback()
    monkeypatch.undo()
    (run,) = [r for r in runs("inventory.push") if r.target_key == f"partnership:{partnership_id}"]
    assert (run.status, run.rq_job_id) == ("running", "push_partnership-job-1")  # never queued with no job
    assert take_over_lost_leases() == [run.id]
    drain_outbox()  # as the scheduler's pass does after a takeover
    settle(events, app)
    db.session.refresh(run)
    assert run.status == "done"
    assert [retailer_level(events, n, "SHIRT-M") for n in range(2)] == [2, 2]


def _changed_without_an_event(world, sku: str, quantity: int) -> None:
    """The wholesaler's level moves and its event never arrives (the hourly stock pull is what sees it)."""
    shop = world.sor_shop()
    shop.inventory_items[shop.variant_by_sku(sku).inventory_item_id].levels[shop.primary_location.id]["available"] = (
        quantity
    )


def test_a_stock_pull_sends_what_it_moved_by_the_event_push_not_a_full_push_behind_the_sync_queue(events, app):
    world = events
    _changed_without_an_event(world, "TOTE-1", 4)

    world.ok("inventory.pull")
    settle(world, app)

    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [4, 4]
    assert {run.trigger for run in runs("inventory.push")} == {"event"}  # no full push waits on the sync queue


def test_a_stock_pull_that_moved_more_than_the_event_limit_chains_a_full_push_per_retailer(events, app, monkeypatch):
    world = events
    monkeypatch.setattr(event_push, "PULL_HANDOFF_LIMIT", 0)
    _changed_without_an_event(world, "TOTE-1", 4)

    world.ok("inventory.pull")
    settle(world, app)

    assert sorted(run.trigger for run in runs("inventory.push")) == ["chain", "chain"]
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [4, 4]
