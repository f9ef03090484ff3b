"""Stock from the right places: the wholesaler's store has two locations, only its shop location fulfils online
orders. By default a retailer is offered that location's stock; a partnership may count both (their sum); a stock
event at a location a partnership does not count changes nothing at that retailer; a dry run of a new choice
writes nothing; the partner page saves a choice of the wholesaler's own locations only."""

from __future__ import annotations

import json
import uuid
from itertools import groupby

from sqlalchemy import func, select
from werkzeug.test import Client

from fakes.shopify import Sandbox
from fakes.shopify.state import gid
from integrations.base import WHOLE_STOCK, StockLevel
from integrations.feeds.adapters import FeedSystemOfRecord
from integrations.feeds.settings import FeedSettings
from integrations.woocommerce.adapters import WooSystemOfRecord
from portal.extensions import db
from portal.models import StockLocation, SyncRun, Variant, VariantStock
from portal.services import stock
from portal.services.platforms import system_of_record
from tests.conftest import csrf_token
from tests.support import factories
from tests.sync.conftest import RT_SHOPS, WS_SHOP, mutation_calls
from tests.sync.test_events_stock import placed_and_subscribed, retailer_level, runs, set_calls, settle
from tests.sync.test_inventory import _signed_get

SET_STOCK = (
    "mutation($i: InventorySetQuantitiesInput!, $k: String!) { inventorySetQuantities(input: $i) "
    "@idempotent(key: $k) { userErrors { message } } }"
)


def add_warehouse(world, stocked: dict[str, int]):
    """A second location in the wholesaler's store that does not fulfil online orders, stocking these SKUs."""
    shop = world.sor_shop()
    warehouse = shop.add_location("Back warehouse", fulfills_online_orders=False)
    for sku, quantity in stocked.items():
        item = shop.inventory_items[shop.variant_by_sku(sku).inventory_item_id]
        item.levels[warehouse.id] = {"available": quantity, "on_hand": quantity}
    return warehouse


def set_stock_at(world, sku: str, location_id: int, quantity: int) -> None:
    """The merchant sets stock at one location of the wholesaler's store (GraphQL): the store sends the event."""
    shop = world.sor_shop()
    item = gid("InventoryItem", shop.variant_by_sku(sku).inventory_item_id)
    quantities = [{"inventoryItemId": item, "locationId": gid("Location", location_id), "quantity": quantity,
                   "changeFromQuantity": None}]  # fmt: skip
    world.sandbox.graphql(WS_SHOP, SET_STOCK, {"i": {"name": "available", "reason": "correction",
                                                     "quantities": quantities}, "k": str(uuid.uuid4())})  # fmt: skip


def hub_location(world, name: str) -> StockLocation:
    return db.session.execute(
        select(StockLocation).where(StockLocation.wholesaler_id == world.wholesaler.id, StockLocation.name == name)
    ).scalar_one()


def stocked_world(world):
    """Catalog placed at both retailers, the warehouse holding 100 totes and 50 medium shirts, stock pulled."""
    world.sync_catalog()
    warehouse = add_warehouse(world, {"TOTE-1": 100, "SHIRT-M": 50})
    world.ok("inventory.pull")
    world.ok("inventory.push")
    return warehouse


def test_the_pull_records_each_location_and_by_default_only_the_one_fulfilling_online_orders_counts(world):
    stocked_world(world)
    locations = {loc.name: loc for loc in stock.wholesaler_locations(world.wholesaler.id)}
    assert {n: (loc.fulfills_online_orders, loc.active) for n, loc in locations.items()} == {
        "Back warehouse": (False, True),
        "Shop location": (True, True),
    }
    tote = db.session.execute(select(Variant).where(Variant.sku == "TOTE-1")).scalar_one()
    assert tote.inventory_quantity == 120  # the hub's total covers every location
    per_location = dict(
        db.session.execute(
            select(StockLocation.name, VariantStock.quantity)
            .join(StockLocation, VariantStock.location_id == StockLocation.id)
            .where(VariantStock.variant_id == tote.id)
        ).all()
    )
    assert per_location == {"Shop location": 20, "Back warehouse": 100}
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [20, 20]
    assert [retailer_level(world, n, "SHIRT-M") for n in range(2)] == [7, 7]
    assert retailer_level(world, 0, "SCARF-1") == 3


