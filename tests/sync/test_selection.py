"""Which products a retailer carries, end to end through the sandbox stores: rules by tag and vendor (AND across
kinds, OR within one), hand-picked products; narrowing returns the retailer's copies to draft with stock 0 (logged),
widening adds new drafts; the dry run writes nothing; the stock push skips products the retailer does not carry."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select

from fakes.shopify.state import Collection, gid
from jobs.preview import dry_run
from portal.extensions import db
from portal.models import ActivityLog, Listing, Product
from portal.services import embedded, selection
from portal.services.platforms import system_of_record
from tests.sync.conftest import WS_SHOP, activity_count, mutation_calls
from tests.sync.test_events_stock import placed_and_subscribed, retailer_level, set_sor_stock, settle

PRODUCT_SET = (
    "mutation($id: ID!, $i: ProductSetInput!) { productSet(identifier: {id: $id}, input: $i) "
    "{ userErrors { message } } }"
)


def _describe(world, title: str, **fields) -> None:
    """The merchant sets vendor / tags / product type on a product in the wholesaler's store."""
    answer = world.sandbox.graphql(WS_SHOP, PRODUCT_SET, {"id": world.seeded[title]["product_id"], "i": fields})
    assert not answer["productSet"]["userErrors"], answer


def _titles(world, n: int, status: str | None = None) -> set[str]:
    return {p.title for p in world.store_shop(n).products.values() if status is None or p.status == status}


def _hub(title: str) -> Product:
    return db.session.execute(select(Product).where(Product.title == title)).scalar_one()


def _choose(world, n: int, mode: str, rules=None, picked=()) -> None:
    partnership = world.partnerships[n]
    selection.save(partnership, selection.build(partnership, mode, rules or {}, picked))
    db.session.commit()


def _set_retailer_status(world, n: int, sku: str, status: str) -> None:
    shop = world.store_shop(n)
    product_id = shop.variant_by_sku(sku).product_id
    world.sandbox.graphql(shop.domain, PRODUCT_SET, {"id": gid("Product", product_id), "i": {"status": status}})


def test_rules_by_tag_carry_only_the_tagged_products_and_the_other_retailer_keeps_the_whole_catalog(world):
    _describe(world, "Canvas Tote", tags=["eco", "bags"])
    _describe(world, "Wool Scarf", tags=["Eco"])
    world.ok("products.pull")
    _choose(world, 0, "rules", {"tags": ["ECO "]})  # case and spaces do not matter
    world.ok("products.push")
    assert _titles(world, 0) == {"Canvas Tote", "Wool Scarf"}
    assert _titles(world, 0, "DRAFT") == {"Canvas Tote", "Wool Scarf"}
    assert _titles(world, 1) == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}


def test_rules_combine_kinds_with_and_and_values_of_one_kind_with_or(world):
    _describe(world, "Canvas Tote", vendor="Acme Bags", tags=["eco"])
    _describe(world, "Linen Shirt", vendor="Bolt Apparel")
    _describe(world, "Wool Scarf", vendor="Bolt Apparel", tags=["eco"])
    world.ok("products.pull")
    _choose(world, 0, "rules", {"vendors": ["acme bags", "bolt apparel"]})
    _choose(world, 1, "rules", {"vendors": ["Bolt Apparel"], "tags": ["eco"]})
    world.ok("products.push")
    assert _titles(world, 0) == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}  # either vendor
    assert _titles(world, 1) == {"Wool Scarf"}  # that vendor AND that tag


def test_hand_picked_products_are_the_only_ones_placed(world):
    world.ok("products.pull")
    _choose(world, 0, "picked", picked=[_hub("Linen Shirt").id])
    world.ok("products.push")
    assert _titles(world, 0) == {"Linen Shirt"}
    assert {v.sku for v in world.store_shop(0).variants.values()} == {"SHIRT-S", "SHIRT-M"}


