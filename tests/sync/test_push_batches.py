"""products.push in bounded batches: a catalog larger than one batch is placed whole, once, and a second push of an
unchanged catalog sends nothing; no batch holds more than its size."""

from portal.extensions import db
from portal.models import Partnership
from tests.sync.conftest import last_run, mutation_calls


def test_a_catalog_larger_than_one_batch_is_placed_whole_and_once(world, monkeypatch):
    monkeypatch.setattr("jobs.flows.product_plan.PUSH_BATCH", 2)  # three products: two batches
    world.sync_catalog()
    for n in range(2):
        shop = world.store_shop(n)
        assert sorted(p.title for p in shop.products.values()) == ["Canvas Tote", "Linen Shirt", "Wool Scarf"]
        assert {p.status for p in shop.products.values()} == {"DRAFT"}
    run = last_run("products.push")
    assert (run.status, run.created, run.failed) == ("done", 3, 0)
    before = [mutation_calls(world.store_shop(n)) for n in range(2)]
    world.sync_catalog()
    assert [mutation_calls(world.store_shop(n)) for n in range(2)] == before
    assert last_run("products.push").created == 0 and last_run("products.push").updated == 0


def test_catalog_batches_give_every_product_once_in_id_order_at_most_size_at_a_time(world):
    from jobs.flows.product_plan import catalog_batches, wholesaler_catalog

    world.run("products.pull")
    partnership = db.session.get(Partnership, world.partnerships[0].id)
    batches = [[p.id for p in batch] for batch in catalog_batches(partnership, size=2)]
    assert [len(b) for b in batches] == [2, 1]
    assert [pid for b in batches for pid in b] == [p.id for p in wholesaler_catalog(partnership)]


def test_a_full_stock_push_computes_levels_page_by_page_and_sends_each_change_once(world, monkeypatch):
    monkeypatch.setattr("jobs.flows.inventory.PUSH_PAGE", 1)  # four placed variants: four pages
    world.sync_catalog()
    shop = world.sor_shop()
    for sku, quantity in (("SHIRT-S", 1), ("SHIRT-M", 2), ("SCARF-1", 4)):
        item = shop.inventory_items[shop.variant_by_sku(sku).inventory_item_id]
        item.levels[shop.primary_location.id]["available"] = quantity
    world.ok("inventory.pull")
    pushed = world.ok("inventory.push")
    assert [r["updated"] for r in pushed] == [3, 3]
    store = world.store_shop(0)
    location = int(world.partnerships[0].placement["location_id"].rsplit("/", 1)[1])
    levels = {sku: store.available(store.variant_by_sku(sku).inventory_item_id, location) for sku in
              ("SHIRT-S", "SHIRT-M", "SCARF-1", "TOTE-1")}  # fmt: skip
    assert levels == {"SHIRT-S": 1, "SHIRT-M": 2, "SCARF-1": 4, "TOTE-1": 20}
    calls = [r for r in store.requests if r["root_fields"] == ["inventorySetQuantities"]]
    before = len(calls)
    assert world.ok("inventory.push")[0]["updated"] == 0  # nothing differs from what was pushed: no call
    assert len([r for r in store.requests if r["root_fields"] == ["inventorySetQuantities"]]) == before