def test_a_partnership_counting_both_locations_is_offered_their_sum_on_every_path(world, client, app):
    stocked_world(world)
    both = [loc.id for loc in stock.wholesaler_locations(world.wholesaler.id)]
    stock.set_location_ids(world.partnerships[0], both)
    world.ok("inventory.push")
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [120, 20]
    assert [retailer_level(world, n, "SHIRT-M") for n in range(2)] == [57, 7]
    assert retailer_level(world, 0, "SHIRT-S") == 5  # stocked at the shop location only
    secret = app.config["SHOPIFY_API_SECRET"]  # Shopify's fetch_stock callback answers the same figures
    answers = [
        _signed_get(client, f"/fulfillment-service/{p.id}/fetch_stock?sku=TOTE-1", secret, RT_SHOPS[n]).get_json()
        for n, p in enumerate(world.partnerships)
    ]
    assert answers == [{"TOTE-1": 120}, {"TOTE-1": 20}]


def test_the_buffer_comes_off_the_sum_of_the_counted_locations_and_never_below_zero(world):
    stocked_world(world)
    world.partnerships[0].stock_buffer = 10
    stock.set_location_ids(world.partnerships[0], [hub_location(world, "Back warehouse").id])
    world.ok("inventory.push")
    assert retailer_level(world, 0, "TOTE-1") == 90  # warehouse only: 100 - 10
    assert retailer_level(world, 0, "SHIRT-M") == 40
    assert retailer_level(world, 0, "SHIRT-S") == 0  # not stocked at the warehouse
    assert retailer_level(world, 1, "TOTE-1") == 20


def test_a_stock_event_at_a_location_a_partnership_does_not_count_changes_nothing_at_that_retailer(world, app):
    warehouse = stocked_world(world)
    placed_and_subscribed(world, app)
    stock.set_location_ids(world.partnerships[0], [loc.id for loc in stock.wholesaler_locations(world.wholesaler.id)])
    world.ok("inventory.push")
    calls_before = [set_calls(world, n) for n in range(2)]
    set_stock_at(world, "TOTE-1", warehouse.id, 70)
    settle(world, app)
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [90, 20]  # counted at 0 only
    assert set_calls(world, 1) == calls_before[1]  # nothing sent to the retailer that counts the shop location
    # (stocked_world's pull also hands its moved variants to the event push: those runs find nothing left to send)
    event_pushes = [r for r in runs("inventory.push") if r.trigger == "event" and r.updated]
    assert [r.target_key for r in event_pushes] == [f"partnership:{world.partnerships[0].id}"]
    tote = db.session.execute(select(Variant).where(Variant.sku == "TOTE-1")).scalar_one()
    assert tote.inventory_quantity == 90  # the hub keeps the total either way


def test_a_stock_event_at_the_counted_location_is_pushed_to_every_retailer_counting_it(world, app):
    stocked_world(world)
    placed_and_subscribed(world, app)
    set_stock_at(world, "TOTE-1", world.sor_shop().primary_location.id, 4)
    settle(world, app)
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [4, 4]
    assert sorted(r.updated for r in runs("inventory.push") if r.trigger == "event" and r.updated) == [1, 1]


def test_an_event_at_a_location_the_hub_has_not_seen_reads_the_locations_first(world, app):
    world.sync_catalog()
    world.ok("inventory.pull")
    placed_and_subscribed(world, app)
    shop = world.sor_shop()
    depot = shop.add_location("Depot", fulfills_online_orders=True)  # opened after the last pull
    item = shop.inventory_items[shop.variant_by_sku("SCARF-1").inventory_item_id]
    item.levels[depot.id] = {"available": 0, "on_hand": 0}
    set_stock_at(world, "SCARF-1", depot.id, 6)
    settle(world, app)
    assert hub_location(world, "Depot").fulfills_online_orders is True
    assert [retailer_level(world, n, "SCARF-1") for n in range(2)] == [9, 9]  # both fulfil online orders: 3 + 6


def test_an_inactive_location_stops_counting_and_with_no_online_location_every_active_one_counts(world):
    warehouse = stocked_world(world)
    shop = world.sor_shop()
    shop.primary_location.is_active = False  # the shop location closes; only the warehouse is left
    world.ok("inventory.pull")
    world.ok("inventory.push")
    assert hub_location(world, "Shop location").active is False
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [100, 100]
    assert retailer_level(world, 0, "SHIRT-S") == 0
    assert warehouse.name == "Back warehouse"


def page(client, world):
    return client.get(f"/partners/{world.partnerships[0].id}").get_data(as_text=True)


def post_locations(client, world, action: str, locations: list):
    html = page(client, world)
    data = {"csrf_token": csrf_token(html), "action": action, "location": [str(i) for i in locations]}
    return client.post(f"/partners/{world.partnerships[0].id}/locations", data=data)


