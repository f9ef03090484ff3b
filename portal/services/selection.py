"""Which of the wholesaler's products a retailer carries, per partnership: the one place that decides membership.

Modes: `all` (the default, and what a partnership without a row has), `rules` and `picked`. Rules name values of up
to four kinds — tags, product types, vendors, collections (WooCommerce: categories). A product matches when, for
EVERY kind that has values, it has AT LEAST ONE of them (AND across kinds, OR within a kind); values compare without
case and surrounding spaces. `picked` carries exactly the hand-picked hub product ids.

Every path asks here: products.push (full, event-driven and its dry run), the stock push (only listings of carried
products get stock), the selection page's preview and the retailer's incoming catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Listing, ListingVariant, Partnership, Product, ProductSelection

MODES = ("all", "rules", "picked")
RULE_KINDS = ("tags", "product_types", "vendors", "collections")
KIND_LABELS = {"tags": "tags", "product_types": "product types", "vendors": "vendors", "collections": "collections"}
MAX_VALUES = 100  # per kind
MAX_PICKED = 10_000
LOOKUP_CHUNK = 500  # ids per IN (...) when carried_levels finds the products of stock levels


class SelectionRefused(ValueError):
    """A selection that cannot be saved; the message says why, for the person who gave it."""


def _norm(value: str | None) -> str:
    return (value or "").strip().casefold()


@dataclass(frozen=True)
class Selection:
    """A partnership's selection as a value: decides whether it carries a product."""

    mode: str = "all"
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    product_ids: frozenset[int] = frozenset()

    def carries(self, product) -> bool:
        """Whether the retailer carries `product` (a Product, or a row with its id, tags, product_type, vendor and
        collections); its deletion at the source is judged elsewhere."""
        if self.mode == "picked":
            return product.id in self.product_ids
        if self.mode != "rules":
            return True
        have = {
            "tags": {_norm(t) for t in product.tags or []},
            "product_types": {_norm(product.product_type)},
            "vendors": {_norm(product.vendor)},
            "collections": {_norm(c) for c in product.collections or []},
        }
        return all(have[kind] & {_norm(v) for v in values} for kind, values in self.rules.items() if values)

    def describe(self) -> str:
        """One line for people: what this selection carries."""
        if self.mode == "picked":
            return f"{len(self.product_ids)} hand-picked product(s)"
        if self.mode == "rules":
            parts = [f"{KIND_LABELS[k]} {' or '.join(v)}" for k, v in self.rules.items() if v]
            return "products matching " + " and ".join(parts)
        return "the whole catalog"


def selection_of(partnership: Partnership) -> Selection:
    """The partnership's saved selection (the whole catalog when none was saved)."""
    row = _row(partnership)
    if row is None:
        return Selection()
    rules = {k: tuple(row.rules.get(k) or ()) for k in RULE_KINDS} if row.mode == "rules" else {}
    return Selection(row.mode, rules, frozenset(int(i) for i in row.product_ids or ()))


def _row(partnership: Partnership) -> ProductSelection | None:
    return db.session.execute(
        select(ProductSelection).where(ProductSelection.partnership_id == partnership.id)
    ).scalar_one_or_none()


def carried_ids(partnership: Partnership, products: Iterable[Product]) -> set[int]:
    """The ids of `products` this partnership's retailer carries."""
    selection = selection_of(partnership)
    return {p.id for p in products if selection.carries(p)}


def carried_levels(partnership: Partnership, levels: Iterable) -> list:
    """Of stock levels (portal.services.stock.Level), those of products the retailer carries: a product that left
    the selection keeps what it had until products.push returns it to draft with stock 0. Free for `all`."""
    levels = list(levels)
    carried = _carried_listing_variants(partnership, levels)
    return levels if carried is None else [level for level in levels if level.listing_variant_id in carried]


def offered_levels(partnership: Partnership, levels: Iterable) -> list:
    """Stock levels as the retailer may be told them when it asks (Shopify's fetch_stock): 0 for a product outside
    the selection, which it must not sell even before products.push returns it to draft. Free for `all`."""
    levels = list(levels)
    carried = _carried_listing_variants(partnership, levels)
    if carried is None:
        return levels
    return [level if level.listing_variant_id in carried else replace(level, quantity=0) for level in levels]


def _carried_listing_variants(partnership: Partnership, levels: list) -> set[int] | None:
    """The listing variant ids of `levels` whose product the retailer carries; None when it carries everything."""
    selection = selection_of(partnership)
    if selection.mode == "all" or not levels:
        return None
    # Only the rows of these levels, by primary key in chunks: the cost follows the levels asked about (an event's
    # few, or one page of a whole-catalog push), not the catalog. Single-table lookups: a join with IN (...) made
    # SQLite scan (28 s for 10,000 levels).
    listing_of = _by_ids(select(ListingVariant.id, ListingVariant.listing_id), ListingVariant.id,
                         [level.listing_variant_id for level in levels])  # fmt: skip
    product_by_listing = _by_ids(select(Listing.id, Listing.product_id).where(Listing.partnership_id == partnership.id),
                                 Listing.id, set(listing_of.values()))  # fmt: skip
    product_of = {lv: product_by_listing.get(listing) for lv, listing in listing_of.items()}
    product_ids = sorted(set(product_of.values()))
    carried: set[int] = set()
    for start in range(0, len(product_ids), LOOKUP_CHUNK):
        rows = db.session.execute(
            select(Product.id, Product.tags, Product.product_type, Product.vendor, Product.collections).where(
                Product.wholesaler_id == partnership.wholesaler_id,
                Product.id.in_(product_ids[start : start + LOOKUP_CHUNK]),
            )
        )
        carried.update(row.id for row in rows if selection.carries(row))
    return {lv for lv, product_id in product_of.items() if product_id in carried}


