"""Stock per warehouse from a feed: a stock file with a location column gives each SKU's level per location, and
each partnership counts the locations it chose (by default every one, as the ERP's sum would); a row naming no
location, or a SKU twice at one location, is refused with its line while the others go through."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from integrations.base import WHOLE_STOCK
from integrations.feeds.adapters import FeedSystemOfRecord
from integrations.feeds.settings import FeedSettings
from portal.extensions import db
from portal.models import StockLocation, Variant
from portal.services import stock
from tests.feeds.test_feed_to_shopify import _retailer_level

STOCK = "sku,location,quantity\nTOTE-1,Main,12\nTOTE-1,Overflow,30\nSHIRT-M,Main,2\nSHIRT-S,Overflow,4\n"


class _Files:
    """A feed's files held in memory (path -> text)."""

    def __init__(self, files: dict[str, str]):
        self.files = files

    def read(self, path: str):
        return self.files[path].encode(), datetime(2026, 11, 30, tzinfo=UTC)


def test_a_stock_file_with_a_location_column_reports_each_warehouse_and_each_skus_levels_together():
    rejected = []
    text = STOCK + "SCARF-1,,3\nSHIRT-M,Main,9\nSHIRT-M,Overflow,1\n"
    sor = FeedSystemOfRecord(FeedSettings(stock_path="stock.csv"), _Files({"stock.csv": text}),
                             on_rejected=lambda record, reason: rejected.append((record, reason)))  # fmt: skip
    assert [(loc.name, loc.fulfills_online_orders, loc.active) for loc in sor.locations()] == [
        ("Main", True, True), ("Overflow", True, True)
    ]  # fmt: skip
    levels = [(lv.sku, lv.location_id.removeprefix("location:"), lv.quantity) for lv in sor.stock_levels()]
    assert levels == [("TOTE-1", "Main", 12), ("TOTE-1", "Overflow", 30), ("SHIRT-M", "Main", 2),
                      ("SHIRT-M", "Overflow", 1), ("SHIRT-S", "Overflow", 4)]  # fmt: skip
    assert rejected == [("stock.csv line 6", "no location"),
                        ("stock.csv line 7", "SKU SHIRT-M at Main is already on line 4")]  # fmt: skip


def test_a_stock_file_without_a_location_column_keeps_one_stock_figure_per_sku():
    sor = FeedSystemOfRecord(FeedSettings(stock_path="stock.csv"), _Files({"stock.csv": "sku,quantity\nTOTE-1,5\n"}))
    assert [loc.remote_id for loc in sor.locations()] == [WHOLE_STOCK]
    assert [(lv.sku, lv.location_id, lv.quantity) for lv in sor.stock_levels()] == [("TOTE-1", WHOLE_STOCK, 5)]


def test_levels_per_warehouse_reach_the_retailer_as_the_partnership_counts_them(feed_to_shopify):
    world = feed_to_shopify
    world.ok("products.pull")
    world.ok("products.push")
    world.ok("inventory.pull")  # one figure per SKU so far: the catalog's quantity column
    world.write("stock.csv", STOCK)
    world.sor.settings = {**world.sor.settings, "stock_path": "stock.csv"}
    db.session.commit()
    world.ok("inventory.pull")
    world.ok("inventory.push")
    # By default every warehouse counts (each fulfils orders): what the ERP's sum would have said; the one figure
    # per SKU read before is no longer reported, so its pseudo-location stops counting.
    assert [_retailer_level(world, sku) for sku in ("TOTE-1", "SHIRT-S", "SHIRT-M")] == [42, 4, 2]
    locations = {loc.name: loc for loc in db.session.execute(select(StockLocation)).scalars()}
    assert {name: loc.active for name, loc in locations.items()} == {"Feed stock": False, "Main": True,
                                                                     "Overflow": True}  # fmt: skip
    stock.set_location_ids(world.partnership, [locations["Main"].id])
    world.ok("inventory.push")
    assert [_retailer_level(world, sku) for sku in ("TOTE-1", "SHIRT-S", "SHIRT-M")] == [12, 0, 2]
    tote = db.session.execute(select(Variant).where(Variant.sku == "TOTE-1")).scalar_one()
    assert tote.inventory_quantity == 42  # the hub's total covers every warehouse
