"""Stock netting: what a retailer may be offered of each placed variant, from the wholesaler's stock.

Used by inventory.push (what to send to the retailer's store) and by the fulfillment service's fetch_stock callback.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Listing, ListingVariant, Order, OrderLine, Partnership, Product, Variant

IN_FLIGHT = ("received", "failed")  # orders taken from a retailer but not (yet) created in the system of record


def in_flight_by_sku(wholesaler_id: int) -> dict[str, int]:
    """Units ordered by retailers that the system of record does not know about yet (they will leave its stock).

    Cancelled orders and cancelled quantities are not counted: that stock is not leaving.
    """
    rows = db.session.execute(
        select(OrderLine.sku, func.sum(OrderLine.quantity - OrderLine.cancelled_quantity))
        .join(Order, OrderLine.order_id == Order.id)
        .where(Order.wholesaler_id == wholesaler_id, Order.status.in_(IN_FLIGHT), Order.cancelled_at.is_(None))
        .group_by(OrderLine.sku)
    ).all()
    return {sku: int(qty or 0) for sku, qty in rows}


@dataclass(frozen=True)
class Level:
    """One placed variant: what we last pushed and what the retailer should see now."""

    listing_variant_id: int
    sku: str
    inventory_item_id: str
    pushed_quantity: int | None
    quantity: int


def retailer_quantities(partnership: Partnership, variant_ids=None) -> list[Level]:
    """What the retailer should see for each placed variant: stock - in-flight orders - buffer (0 if removed).

    Contract: one Level per listing variant of the partnership that has been placed in the retailer's store (has a
    remote inventory item), ordered by listing variant id; `quantity` is never negative, and is 0 when the variant,
    its product or its listing is gone. Reads only; nothing is written or committed.
    Plain columns, not ORM objects: this runs over the whole catalog on every stock push and fetch_stock call.
    `variant_ids` narrows it to those hub variants (a push of what an event changed reads only those rows).
    """
    in_flight = in_flight_by_sku(partnership.wholesaler_id)
    query = (
        select(
            ListingVariant.id,
            Variant.sku,
            ListingVariant.remote_inventory_item_id,
            ListingVariant.pushed_quantity,
            Variant.inventory_quantity,
            Variant.deleted_at,
            Listing.removed_at,
            Product.deleted_at,
        )
        .join(Listing, ListingVariant.listing_id == Listing.id)
        .join(Variant, ListingVariant.variant_id == Variant.id)
        .join(Product, Variant.product_id == Product.id)
        .where(Listing.partnership_id == partnership.id, ListingVariant.remote_inventory_item_id.is_not(None))
        .order_by(ListingVariant.id)
    )
    if variant_ids is not None:
        query = query.where(ListingVariant.variant_id.in_(list(variant_ids)))
    rows = db.session.execute(query)
    result = []
    for lv_id, sku, item_id, pushed, stock, variant_gone, removed, product_gone in rows:
        gone = variant_gone or removed or product_gone
        wanted = 0 if gone else stock - in_flight.get(sku, 0) - partnership.stock_buffer
        result.append(Level(lv_id, sku, item_id, pushed, max(0, wanted)))
    return result
