"""products.pull / products.push against the sandbox: drafts at price-list prices, delta only, idempotent."""

from decimal import Decimal

from sqlalchemy import select

from portal.extensions import db
from portal.models import Listing, Product, Variant
from tests.sync.conftest import RT_SHOPS, activity_count, last_run, mutation_calls


def _store_products(shop):
    return {p.title: p for p in shop.products.values()}


def test_catalog_appears_in_both_retailers_stores_as_drafts_at_price_list_prices(world):
    world.sync_catalog()
    for n in range(len(RT_SHOPS)):
        shop = world.store_shop(n)
        products = _store_products(shop)
        assert set(products) == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}
        assert {p.status for p in products.values()} == {"DRAFT"}
        assert all(not pub.product_ids for pub in shop.publications.values())  # published nowhere
        prices = {v.sku: v.price for v in shop.variants.values()}
        # 10.00 * 1.4 = 14.00 -> 14.99; 20 * 1.4 = 28 -> 28.99; 15.50 * 1.4 = 21.70 -> 21.99
        assert prices == {"TOTE-1": "14.99", "SHIRT-S": "28.99", "SHIRT-M": "28.99", "SCARF-1": "21.99"}
        location = world.partnerships[n].placement["location_id"]
        assert location is not None
        loc_id = int(location.rsplit("/", 1)[1])
        assert shop.locations[loc_id].fulfillment_service_id is not None
        tote = shop.variant_by_sku("TOTE-1")
        assert shop.available(tote.inventory_item_id, loc_id) == 20  # stocked at OUR location


def test_hub_holds_the_catalog_with_content_hashes(world):
    world.run("products.pull")
    products = db.session.execute(select(Product)).scalars().all()
    assert len(products) == 3 and all(len(p.content_hash) == 64 for p in products)
    shirt_m = db.session.execute(select(Variant).where(Variant.sku == "SHIRT-M")).scalar_one()
    assert (shirt_m.wholesale_price, shirt_m.inventory_quantity) == (Decimal("20.00"), 7)


def test_second_run_with_nothing_changed_makes_zero_mutations_and_logs_nothing(world):
    world.sync_catalog()
    before = [mutation_calls(world.store_shop(n)) for n in range(2)]
    logged = activity_count()
    world.sync_catalog()
    assert [mutation_calls(world.store_shop(n)) for n in range(2)] == before
    assert activity_count() == logged
    assert last_run("products.push").created == 0 and last_run("products.push").updated == 0


def test_replaying_push_creates_nothing_twice(world):
    world.sync_catalog()
    db.session.execute(Listing.__table__.update().values(pushed_hash=None))  # forget we pushed: force a replay
    db.session.commit()
    world.run("products.push")
    for n in range(2):
        assert len(world.store_shop(n).products) == 3


def test_without_force_overwrite_only_price_changes_after_first_load(world):
    world.sync_catalog()
    world.sandbox.graphql(
        "acme-wholesale.myshopify.com",
        "mutation($id: ID!, $i: ProductSetInput!) { productSet(identifier: {id: $id}, input: $i) { product { id } } }",
        {"id": world.seeded["Canvas Tote"]["product_id"],
         "i": {"title": "Canvas Tote XL",
               "variants": [{"optionValues": [{"optionName": "Title", "name": "TOTE-1"}], "price": "12.00"}]}},
    )  # fmt: skip
    world.sync_catalog()
    shop = world.store_shop(0)
    tote = shop.variant_by_sku("TOTE-1")
    assert shop.products[tote.product_id].title == "Canvas Tote"  # the retailer's title is left alone
    assert tote.price == "16.99"  # 12 * 1.4 = 16.80 -> 16.99


def test_with_force_overwrite_every_synced_field_is_pushed(world):
    from portal.services import partnerships

    partnerships.set_force_overwrite(world.partnerships[0].id, True)
    world.sync_catalog()
    world.sandbox.graphql(
        "acme-wholesale.myshopify.com",
        'mutation($id: ID!) { productSet(identifier: {id: $id}, input: {title: "Canvas Tote XL"}) { product { id } } }',
        {"id": world.seeded["Canvas Tote"]["product_id"]},
    )
    world.sync_catalog()
    titles_0 = set(_store_products(world.store_shop(0)))
    titles_1 = set(_store_products(world.store_shop(1)))
    assert "Canvas Tote XL" in titles_0 and "Canvas Tote" in titles_1
    assert {p.status for p in world.store_shop(0).products.values()} == {"DRAFT"}  # publishing stays the retailer's


def test_get_sku_by_id_links_an_existing_retailer_product_instead_of_duplicating(world):
    world.sandbox.add_product(RT_SHOPS[0], "Our own tote", [{"sku": "TOTE-1", "price": "9.00", "available": 4}])
    world.sync_catalog()
    shop = world.store_shop(0)
    totes = [v for v in shop.variants.values() if v.sku == "TOTE-1"]
    assert len(totes) == 1
    assert shop.products[totes[0].product_id].title == "Our own tote"
    listing = db.session.execute(
        select(Listing).where(Listing.partnership_id == world.partnerships[0].id, Listing.matched_by_sku.is_(True))
    ).scalar_one()
    assert listing.remote_product_id == f"gid://shopify/Product/{totes[0].product_id}"
    assert totes[0].price == "14.99"
    sor = world.sor_shop()
    for item in sor.inventory_items.values():
        item.levels[sor.primary_location.id]["available"] = 1  # every SKU's stock changes
    world.ok("inventory.pull")
    world.ok("inventory.push")  # the linked product's stock is the retailer's own: never set, nothing fails
    assert shop.available(totes[0].inventory_item_id) == 4


def test_removed_product_goes_to_zero_stock_and_is_not_deleted(world):
    world.sync_catalog()
    sor = world.sor_shop()
    scarf = next(p for p in sor.products.values() if p.title == "Wool Scarf")
    del sor.products[scarf.id]
    world.sync_catalog()
    shop = world.store_shop(0)
    variant = shop.variant_by_sku("SCARF-1")
    assert variant is not None  # still there
    loc_id = int(world.partnerships[0].placement["location_id"].rsplit("/", 1)[1])
    assert shop.available(variant.inventory_item_id, loc_id) == 0


def test_flask_sync_run_places_the_catalog(world, runner):
    assert runner.invoke(args=["sync", "run", "products.pull"]).exit_code == 0
    result = runner.invoke(args=["sync", "run", "products.push", "--partnership", str(world.partnerships[1].id)])
    assert result.exit_code == 0, result.output
    assert '"created": 3' in result.output
    assert len(world.store_shop(1).products) == 3 and not world.store_shop(0).products


def test_one_activity_entry_per_record_added(world):
    from portal.models import ActivityLog

    world.sync_catalog()
    rows = db.session.execute(select(ActivityLog.action, ActivityLog.record_type, ActivityLog.partnership_id)).all()
    assert sorted((a, t) for a, t, _p in rows if t == "product") == [("add", "product")] * 3
    for p in world.partnerships:
        assert [(a, t) for a, t, pid in rows if t == "listing" and pid == p.id] == [("add", "listing")] * 3
