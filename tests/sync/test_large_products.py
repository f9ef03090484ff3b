"""Large products: up to 2,048 variants on the full and the incremental pull (variants paged past the first 50),
products over 3 options or 2,048 variants refused as failed records naming them, and a read that would delete most
of a product's variants checked against a fresh read first."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from fakes.shopify.state import InventoryItem, Product, Variant, gid, next_id
from integrations.shopify.catalog import CatalogSource
from portal.extensions import db
from portal.models import Product as HubProduct
from portal.models import Variant as HubVariant
from tests.sync.conftest import WS_SHOP, last_run

PRICES = (
    "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v) "
    "{ userErrors { message } } }"
)


def seed_big_product(shop, title: str, variants: int, options: int = 1) -> Product:
    """Put a product straight into the sandbox's state (the API refuses what is over Shopify's limits)."""
    names = [f"Option {k}" for k in range(options)]
    product = Product(id=next_id(), title=title, handle=title.lower().replace(" ", "-"),
                      options=[{"id": next_id(), "name": n, "values": []} for n in names])  # fmt: skip
    for k in range(variants):
        sku = f"{product.handle}-{k}"
        values = [{"name": names[0], "value": f"v{k}"}] + [{"name": n, "value": "x"} for n in names[1:]]
        item = InventoryItem(id=next_id(), sku=sku, levels={shop.primary_location.id: {"available": 3, "on_hand": 3}})
        variant = Variant(id=next_id(), product_id=product.id, inventory_item_id=item.id, sku=sku, price="5.00",
                          position=k + 1, option_values=values)  # fmt: skip
        item.variant_id = variant.id
        shop.inventory_items[item.id], shop.variants[variant.id] = item, variant
        product.variant_ids.append(variant.id)
    for option in product.options:
        option["values"] = sorted({v["value"] for i in product.variant_ids for v in shop.variants[i].option_values
                                   if v["name"] == option["name"]})  # fmt: skip
    shop.products[product.id] = product
    return product


def live_variants(title: str) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(HubVariant)
        .join(HubProduct, HubVariant.product_id == HubProduct.id)
        .where(HubProduct.title == title, HubVariant.deleted_at.is_(None))
    ).scalar_one()


def test_an_incremental_pull_after_one_price_change_keeps_all_2048_variants(world):
    shop = world.sor_shop()
    big = seed_big_product(shop, "Paint Chips", 2048)
    world.ok("products.pull")  # the first read is a bulk operation
    assert live_variants("Paint Chips") == 2048
    first = shop.variants[big.variant_ids[0]]
    prices_in = [{"id": gid("ProductVariant", first.id), "price": "6.00"}]
    world.sandbox.graphql(WS_SHOP, PRICES, {"p": gid("Product", big.id), "v": prices_in})
    result = world.ok("products.pull")[0]  # incremental: products(first: 5) with the first 50 variants, then pages
    assert (result["updated"], result["failed"]) == (1, 0)
    assert live_variants("Paint Chips") == 2048
    price = db.session.execute(select(HubVariant.wholesale_price).where(HubVariant.sku == first.sku)).scalar_one()
    assert price == Decimal("6.00")


def test_products_over_the_limits_are_failed_records_naming_them_and_the_rest_still_syncs(world):
    shop = world.sor_shop()
    seed_big_product(shop, "Too Many Sizes", 2049)
    seed_big_product(shop, "Four Options", 2, options=4)
    results = world.run("products.pull")
    assert results[0]["failed"] == 2, results[0]["failures"]
    reasons = " ".join(f["reason"] for f in results[0]["failures"])
    assert "'Too Many Sizes' has 2049 variants" in reasons and "at most 2,048" in reasons
    assert "'Four Options' has 4 options" in reasons
    titles = set(db.session.execute(select(HubProduct.title)).scalars())
    assert titles == {"Canvas Tote", "Linen Shirt", "Wool Scarf"}  # refused ones are not half-imported
    assert last_run("products.pull").status == "done_with_failures"  # the run says it did not take everything


def test_a_read_that_would_drop_most_variants_is_checked_against_a_fresh_read_first(world, monkeypatch):
    shop = world.sor_shop()
    big = seed_big_product(shop, "Bolts", 300)
    world.ok("products.pull")
    shop.products[big.id].title = "Bolts (zinc)"  # a change, so the product is read again
    real = CatalogSource.products

    def truncated(self, updated_since, bulk=True):  # a read that lost all but 50 variants of the product
        for product in real(self, updated_since, bulk):
            product.variants = product.variants[:50]
            yield product

    monkeypatch.setattr(CatalogSource, "products", truncated)
    world.ok("products.pull")
    assert live_variants("Bolts (zinc)") == 300
