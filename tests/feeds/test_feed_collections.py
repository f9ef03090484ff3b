"""Collections from a feed: the catalog file's collections column (titles between "|", since a title may hold a
comma) feeds the product selection by collection, as Shopify collections and WooCommerce categories do."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Product
from portal.services import selection

CATALOG = """\
product_id,title,sku,price,option1_name,option1_value,quantity,collections
TOTE,Canvas Tote,TOTE-1,10.00,,,20,"Summer | Bags, Totes & More"
SHIRT,Linen Shirt,SHIRT-S,20.00,Size,S,5,Summer
SHIRT,Linen Shirt,SHIRT-M,20.00,Size,M,7,Summer
SCARF,Wool Scarf,SCARF-1,15.50,,,3,
"""


def test_the_catalog_files_collections_column_chooses_what_a_retailer_carries(feed_to_shopify):
    world = feed_to_shopify
    world.write("catalog.csv", CATALOG)
    world.ok("products.pull")
    collections = dict(db.session.execute(select(Product.title, Product.collections)).all())
    assert collections == {"Canvas Tote": ["Summer", "Bags, Totes & More"], "Linen Shirt": ["Summer"],
                           "Wool Scarf": []}  # fmt: skip
    partnership = world.partnership
    selection.save(partnership, selection.build(partnership, "rules", {"collections": ["bags, totes & more"]}, ()))
    db.session.commit()
    world.ok("products.push")
    assert {p.title for p in world.shopify.shop("corner-store.myshopify.com").products.values()} == {"Canvas Tote"}
