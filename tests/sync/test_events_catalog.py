"""Product events from the wholesaler's store: a changed product is read again and pushed alone; a product deleted
or archived at the source goes back to draft with stock 0 in each retailer's store (never deleted), logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fakes.shopify.state import gid
from jobs.flows import catalog_events
from portal.extensions import db
from portal.models import ActivityLog, Product, SyncRun, WebhookReceipt
from tests.sync.conftest import WS_SHOP
from tests.sync.test_events_stock import placed_and_subscribed, retailer_level, runs, settle
from tests.sync.test_large_products import seed_big_product

PRICES = (
    "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v) "
    "{ userErrors { message } } }"
)
SET_STATUS = (
    "mutation($id: ID!, $s: ProductStatus!) { productSet(identifier: {id: $id}, input: {status: $s}) "
    "{ userErrors { message } } }"
)
DELETE = "mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId userErrors { message } } }"


@pytest.fixture
def events(world, app):
    return placed_and_subscribed(world, app)


def _calls(world, n: int, root: str) -> int:
    return sum(1 for r in world.store_shop(n).requests if r["root_fields"] == [root])


def _retailer_product(world, n: int, sku: str):
    shop = world.store_shop(n)
    return shop.products[shop.variant_by_sku(sku).product_id]


def test_a_price_changed_in_the_wholesalers_store_reaches_retailers_for_that_product_only(events, app):
    shop = events.sor_shop()
    tote = shop.variant_by_sku("TOTE-1")
    before = [_calls(events, n, "productVariantsBulkUpdate") for n in range(2)]
    old_price = events.store_shop(0).variant_by_sku("TOTE-1").price
    prices_in = [{"id": gid("ProductVariant", tote.id), "price": "12.00"}]
    events.sandbox.graphql(WS_SHOP, PRICES, {"p": gid("Product", tote.product_id), "v": prices_in})
    settle(events, app)
    prices = [events.store_shop(n).variant_by_sku("TOTE-1").price for n in range(2)]
    assert prices[0] == prices[1] != old_price
    assert [_calls(events, n, "productVariantsBulkUpdate") - before[n] for n in range(2)] == [1, 1]
    assert [r.trigger for r in runs("products.pull")] == ["manual", "event"]  # the catalog's first load, the event
    assert events.store_shop(0).variant_by_sku("SHIRT-M").price  # other products untouched, still there


def test_a_product_deleted_at_the_source_goes_back_to_draft_with_zero_stock_at_each_retailer(events, app):
    shirt = events.sor_shop().variant_by_sku("SHIRT-S").product_id
    events.sandbox.graphql(WS_SHOP, DELETE, {"id": gid("Product", shirt)})
    settle(events, app)
    for n in range(2):
        assert _retailer_product(events, n, "SHIRT-S").status == "DRAFT"  # kept: it may have sales history
        assert [retailer_level(events, n, sku) for sku in ("SHIRT-S", "SHIRT-M")] == [0, 0]
    hub = db.session.execute(select(Product).where(Product.title == "Linen Shirt")).scalar_one()
    assert hub.deleted_at is not None
    summaries = list(db.session.execute(select(ActivityLog.summary)).scalars())
    assert sum("back to draft with stock 0" in s for s in summaries) >= 2
    assert retailer_level(events, 0, "TOTE-1") == 20


def test_a_product_archived_at_the_source_leaves_retailers_catalogs_the_same_way(events, app):
    scarf = events.sor_shop().variant_by_sku("SCARF-1").product_id
    events.sandbox.graphql(WS_SHOP, SET_STATUS, {"id": gid("Product", scarf), "s": "ARCHIVED"})
    settle(events, app)
    assert [_retailer_product(events, n, "SCARF-1").status for n in range(2)] == ["DRAFT", "DRAFT"]
    assert [retailer_level(events, n, "SCARF-1") for n in range(2)] == [0, 0]


def test_an_event_for_a_product_over_the_limits_ends_its_run_with_failures_naming_it(events, app):
    big = seed_big_product(events.sor_shop(), "Four Options", 2, options=4)
    receipt = WebhookReceipt(source="shopify", event_id="evt-four-options", topic="products/update",
                             shop_domain=WS_SHOP, payload={"admin_graphql_api_id": gid("Product", big.id)})  # fmt: skip
    db.session.add(receipt)
    db.session.commit()
    result = catalog_events.product_changed(receipt)
    run = db.session.get(SyncRun, result["sync_run_id"])
    assert (run.status, run.failed) == ("done_with_failures", 1)  # never "done" with a refused product inside
    assert run.failures[0]["record"] == "product Four Options" and "4 options" in run.failures[0]["reason"]
    assert run.message.startswith("1 record(s) failed and will be retried on the next run.")