def test_narrowing_returns_dropped_products_to_draft_with_stock_0_and_logs_each(world):
    world.sync_catalog()
    for sku in ("TOTE-1", "SHIRT-S", "SCARF-1"):
        _set_retailer_status(world, 0, sku, "ACTIVE")  # the retailer put them on sale
    created_before = len(world.store_shop(0).products)
    _choose(world, 0, "picked", picked=[_hub("Canvas Tote").id])
    world.ok("products.push")
    shop = world.store_shop(0)
    assert len(shop.products) == created_before  # never deleted
    assert _titles(world, 0, "ACTIVE") == {"Canvas Tote"}
    assert _titles(world, 0, "DRAFT") == {"Linen Shirt", "Wool Scarf"}
    assert [retailer_level(world, 0, sku) for sku in ("SHIRT-S", "SHIRT-M", "SCARF-1")] == [0, 0, 0]
    assert retailer_level(world, 0, "TOTE-1") == 20
    summaries = list(db.session.execute(select(ActivityLog.summary)).scalars())
    dropped = [s for s in summaries if "no longer in the retailer's selection" in s]
    assert len(dropped) == 2 and all("back to draft with stock 0" in s for s in dropped)
    assert any(s.startswith("Wool Scarf:") for s in dropped)
    assert _titles(world, 1, "DRAFT") == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}  # the other retailer: as was
    assert retailer_level(world, 1, "SCARF-1") == 3
    # A second push changes nothing more.
    before, logged = mutation_calls(shop), activity_count()
    world.ok("products.push")
    assert (mutation_calls(shop), activity_count()) == (before, logged)


def test_widening_adds_the_new_products_as_drafts_and_a_returning_product_gets_its_stock_back(world):
    world.ok("products.pull")
    _choose(world, 0, "picked", picked=[_hub("Canvas Tote").id, _hub("Wool Scarf").id])
    world.ok("products.push")
    assert _titles(world, 0) == {"Canvas Tote", "Wool Scarf"}
    _choose(world, 0, "picked", picked=[_hub("Canvas Tote").id])
    world.ok("products.push")
    assert retailer_level(world, 0, "SCARF-1") == 0
    _choose(world, 0, "all")
    world.ok("products.push")
    assert _titles(world, 0) == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}
    assert _titles(world, 0, "DRAFT") == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}
    assert retailer_level(world, 0, "SHIRT-M") == 7  # a new product arrives with its stock
    world.ok("inventory.push")  # chained after the push that brought the scarf back
    assert retailer_level(world, 0, "SCARF-1") == 3
    mine = select(Listing).where(Listing.partnership_id == world.partnerships[0].id)
    scarf = db.session.execute(mine.where(Listing.product_id == _hub("Wool Scarf").id)).scalar_one()
    assert scarf.removed_at is None


def test_dry_run_of_a_narrowed_selection_counts_the_drafts_and_writes_nothing(world):
    world.sync_catalog()
    _choose(world, 0, "rules", {"product_types": ["none of these"]})
    shop = world.store_shop(0)
    before, logged = mutation_calls(shop), activity_count()
    requests = len(shop.requests)
    dry = dry_run("products.push", f"partnership:{world.partnerships[0].id}")
    assert (dry.delete, dry.create, dry.change) == (3, 0, 0)
    assert any("no longer in the retailer's selection" in line for line in dry.sample)
    change = selection.preview(world.partnerships[0], selection.Selection())  # back to the whole catalog
    assert (len(change.added), len(change.drafted), change.carried) == (0, 0, 3)
    assert (mutation_calls(shop), activity_count(), len(shop.requests)) == (before, logged, requests)
    removed = db.session.execute(select(func.count()).where(Listing.removed_at.is_not(None))).scalar_one()
    assert removed == 0
    assert _titles(world, 0, "DRAFT") == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}


@pytest.mark.parametrize("chunk", [selection.LOOKUP_CHUNK, 1], ids=["one-lookup", "lookups-in-chunks"])
def test_stock_push_skips_products_the_retailer_no_longer_carries(world, monkeypatch, chunk):
    monkeypatch.setattr(selection, "LOOKUP_CHUNK", chunk)  # a catalog larger than one lookup reads it in chunks
    world.sync_catalog()
    _choose(world, 0, "picked", picked=[_hub("Canvas Tote").id])  # saved; products.push has not run yet
    set_sor_stock(world, "TOTE-1", 11)
    set_sor_stock(world, "SCARF-1", 9)
    world.ok("inventory.pull")
    dry = dry_run("inventory.push", f"partnership:{world.partnerships[0].id}")
    assert dry.change == 1 and dry.sample == ["TOTE-1: 20 -> 11"]
    world.ok("inventory.push")
    assert [retailer_level(world, 0, sku) for sku in ("TOTE-1", "SCARF-1")] == [11, 3]  # the scarf is not carried
    assert [retailer_level(world, 1, sku) for sku in ("TOTE-1", "SCARF-1")] == [11, 9]


