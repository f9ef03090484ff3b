"""Stock netting: what a retailer may be offered of each placed variant, from the wholesaler's stock at the
locations its partnership counts.

The hub keeps each variant's available quantity per location of the wholesaler (VariantStock; Variant's
`inventory_quantity` is the sum over every location). `retailer_quantities` is the one place the offered level is
computed: sum over the partnership's counted locations - in-flight orders - buffer, floored at 0. Used by
inventory.push (full, event-driven and its dry run), the order fan-out push and the fulfillment service's
fetch_stock callback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import case, func, insert, select, update

from integrations.base import RemoteLocation, StockLevel
from portal.extensions import db
from portal.models import (
    Connection,
    Listing,
    ListingVariant,
    Order,
    OrderLine,
    Partnership,
    Product,
    StockLocation,
    Variant,
    VariantStock,
    utcnow,
)
from portal.services.selection import carried_levels
from portal.services.text import whole_number


class StockLocationRefused(ValueError):
    """A choice of locations that cannot be saved; the message says why, for the person who gave it."""


def wholesaler_locations(wholesaler_id: int) -> list[StockLocation]:
    """The wholesaler's locations as last read from its system of record, by name."""
    return list(
        db.session.execute(
            select(StockLocation).where(StockLocation.wholesaler_id == wholesaler_id).order_by(StockLocation.name)
        ).scalars()
    )


def default_location_ids(locations: Iterable[StockLocation]) -> list[int]:
    """Nothing chosen: every active location that fulfils online orders (every active one if none does)."""
    active = [loc for loc in locations if loc.active]
    online = [loc.id for loc in active if loc.fulfills_online_orders]
    return online or [loc.id for loc in active]


def counted_location_ids(partnership: Partnership, chosen: Iterable[int] | None = None) -> list[int]:
    """The hub ids of the locations whose stock this retailer is offered: `chosen` (a proposal) or the
    partnership's choice, of those still active; the default when nothing is chosen."""
    locations = wholesaler_locations(partnership.wholesaler_id)
    chosen = partnership.stock_location_ids if chosen is None else list(chosen)
    if chosen is None:
        return default_location_ids(locations)
    wanted = {int(i) for i in chosen}
    return [loc.id for loc in locations if loc.id in wanted and loc.active]


def check_location_ids(partnership: Partnership, raw: Iterable[str]) -> list[int]:
    """The ids a person chose on the partner page, each one of the wholesaler's locations, or a refusal."""
    mine = {loc.id: loc for loc in wholesaler_locations(partnership.wholesaler_id)}
    chosen = []
    for value in raw:
        text = str(value).strip()
        location_id = whole_number(text)
        if location_id is None or location_id not in mine:
            raise StockLocationRefused(f"Location {text or '(empty)'} is not one of your locations; nothing was saved.")
        chosen.append(location_id)
    if not chosen:
        raise StockLocationRefused("Choose at least one location, or use the default; nothing was saved.")
    return sorted(set(chosen))


def set_location_ids(partnership: Partnership, chosen: list[int] | None) -> None:
    """Save the partnership's counted locations (None: the default). Committed; the caller re-pushes."""
    partnership.stock_location_ids = chosen
    db.session.commit()


def sync_locations(conn: Connection, remote: list[RemoteLocation]) -> dict[str, int]:
    """Record the system of record's locations (names, fulfils online orders, active); a location it no longer
    reports is kept inactive (its stock stops counting). Returns hub ids by remote id. Not committed."""
    rows = {
        loc.remote_id: loc
        for loc in db.session.execute(select(StockLocation).where(StockLocation.connection_id == conn.id)).scalars()
    }
    seen = set()
    for item in remote:
        seen.add(item.remote_id)
        row = rows.get(item.remote_id)
        if row is None:
            row = StockLocation(wholesaler_id=conn.organization_id, connection_id=conn.id, remote_id=item.remote_id)
            db.session.add(row)
            rows[item.remote_id] = row
        row.name, row.fulfills_online_orders, row.active = item.name, item.fulfills_online_orders, item.active
    for remote_id, row in rows.items():
        if remote_id not in seen:
            row.active = False
    db.session.flush()
    return {remote_id: row.id for remote_id, row in rows.items()}


@dataclass
class LevelChanges:
    """What recording a system of record's levels changed in the hub."""

    moved: list[int] = field(default_factory=list)  # variants whose stock at some location changed
    totals: list[tuple[int, str, int, int]] = field(default_factory=list)  # (variant id, sku, before, after)
    unknown_variants: int = 0  # levels of variants not in the hub yet (products.pull brings them)
    unknown_locations: set[str] = field(default_factory=set)
    seen: int = 0  # variants reported