def _by_ids(query, key, ids) -> dict:
    """(key, value) rows of `query` for these ids, read LOOKUP_CHUNK ids at a time, as a dict."""
    ids = sorted(ids)
    found: dict = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        found.update(db.session.execute(query.where(key.in_(ids[start : start + LOOKUP_CHUNK]))).all())
    return found


def build(partnership: Partnership, mode: str, rules: dict[str, Iterable[str]], picked: Iterable) -> Selection:
    """A selection from a person's input, checked: refused with a clear message when it cannot be saved."""
    if mode not in MODES:
        raise SelectionRefused(f"Choose what the retailer carries: {', '.join(MODES)} (got {mode!r}).")
    if mode == "all":
        return Selection()
    if mode == "rules":
        clean: dict[str, tuple[str, ...]] = {}
        for kind in RULE_KINDS:
            values = tuple(dict.fromkeys(v.strip() for v in rules.get(kind) or () if v and v.strip()))
            if len(values) > MAX_VALUES:
                raise SelectionRefused(f"At most {MAX_VALUES} {KIND_LABELS[kind]} per rule.")
            if any(len(v) > 255 for v in values):
                raise SelectionRefused(f"A value of {KIND_LABELS[kind]} is longer than 255 characters.")
            clean[kind] = values
        if not any(clean.values()):
            raise SelectionRefused("Give at least one tag, product type, vendor or collection for the rules.")
        return Selection("rules", clean)
    ids: set[int] = set()
    for raw in picked:
        try:
            ids.add(int(str(raw).strip()))
        except ValueError:
            raise SelectionRefused(f"{raw!r} is not a product id.") from None
    if not ids:
        raise SelectionRefused("Pick at least one product (or choose the whole catalog).")
    if len(ids) > MAX_PICKED:
        raise SelectionRefused(f"At most {MAX_PICKED:,} hand-picked products; use rules for more.")
    owned = set(
        db.session.execute(
            select(Product.id).where(Product.wholesaler_id == partnership.wholesaler_id, Product.id.in_(sorted(ids)))
        ).scalars()
    )
    foreign = sorted(ids - owned)
    if foreign:
        raise SelectionRefused(f"Product {foreign[0]} is not in your catalog.")
    return Selection("picked", {}, frozenset(ids))


def save(partnership: Partnership, selection: Selection) -> None:
    """Store the selection (not committed); the whole catalog is stored too, so the page shows what was chosen."""
    row = _row(partnership)
    if row is None:
        row = ProductSelection(partnership_id=partnership.id, wholesaler_id=partnership.wholesaler_id)
        db.session.add(row)
    row.mode = selection.mode
    row.rules = {k: list(v) for k, v in selection.rules.items() if v}
    row.product_ids = sorted(selection.product_ids)


@dataclass
class Change:
    """What saving a selection would do at the retailer: products added (as drafts) and returned to draft."""

    added: list[Product] = field(default_factory=list)
    drafted: list[Product] = field(default_factory=list)
    carried: int = 0


def preview(partnership: Partnership, selection: Selection) -> Change:
    """What the next products.push would add and return to draft if `selection` were saved (reads only)."""
    listed = {
        product_id: removed is None and remote is not None
        for product_id, removed, remote in db.session.execute(
            select(Listing.product_id, Listing.removed_at, Listing.remote_product_id).where(
                Listing.partnership_id == partnership.id
            )
        )
    }
    change = Change()
    live = select(Product).where(Product.wholesaler_id == partnership.wholesaler_id, Product.deleted_at.is_(None))
    for product in db.session.execute(live.order_by(Product.id)).scalars():
        carried = selection.carries(product)
        change.carried += carried
        if carried and not listed.get(product.id):
            change.added.append(product)
        elif not carried and listed.get(product.id):
            change.drafted.append(product)
    return change


def choices(wholesaler_id: int) -> dict[str, list[str]]:
    """The values the wholesaler's live catalog has for each rule kind (the page offers them), sorted."""
    rows = db.session.execute(
        select(Product.tags, Product.product_type, Product.vendor, Product.collections).where(
            Product.wholesaler_id == wholesaler_id, Product.deleted_at.is_(None)
        )
    )
    found: dict[str, set[str]] = {k: set() for k in RULE_KINDS}
    for tags, product_type, vendor, collections in rows:
        found["tags"].update(t for t in tags or [] if t)
        found["collections"].update(c for c in collections or [] if c)
        if product_type:
            found["product_types"].add(product_type)
        if vendor:
            found["vendors"].add(vendor)
    return {k: sorted(v, key=str.casefold) for k, v in found.items()}


def picker_query(wholesaler_id: int, q: str | None):
    """The wholesaler's live products for the picker, by title; `q` matches a part of the title, vendor or type."""
    query = select(Product).where(Product.wholesaler_id == wholesaler_id, Product.deleted_at.is_(None))
    if q and q.strip():
        escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                Product.title.ilike(pattern, escape="\\"),
                Product.vendor.ilike(pattern, escape="\\"),
                Product.product_type.ilike(pattern, escape="\\"),
            )
        )
    return query.order_by(Product.title, Product.id)