def test_a_dry_run_of_a_new_choice_shows_the_level_changes_and_writes_nothing(world, client, auth):
    stocked_world(world)
    auth.login(world.user.email)
    both = [loc.id for loc in stock.wholesaler_locations(world.wholesaler.id)]
    runs_before = db.session.execute(select(func.count()).select_from(SyncRun)).scalar_one()
    mutations_before = mutation_calls(world.store_shop(0))
    answer = post_locations(client, world, "preview", both)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Dry run: nothing was saved or sent" in html
    assert "2 level(s) would change at the retailer" in html  # TOTE-1 20 -> 120, SHIRT-M 7 -> 57
    assert "<td>TOTE-1</td><td>20</td><td>120</td>" in html
    db.session.expire_all()
    assert world.partnerships[0].stock_location_ids is None
    assert db.session.execute(select(func.count()).select_from(SyncRun)).scalar_one() == runs_before
    assert mutation_calls(world.store_shop(0)) == mutations_before
    assert retailer_level(world, 0, "TOTE-1") == 20


def test_the_partner_page_lists_the_locations_and_saving_a_choice_pushes_the_retailers_stock_again(world, client, auth):
    stocked_world(world)
    auth.login(world.user.email)
    html = page(client, world)
    warehouse, shop_location = hub_location(world, "Back warehouse"), hub_location(world, "Shop location")
    assert "Back warehouse" in html and "Shop location (fulfils online orders)" in html
    assert f'value="{shop_location.id}" checked' in html and f'value="{warehouse.id}" checked' not in html
    answer = post_locations(client, world, "save", [warehouse.id, shop_location.id])
    assert answer.status_code == 302
    db.session.expire_all()
    assert world.partnerships[0].stock_location_ids == sorted([warehouse.id, shop_location.id])
    run = db.session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
    assert (run.job_name, run.trigger, run.status) == ("inventory.push", "manual", "queued")
    assert run.target_key == f"partnership:{world.partnerships[0].id}"
    assert "pushed again from these locations" in client.get(answer.location).get_data(as_text=True)
    assert f'value="{warehouse.id}" checked' in page(client, world)
    assert post_locations(client, world, "default", []).status_code == 302
    db.session.expire_all()
    assert world.partnerships[0].stock_location_ids is None


def test_a_location_that_is_not_the_wholesalers_is_refused_with_a_message_and_nothing_is_saved(world, client, auth):
    stocked_world(world)
    other = factories.wholesaler(name="Other Wholesale").organization
    conn = factories.connection(other, "system_of_record", "other-wholesale.myshopify.com")
    foreign = StockLocation(wholesaler_id=other.id, connection_id=conn.id, remote_id="gid://shopify/Location/1",
                            name="Their warehouse")  # fmt: skip
    db.session.add(foreign)
    db.session.commit()
    auth.login(world.user.email)
    runs_before = db.session.execute(select(func.count()).select_from(SyncRun)).scalar_one()
    answer = post_locations(client, world, "save", [foreign.id])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f"Location {foreign.id} is not one of your locations; nothing was saved." in html
    assert "Their warehouse" not in html
    assert post_locations(client, world, "save", []).status_code == 400  # nothing checked: refused too
    db.session.expire_all()
    assert world.partnerships[0].stock_location_ids is None
    assert db.session.execute(select(func.count()).select_from(SyncRun)).scalar_one() == runs_before


def test_platforms_with_one_stock_figure_report_one_pseudo_location_that_counts_by_default(world):
    feed_without_stock_file = FeedSystemOfRecord(FeedSettings(), files=None)
    for adapter in (WooSystemOfRecord(None, client=None), feed_without_stock_file):
        (location,) = adapter.locations()  # reads nothing: the platform has no locations to ask for
        assert (location.remote_id, location.fulfills_online_orders, location.active) == (WHOLE_STOCK, True, True)
    world.sync_catalog()
    ids = stock.sync_locations(world.sor, WooSystemOfRecord.locations(None))
    remote = {v.sku: v.remote_id for v in db.session.execute(select(Variant)).scalars()}
    levels = [StockLevel(remote[sku], sku, quantity) for sku, quantity in (("TOTE-1", 8), ("SCARF-1", 2))]
    changes = stock.record_levels(world.sor, levels, ids)
    db.session.commit()
    assert [sku for _, sku, _, _ in changes.totals] == ["TOTE-1", "SCARF-1"]
    assert stock.counted_location_ids(world.partnerships[0]) == [ids[WHOLE_STOCK]]
    offered = {level.sku: level.quantity for level in stock.retailer_quantities(world.partnerships[0])}
    assert offered == {"TOTE-1": 8, "SHIRT-S": 5, "SHIRT-M": 7, "SCARF-1": 2}  # untouched variants: their total