def record_levels(
    conn: Connection, levels: Iterable[StockLevel], locations: dict[str, int], variant_ids=None
) -> LevelChanges:
    """Record per-location levels of `conn`'s variants (all of them, or those in `variant_ids`) and their totals.

    A location a reported variant is no longer stocked at is forgotten. A variant counts as moved when its total
    or any location's level changed; a variant first recorded per location counts as moved only when it is
    stocked at several locations (at one, the total the hub knew is that location's level). Plain columns and bulk
    statements: this runs over the whole catalog every hour. Not committed."""
    query = select(Variant.id, Variant.remote_id, Variant.sku, Variant.inventory_quantity).where(
        Variant.connection_id == conn.id, Variant.deleted_at.is_(None)
    )
    stored = select(VariantStock.id, VariantStock.variant_id, VariantStock.location_id, VariantStock.quantity).join(
        Variant, VariantStock.variant_id == Variant.id
    ).where(Variant.connection_id == conn.id)  # fmt: skip
    if variant_ids is not None:
        query = query.where(Variant.id.in_(list(variant_ids)))
        stored = stored.where(VariantStock.variant_id.in_(list(variant_ids)))
    known = {remote_id: (vid, sku, total) for vid, remote_id, sku, total in db.session.execute(query)}
    rows = {(vid, lid): (rid, qty) for rid, vid, lid, qty in db.session.execute(stored)}
    had_rows = {vid for vid, _ in rows}
    totals: dict[int, int] = {}
    counts: dict[int, int] = {}
    moved: set[int] = set()
    inserts, updates, seen_pairs = [], [], set()
    changes = LevelChanges()
    for level in levels:
        variant = known.get(level.variant_remote_id)
        if variant is None:
            changes.unknown_variants += 1
            continue
        location_id = locations.get(level.location_id)
        if location_id is None:
            changes.unknown_locations.add(level.location_id)
            continue
        vid = variant[0]
        pair = (vid, location_id)
        if pair in seen_pairs:
            continue
        seen_pairs.add(pair)
        totals[vid] = totals.get(vid, 0) + level.quantity
        counts[vid] = counts.get(vid, 0) + 1
        stored_row = rows.get(pair)
        if stored_row is None:
            inserts.append({"variant_id": vid, "location_id": location_id, "quantity": level.quantity})
            if vid in had_rows:
                moved.add(vid)
        elif stored_row[1] != level.quantity:
            updates.append({"id": stored_row[0], "quantity": level.quantity})
            moved.add(vid)
    gone = [rid for (vid, lid), (rid, _) in rows.items() if vid in totals and (vid, lid) not in seen_pairs]
    moved |= {vid for (vid, lid) in rows if vid in totals and (vid, lid) not in seen_pairs}
    for start in range(0, len(inserts), 1000):
        db.session.execute(insert(VariantStock), inserts[start : start + 1000])
    if updates:
        db.session.execute(update(VariantStock), updates)
    if gone:
        db.session.execute(VariantStock.__table__.delete().where(VariantStock.id.in_(gone)))
    at = utcnow()
    by_id = {vid: (sku, total) for vid, sku, total in known.values()}
    total_updates = []
    for vid, total in totals.items():
        sku, before = by_id[vid]
        if total != before:
            total_updates.append({"id": vid, "inventory_quantity": total, "inventory_updated_at": at})
            changes.totals.append((vid, sku, before, total))
            moved.add(vid)
        elif vid not in had_rows and counts[vid] > 1:
            moved.add(vid)  # first seen per location: what each partnership counts may differ from the total
    if total_updates:
        db.session.execute(update(Variant), total_updates)
    changes.moved, changes.seen = sorted(moved), len(totals)
    return changes


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


