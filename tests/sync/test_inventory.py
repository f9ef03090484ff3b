"""Stock: levels flow from the system of record to the retailers' fulfillment-service locations, only when they
changed, 250 per call with idempotency keys, less in-flight orders and the buffer; fetch_stock answers the same."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from fakes.shopify.resolvers.orders import place_order
from integrations.shopify.webhooks import webhook_hmac
from jobs.plan import get_job
from jobs.runtime import new_run, run_job
from portal.extensions import db
from portal.models import Order, Product, SyncRun
from portal.services import partnerships as service
from portal.services import selection
from tests.sync.conftest import RT_SHOPS, WS_SHOP, mutation_calls
from tests.sync.test_selection import PRODUCT_SET


def _set_sor_stock(world, sku: str, quantity: int) -> None:
    shop = world.sor_shop()
    item = shop.inventory_items[shop.variant_by_sku(sku).inventory_item_id]
    item.levels[shop.primary_location.id]["available"] = quantity


def _retailer_level(world, n: int, sku: str) -> int:
    shop = world.store_shop(n)
    loc_id = int(world.partnerships[n].placement["location_id"].rsplit("/", 1)[1])
    return shop.available(shop.variant_by_sku(sku).inventory_item_id, loc_id)


def test_stock_change_flows_out_to_both_retailers_and_only_the_changed_level_is_sent(world):
    world.sync_catalog()
    _set_sor_stock(world, "SHIRT-M", 2)
    pulled = world.ok("inventory.pull")
    assert (pulled[0]["updated"], pulled[0]["skipped"]) == (1, 3)
    pushed = world.ok("inventory.push")
    assert [r["updated"] for r in pushed] == [1, 1]
    assert [_retailer_level(world, n, "SHIRT-M") for n in range(2)] == [2, 2]
    assert _retailer_level(world, 0, "SHIRT-S") == 5
    calls = [r for r in world.store_shop(0).requests if r["root_fields"] == ["inventorySetQuantities"]]
    assert len(calls) == 1
    assert world.store_shop(0).idempotency  # every inventory mutation carried an idempotency key


def test_second_inventory_run_with_nothing_changed_makes_zero_mutations(world):
    world.sync_catalog()
    _set_sor_stock(world, "TOTE-1", 11)
    world.ok("inventory.pull")
    world.ok("inventory.push")
    before = [mutation_calls(world.store_shop(n)) for n in range(2)]
    world.ok("inventory.pull")
    world.ok("inventory.push")
    assert [mutation_calls(world.store_shop(n)) for n in range(2)] == before


def test_levels_go_in_batches_of_at_most_250(world):
    for half in range(2):  # 260 variants over two products (Shopify takes at most 250 per input list)
        variants = [{"sku": f"BOLT-{i:03}", "price": "1.00", "available": 5, "option": f"{i:03}"}
                    for i in range(half * 130, half * 130 + 130)]  # fmt: skip
        world.sandbox.add_product(WS_SHOP, f"Bolts {half}", variants)
    world.sync_catalog()
    for i in range(260):
        _set_sor_stock(world, f"BOLT-{i:03}", 9)
    world.ok("inventory.pull")
    world.ok(
        "inventory.push",
    )
    calls = [r for r in world.store_shop(0).requests if r["root_fields"] == ["inventorySetQuantities"]]
    assert len(calls) == 2
    assert _retailer_level(world, 0, "BOLT-259") == 9


def test_in_flight_orders_and_the_buffer_are_netted_out(world):
    world.sync_catalog()
    service.set_stock_buffer(world.partnerships[1].id, 2)
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 3)])  # the retailer's own level drops to 17
    world.ok("orders.pull")  # received, not yet in the system of record (whose stock is still 20)
    world.ok("inventory.push")
    assert _retailer_level(world, 0, "TOTE-1") == 17  # 20 - 3 in flight
    assert _retailer_level(world, 1, "TOTE-1") == 15  # 20 - 3 in flight - 2 buffer
    world.ok("orders.push")  # now the system of record has it: its stock drops to 17, nothing in flight
    world.ok("inventory.pull")
    world.ok("inventory.push")
    assert [_retailer_level(world, n, "TOTE-1") for n in range(2)] == [17, 15]


def _level_reads(world, n: int) -> int:
    return sum(1 for r in world.store_shop(n).requests if r.get("name") == "SyncLevels")


def test_a_full_push_restores_a_level_the_retailers_own_sale_lowered_though_the_offer_equals_what_was_last_pushed(
    world,
):
    world.sync_catalog()  # both retailers hold TOTE-1 at 20, and the hub last pushed 20
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 3)])  # retailer 0's store drops to 17
    _set_sor_stock(world, "TOTE-1", 23)  # the wholesaler restocks before the order reaches its store
    world.ok("inventory.pull")
    world.ok("orders.pull")  # 3 in flight: retailer 0 is offered 23 - 3 = 20, exactly what was last pushed
    world.ok("inventory.push")
    assert _retailer_level(world, 0, "TOTE-1") == 20
    assert _retailer_level(world, 1, "TOTE-1") == 20
    assert [_level_reads(world, n) for n in range(2)] == [1, 0]  # only the store that sold was read, once


def test_a_full_push_reads_no_store_levels_when_no_order_came_in_since_the_last_one(world):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 3)])
    world.ok("orders.pull")
    changed = datetime.now(UTC) - timedelta(hours=1)  # long before the next push, beyond the overlap
    db.session.execute(update(Order).values(received_at=changed, updated_at=changed))
    db.session.commit()
    world.ok("inventory.push")
    assert _level_reads(world, 0) == 1  # the first full push reads what was sold before it
    reads = _level_reads(world, 0)
    world.ok("inventory.push")
    assert _level_reads(world, 0) == reads
    assert _retailer_level(world, 0, "TOTE-1") == 17


def _signed_get(client, url, secret, shop):
    return client.get(url, headers={"X-Shopify-Hmac-Sha256": webhook_hmac(b"", secret), "X-Shopify-Shop-Domain": shop})


def test_fetch_stock_answers_our_counts_for_the_partnership_only_when_signed(world, client, app):
    world.sync_catalog()
    p = world.partnerships[0]
    secret = app.config["SHOPIFY_API_SECRET"]
    url = f"/fulfillment-service/{p.id}/fetch_stock"
    answer = _signed_get(client, url, secret, RT_SHOPS[0])
    assert answer.status_code == 200
    assert answer.get_json() == {"TOTE-1": 20, "SHIRT-S": 5, "SHIRT-M": 7, "SCARF-1": 3}
    assert _signed_get(client, url + "?sku=SHIRT-M", secret, RT_SHOPS[0]).get_json() == {"SHIRT-M": 7}
    assert client.get(url).status_code == 403  # unsigned
    assert _signed_get(client, url, "not-the-secret", RT_SHOPS[0]).status_code == 403
    assert _signed_get(client, url, secret, RT_SHOPS[1]).status_code == 404  # another store's signature


def test_fetch_stock_answers_0_for_products_outside_the_selection_or_gone_from_the_catalog(world, client, app):
    world.sync_catalog()
    p = world.partnerships[0]
    kept = [pid for pid, title in db.session.execute(select(Product.id, Product.title)) if title != "Wool Scarf"]
    selection.save(p, selection.build(p, "picked", {}, kept))  # the scarf leaves the selection, not yet drafted
    db.session.commit()
    archived = world.sandbox.graphql(WS_SHOP, PRODUCT_SET, {"id": world.seeded["Canvas Tote"]["product_id"],
                                                           "i": {"status": "ARCHIVED"}})  # fmt: skip
    assert not archived["productSet"]["userErrors"], archived
    world.ok("products.pull")  # the tote leaves the catalog; no products.push yet
    answer = _signed_get(client, f"/fulfillment-service/{p.id}/fetch_stock", app.config["SHOPIFY_API_SECRET"],
                         RT_SHOPS[0]).get_json()  # fmt: skip
    assert answer == {"TOTE-1": 0, "SHIRT-S": 5, "SHIRT-M": 7, "SCARF-1": 0}


def test_fulfillment_request_callback_starts_an_orders_pull_for_that_store(world, client, app):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    deliveries = [d for d in world.sandbox.deliver_webhooks() if d.topic == "fulfillment_orders/fulfillment_request"]
    assert [d.status for d in deliveries] == [200]
    run = db.session.execute(select(SyncRun).where(SyncRun.job_name == "orders.pull")).scalar_one()
    assert (run.trigger, run.target_key) == ("webhook", f"connection:{world.stores[0].id}")
    body = json.dumps({"kind": "FULFILLMENT_REQUEST"}).encode()
    url = f"/fulfillment-service/{world.partnerships[0].id}/fulfillment_order_notification"
    headers = {"X-Shopify-Hmac-Sha256": "bad", "X-Shopify-Shop-Domain": RT_SHOPS[0]}
    forged = client.post(url, data=body, headers=headers)
    assert forged.status_code == 403


def test_a_retried_stock_pull_asks_for_the_pushes_though_the_chunks_it_reads_again_moved_nothing(world):
    world.sync_catalog()
    world.ok("inventory.pull")
    target = f"connection:{world.sor.id}"
    run = new_run(get_job("inventory.pull"), target, "schedule")
    run.attempts = 1  # the first attempt committed its chunks (levels that moved) and died before its pushes
    db.session.commit()
    run_job("inventory.pull", target, "schedule", run.id)
    pushes = db.session.execute(select(SyncRun).where(SyncRun.job_name == "inventory.push")).scalars().all()
    assert {p.trigger for p in pushes} == {"chain"} and len(pushes) == 2
