"""The catalog for the dashboard: products with their variants' stock, and where each product is listed.

Lists page in the database; per-page aggregates are computed only for the rows on the page.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from portal.extensions import db
from portal.models import Listing, Organization, Partnership, Product, Variant
from portal.tenancy import scoped


def product_query(q: str | None = None) -> Select:
    """This wholesaler's live products, newest first; `q` matches a title prefix or an exact SKU."""
    query = scoped(Product).where(Product.deleted_at.is_(None)).order_by(Product.id.desc())
    if q:
        q = q.strip()
        sku_match = scoped(Variant).with_only_columns(Variant.product_id).where(Variant.sku == q)
        query = query.where(or_(Product.title.startswith(q, autoescape=True), Product.id.in_(sku_match)))
    return query


def page_stats(product_ids: list[int]) -> dict[int, tuple[int, int]]:
    """product id -> (variant count, total stock), for the products on one page."""
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(Variant.product_id, func.count(Variant.id), func.coalesce(func.sum(Variant.inventory_quantity), 0))
        .where(Variant.product_id.in_(product_ids), Variant.deleted_at.is_(None))
        .group_by(Variant.product_id)
    )
    return {pid: (n, stock) for pid, n, stock in rows}


def page_listing_counts(product_ids: list[int]) -> dict[int, int]:
    """product id -> in how many retailers' stores it is listed, for the products on one page."""
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(Listing.product_id, func.count(Listing.id))
        .where(Listing.product_id.in_(product_ids), Listing.removed_at.is_(None))
        .group_by(Listing.product_id)
    )
    return dict(rows.all())


def listings(product: Product) -> list[tuple[Listing, str]]:
    """Where `product` is listed: each listing with the retailer's name (the product is already known to be ours)."""
    rows = db.session.execute(
        select(Listing, Organization.name)
        .join(Partnership, Listing.partnership_id == Partnership.id)
        .outerjoin(Organization, Partnership.retailer_id == Organization.id)
        .where(Listing.product_id == product.id, Partnership.wholesaler_id == product.wholesaler_id)
        .order_by(Listing.id)
    )
    return [(listing, name or "retailer") for listing, name in rows]