def retailer_quantities(partnership: Partnership, variant_ids=None, location_ids=None) -> list[Level]:
    """What the retailer should see for each placed variant: stock at the partnership's counted locations -
    in-flight orders - buffer (0 if removed).

    Contract: one Level per listing variant of the partnership that has been placed in the retailer's store (has a
    remote inventory item), ordered by listing variant id; `quantity` is never negative, and is 0 when the variant,
    its product or its listing is gone. Reads only; nothing is written or committed.
    Plain columns, not ORM objects: this runs over the whole catalog on every stock push and fetch_stock call.
    `variant_ids` narrows it to those hub variants (a push of what an event changed reads only those rows);
    `location_ids` counts those locations instead of the partnership's choice (a dry run of a new choice).
    A variant with no per-location stock recorded yet (products.pull brought it, no stock pull since) counts its
    total.
    """
    in_flight = in_flight_by_sku(partnership.wholesaler_id)
    counted = counted_location_ids(partnership, location_ids)
    wholesaler_locations_q = select(StockLocation.id).where(StockLocation.wholesaler_id == partnership.wholesaler_id)
    per_location = select(
        VariantStock.variant_id.label("variant_id"),
        func.sum(case((VariantStock.location_id.in_(counted), VariantStock.quantity), else_=0)).label("counted"),
        func.count(VariantStock.id).label("locations"),
    ).where(VariantStock.location_id.in_(wholesaler_locations_q))
    if variant_ids is not None:
        per_location = per_location.where(VariantStock.variant_id.in_(list(variant_ids)))
    per_location = per_location.group_by(VariantStock.variant_id).subquery()
    query = (
        select(
            ListingVariant.id,
            Variant.sku,
            ListingVariant.remote_inventory_item_id,
            ListingVariant.pushed_quantity,
            Variant.inventory_quantity,
            per_location.c.counted,
            per_location.c.locations,
            Variant.deleted_at,
            Listing.removed_at,
            Product.deleted_at,
        )
        .join(Listing, ListingVariant.listing_id == Listing.id)
        .join(Variant, ListingVariant.variant_id == Variant.id)
        .join(Product, Variant.product_id == Product.id)
        .outerjoin(per_location, per_location.c.variant_id == Variant.id)
        .where(Listing.partnership_id == partnership.id, ListingVariant.remote_inventory_item_id.is_not(None))
        .order_by(ListingVariant.id)
    )
    if variant_ids is not None:
        query = query.where(ListingVariant.variant_id.in_(list(variant_ids)))
    rows = db.session.execute(query)
    result = []
    for lv_id, sku, item_id, pushed, total, at_counted, located, variant_gone, removed, product_gone in rows:
        gone = variant_gone or removed or product_gone
        wanted = 0 if gone else _offered(partnership, sku, total, at_counted, located, in_flight)
        result.append(Level(lv_id, sku, item_id, pushed, wanted))
    return result


def offered_quantities(partnership: Partnership, variants: Iterable[Variant]) -> dict[int, int]:
    """By hub variant id, the level a product's first push places at the retailer: the same count as
    retailer_quantities (counted locations - in-flight - buffer, never negative) for variants not placed yet."""
    variants = list(variants)
    if not variants:
        return {}
    in_flight = in_flight_by_sku(partnership.wholesaler_id)
    counted = counted_location_ids(partnership)
    located = {
        variant_id: (int(at_counted or 0), n)
        for variant_id, at_counted, n in db.session.execute(
            select(
                VariantStock.variant_id,
                func.sum(case((VariantStock.location_id.in_(counted), VariantStock.quantity), else_=0)),
                func.count(VariantStock.id),
            )
            .where(VariantStock.variant_id.in_([v.id for v in variants]))
            .group_by(VariantStock.variant_id)
        )
    }
    return {
        v.id: _offered(partnership, v.sku, v.inventory_quantity, *located.get(v.id, (0, 0)), in_flight)
        for v in variants
    }


def _offered(partnership: Partnership, sku, total, at_counted, located, in_flight: dict[str, int]) -> int:
    # No per-location stock recorded yet (products.pull brought it, no stock pull since): its total counts.
    stock = int(at_counted or 0) if located else total
    return max(0, stock - in_flight.get(sku, 0) - partnership.stock_buffer)


@dataclass
class LocationPreview:
    """A dry run of counting other locations: how many placed levels would change, and the first few."""

    changes: int = 0
    unchanged: int = 0
    sample: list[tuple[str, int | None, int]] = field(default_factory=list)  # (sku, at the retailer now, would be)


def preview_locations(partnership: Partnership, location_ids: list[int], limit: int = 20) -> LocationPreview:
    """What the retailer's levels would become if these locations counted (reads only, writes nothing)."""
    result = LocationPreview()
    for level in carried_levels(partnership, retailer_quantities(partnership, location_ids=location_ids)):
        if level.pushed_quantity == level.quantity:
            result.unchanged += 1
            continue
        result.changes += 1
        if len(result.sample) < limit:
            result.sample.append((level.sku, level.pushed_quantity, level.quantity))
    return result