def test_the_sandbox_admin_opens_a_location_and_sets_stock_there_with_the_event_shopify_sends():
    received = []
    sandbox = Sandbox(sink=lambda url, headers, body: received.append((headers, body)) or 200, auto_deliver=False)
    tote = sandbox.add_product(WS_SHOP, "Canvas Tote", [{"sku": "TOTE-1", "price": "10.00", "available": 20}])
    subscribe = (
        "mutation { webhookSubscriptionCreate(topic: INVENTORY_LEVELS_UPDATE, "
        'webhookSubscription: {uri: "https://hooks.example/"}) { userErrors { message } } }'
    )
    sandbox.run(sandbox.shop(WS_SHOP), subscribe, {}, charge=False)
    client, origin = Client(sandbox), {"Origin": "http://localhost"}
    opened = client.post(f"/_sandbox/admin/{WS_SHOP}/locations", data={"name": "Back warehouse"}, headers=origin)
    assert opened.status_code == 303
    shop = sandbox.shop(WS_SHOP)
    warehouse = next(loc for loc in shop.locations.values() if loc.name == "Back warehouse")
    assert warehouse.fulfills_online_orders is False
    page = client.get(f"/_sandbox/admin/{WS_SHOP}/products").text
    assert "not stocked" in page and "Back warehouse" in page
    variant = int(tote["variants"]["TOTE-1"]["variant_id"].rsplit("/", 1)[1])
    data = {"available": "30", "location_id": str(warehouse.id)}
    assert (
        client.post(f"/_sandbox/admin/{WS_SHOP}/variants/{variant}/stock", data=data, headers=origin).status_code == 303
    )
    assert shop.available(shop.variants[variant].inventory_item_id, warehouse.id) == 30
    sandbox.outbox.deliver_pending()
    payloads = [
        json.loads(body) for headers, body in received if headers["X-Shopify-Topic"] == "inventory_levels/update"
    ]
    assert [(p["location_id"], p["available"]) for p in payloads] == [(warehouse.id, 30)]
    answer = sandbox.run(
        shop, "{ locations(first: 5) { nodes { name fulfillsOnlineOrders isActive } } }", {}, charge=False
    )
    assert {n["name"]: n["fulfillsOnlineOrders"] for n in answer["data"]["locations"]["nodes"]} == {
        "Shop location": True,
        "Back warehouse": False,
    }


def test_a_product_placed_for_the_first_time_starts_at_the_counted_level_not_the_wholesalers_total(world):
    world.ok("products.pull")
    add_warehouse(world, {"TOTE-1": 100, "SHIRT-M": 50})
    world.ok("inventory.pull")  # the hub knows each location's stock before anything is placed
    world.partnerships[1].stock_buffer = 2
    db.session.commit()
    world.ok("products.push")
    # the shop location's 20 totes and 7 medium shirts, less retailer 1's buffer; never the 120 / 57 in all
    assert [retailer_level(world, n, "TOTE-1") for n in range(2)] == [20, 18]
    assert [retailer_level(world, n, "SHIRT-M") for n in range(2)] == [7, 5]
    calls_before = [set_calls(world, n) for n in range(2)]
    world.ok("inventory.push")
    assert [set_calls(world, n) for n in range(2)] == calls_before  # what was placed is what push would send


def test_the_bulk_stock_read_carries_each_items_levels_on_its_own_line_and_yields_a_variants_levels_together(world):
    world.sync_catalog()
    add_warehouse(world, {"TOTE-1": 100, "SHIRT-M": 50})
    levels = list(system_of_record(world.sor).stock_levels())
    op = max(world.sor_shop().bulk_operations.values(), key=lambda o: o.id)
    rows = [json.loads(line) for line in op.lines]
    assert rows and not any("__parentId" in row for row in rows)  # no level line waits for its item's line
    runs_of_one_variant = [variant for variant, _ in groupby(level.variant_remote_id for level in levels)]
    assert len(runs_of_one_variant) == len(set(runs_of_one_variant)) == 4  # one run of levels per variant
    assert sorted((lv.sku, lv.quantity) for lv in levels if lv.sku in ("TOTE-1", "SHIRT-M")) == [
        ("SHIRT-M", 7), ("SHIRT-M", 50), ("TOTE-1", 20), ("TOTE-1", 100)
    ]  # fmt: skip


def test_a_pull_recorded_a_few_variants_at_a_time_keeps_every_location_of_each(world, monkeypatch):
    from jobs.flows import inventory

    monkeypatch.setattr(inventory, "PULL_CHUNK", 1)
    warehouse = stocked_world(world)
    set_stock_at(world, "SHIRT-M", warehouse.id, 40)
    world.ok("inventory.pull")
    totals = dict(db.session.execute(select(Variant.sku, Variant.inventory_quantity)).all())
    assert totals == {"TOTE-1": 120, "SHIRT-S": 5, "SHIRT-M": 47, "SCARF-1": 3}
    assert db.session.execute(select(func.count(VariantStock.id))).scalar_one() == 6  # 4 at the shop, 2 there