def test_a_product_event_that_brings_a_product_into_the_rules_places_it_at_that_retailer_only(world, app):
    events = placed_and_subscribed(world, app)
    _choose(events, 0, "rules", {"tags": ["eco"]})
    events.ok("products.push")  # the narrowing: every product back to draft at retailer 0
    assert _titles(events, 0, "DRAFT") == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}
    assert retailer_level(events, 0, "SCARF-1") == 0
    _describe(events, "Wool Scarf", tags=["eco"])  # the store sends products/update
    settle(events, app)
    assert retailer_level(events, 0, "SCARF-1") == 3  # carried again: its stock is back
    assert retailer_level(events, 0, "TOTE-1") == 0  # still not carried
    assert retailer_level(events, 1, "SCARF-1") == 3


def test_the_retailers_incoming_catalog_shows_only_carried_products(world, app):
    world.sync_catalog()
    _choose(world, 0, "picked", picked=[_hub("Linen Shirt").id])
    world.ok("products.push")
    with app.test_request_context():
        g.org_id = world.retailers[0].id
        items = embedded.catalog_context(world.stores[0].id, 1)["items"]
        assert [i["title"] for i in items] == ["Linen Shirt"]
        g.org_id = world.retailers[1].id
        assert len(embedded.catalog_context(world.stores[1].id, 1)["items"]) == 3


def test_rules_by_collection_read_from_the_wholesalers_store_in_bulk_and_one_by_one(world):
    shop = world.sor_shop()
    numbers = {title: int(world.seeded[title]["product_id"].rsplit("/", 1)[1]) for title in world.seeded}
    shop.collections[9001] = Collection(9001, "Winter", "winter", {numbers["Wool Scarf"], numbers["Linen Shirt"]})
    shop.collections[9002] = Collection(9002, "Summer", "summer", {numbers["Linen Shirt"]})
    world.ok("products.pull")  # the first pull reads the catalog in one bulk operation
    assert sorted(_hub("Linen Shirt").collections) == ["Summer", "Winter"]
    assert _hub("Canvas Tote").collections == []
    _choose(world, 0, "rules", {"collections": ["winter"]})
    world.ok("products.push")
    assert _titles(world, 0) == {"Linen Shirt", "Wool Scarf"}
    shop.collections[9001].product_ids.discard(numbers["Wool Scarf"])
    sor = system_of_record(world.sor)
    assert sor.product(world.seeded["Wool Scarf"]["product_id"]).collections == []  # what a product event reads
    assert sorted(sor.product(world.seeded["Linen Shirt"]["product_id"]).collections) == ["Summer", "Winter"]


def test_a_woocommerce_products_categories_are_its_collections_for_the_rules():
    from integrations.woocommerce.mapping import remote_product

    item = {"id": 7, "name": "Wool Scarf", "type": "simple", "sku": "SCARF-1", "regular_price": "15.50",
            "stock_quantity": 3, "manage_stock": True, "categories": [{"id": 1, "name": "Winter"}, {"id": 2}],
            "tags": [{"name": "eco"}]}  # fmt: skip
    remote = remote_product(item, [])
    assert (remote.collections, remote.tags) == (["Winter"], ["eco"])
    rules = selection.Selection("rules", {"collections": ("winter",), "tags": ("ECO",)})
    assert rules.carries(Product(id=1, tags=remote.tags, collections=remote.collections, vendor="", product_type=""))
    assert not selection.Selection("rules", {"collections": ("summer",)}).carries(
        Product(id=1, tags=remote.tags, collections=remote.collections, vendor="", product_type="")
    )
