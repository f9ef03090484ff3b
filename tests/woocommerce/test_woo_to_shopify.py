"""WooCommerce as a wholesaler's system of record, a Shopify retailer: catalog, stock, order (exactly once, with our
marker in order meta), shipment back with tracking; run by hand (`flask sync run`) and as dry runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fakes.shopify.resolvers.orders import place_order
from integrations.base import ChangeRefused
from integrations.woocommerce.mapping import MARKER_KEY, meta
from jobs.preview import dry_run
from portal.extensions import db
from portal.models import Order, Variant
from portal.services.platforms import system_of_record

WS = "acme-wholesale"
RT = "corner-store.myshopify.com"


def _catalog(world):
    world.ok("products.pull")
    world.ok("products.push")


def _retailer_level(world, sku: str) -> int:
    """The quantity at our fulfillment-service location in the retailer's Shopify store."""
    shop = world.shopify.shop(RT)
    db.session.refresh(world.partnership)
    loc_id = int(world.partnership.placement["location_id"].rsplit("/", 1)[1])
    return shop.available(shop.variant_by_sku(sku).inventory_item_id, loc_id)


def _wholesaler_orders(world) -> list[dict]:
    return list(world.woo.store(WS).orders.values())


def test_catalog_pulled_from_woocommerce_reaches_the_shopify_retailer_with_variations_and_stock(woo_to_shopify):
    world = woo_to_shopify
    world.ok("products.pull")
    variants = {v.sku: v for v in db.session.execute(select(Variant)).scalars()}
    assert set(variants) == {"TOTE-1", "SHIRT-S", "SHIRT-M"}
    assert variants["SHIRT-M"].inventory_quantity == 7
    assert variants["SHIRT-S"].option_values == [{"name": "Size", "value": "S"}]
    world.ok("products.push")
    assert _retailer_level(world, "TOTE-1") == 20
    assert _retailer_level(world, "SHIRT-M") == 7


def test_a_stock_edit_in_the_woocommerce_shop_reaches_the_retailer_through_the_pulls(woo_to_shopify):
    world = woo_to_shopify
    _catalog(world)
    world.woo.set_stock(WS, "SHIRT-S", 2)
    world.ok("inventory.pull")
    world.ok("inventory.push")
    assert _retailer_level(world, "SHIRT-S") == 2


def test_a_retailer_order_is_created_once_in_woocommerce_with_our_marker_and_its_shipment_comes_back(woo_to_shopify):
    world = woo_to_shopify
    _catalog(world)
    place_order(world.shopify.sandbox, RT, [("TOTE-1", 2), ("SHIRT-S", 1)])
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    [woo_order] = _wholesaler_orders(world)
    assert meta(woo_order, MARKER_KEY) == f"wholesync-order-{order.id}"
    assert {li["sku"]: li["quantity"] for li in woo_order["line_items"]} == {"TOTE-1": 2, "SHIRT-S": 1}
    assert woo_order["status"] == "processing" and woo_order["billing"]["email"] == ""
    assert woo_order["line_items"][0]["total"] == "20.00"  # the wholesale price, not the shop's retail price

    # a worker dying after POST /orders: the next push finds the order by its marker instead of creating another
    db.session.execute(Order.__table__.update().values(status="received", sor_remote_order_id=None))
    db.session.commit()
    world.ok("orders.push")
    assert len(_wholesaler_orders(world)) == 1
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 1

    # the wholesaler ships: Shipment Tracking is not installed here, completing the order is the signal
    world.woo.store(WS).orders[woo_order["id"]]["status"] = "completed"
    world.ok("order_updates.pull")
    world.ok("order_updates.push")
    world.ok("order_updates.pull")
    world.ok("order_updates.push")  # replay: nothing new
    db.session.refresh(order)
    assert order.status == "completed"
    retailer = world.shopify.shop(RT)
    assert len(retailer.fulfillments) == 1


def test_dry_runs_read_woocommerce_and_write_nothing(woo_to_shopify):
    world = woo_to_shopify
    dry = dry_run("products.pull", f"connection:{world.sor.id}")
    assert dry.create == 2
    assert db.session.execute(select(Variant)).first() is None
    dry = dry_run("inventory.pull", f"connection:{world.sor.id}")
    assert dry.api_calls >= 0 and db.session.execute(select(Variant)).first() is None


def test_cancelling_an_order_we_created_restores_woocommerce_stock_and_a_second_cancel_is_refused(woo_to_shopify):
    world = woo_to_shopify
    _catalog(world)
    place_order(world.shopify.sandbox, RT, [("TOTE-1", 2)])
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    tote = world.woo.store(WS).by_sku("TOTE-1")
    assert tote["stock_quantity"] == 18  # processing reduced the wholesaler's stock
    sor = system_of_record(world.sor)
    assert sor.cancel_order(order.sor_remote_order_id, "customer", "Retailer cancelled") is True
    assert tote["stock_quantity"] == 20
    with pytest.raises(ChangeRefused):
        sor.cancel_order(order.sor_remote_order_id, "customer", "again")
