"""Planning a products push: what each product needs in a retailer's store (nothing, a link by SKU, a create, a full
or price-only update, zero stock), and recording what the store answered in the hub's listings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from integrations.base import ProductPush, RemoteProduct
from jobs.flows.common import digest, now
from portal.extensions import db
from portal.models import Listing, ListingVariant, Partnership, Product, Variant
from portal.services.pricing import compute_retail_price
from portal.services.stock import offered_quantities

SKU_CHUNK = 40  # SKUs per "Get SKU by ID" search
PUSH_BATCH = 250  # products a catalog push holds at once (with their variants and listings)


def wholesaler_catalog(partnership: Partnership, only=None) -> list[Product]:
    """Every product of the wholesaler (or those of `only`, hub ids): live ones, and deleted ones still listed (to
    zero their stock)."""
    query = select(Product).where(Product.wholesaler_id == partnership.wholesaler_id).order_by(Product.id)
    if only is not None:
        query = query.where(Product.id.in_(list(only)))
    return list(db.session.execute(query).scalars())


def catalog_batches(partnership: Partnership, size: int | None = None):
    """`wholesaler_catalog` in batches of `size` products by id (keyset pages): a push holds one batch at a time,
    so its memory does not grow with the catalog."""
    after, size = 0, size or PUSH_BATCH
    while True:
        query = (
            select(Product)
            .where(Product.wholesaler_id == partnership.wholesaler_id, Product.id > after)
            .order_by(Product.id)
            .limit(size)
        )
        batch = list(db.session.execute(query).scalars())
        if not batch:
            return
        yield batch
        after = batch[-1].id


def partnership_listings(partnership: Partnership, product_ids=None) -> dict[int, Listing]:
    """This partnership's listings in the retailer's store, by hub product id (only those of `product_ids`)."""
    query = select(Listing).where(Listing.partnership_id == partnership.id)
    if product_ids is not None:
        query = query.where(Listing.product_id.in_(list(product_ids)))
    return {row.product_id: row for row in db.session.execute(query).scalars()}


def sku_matches(pool, store, products, listings) -> dict:
    """For products never placed: the retailer's variants with the same SKUs (searched in parallel chunks)."""
    skus = sorted({v.sku for p in products if p.id not in listings and p.deleted_at is None for v in live_variants(p)})
    chunks = [skus[i : i + SKU_CHUNK] for i in range(0, len(skus), SKU_CHUNK)]
    matches: dict = {}
    for found in pool.map(store.variants_by_sku, chunks):
        matches.update(found)
    return matches


def live_variants(product: Product) -> list[Variant]:
    """The product's variants the wholesaler still sells."""
    return [v for v in product.variants if v.deleted_at is None]


def product_key(partnership: Partnership, product: Product) -> str:
    """Our deterministic key for a product we create: a retry of a create finds and updates the same product."""
    return f"wholesync-{partnership.id}-{product.id}"


def retail_prices(partnership: Partnership, product: Product) -> dict[str, Decimal]:
    """The retail price of each live variant under the partnership's price list, now."""
    return {
        v.sku: compute_retail_price(partnership.price_list, v.sku, v.wholesale_price).price
        for v in live_variants(product)
    }


def push_hash(product: Product, prices: dict[str, Decimal]) -> str:
    """What a listing holds when it is current: the product's content and its retail prices."""
    return digest([product.content_hash, sorted((k, str(v)) for k, v in prices.items())])


@dataclass
class Plan:
    """A remote call to make for one product, and what to record when it succeeds."""

    push: ProductPush
    outcome: str
    action: str
    prices: dict
    wanted: str
    listing: Listing | None


def plan_product(ctx, partnership, store, store_conn, placement, product, listing, matches,
                 carried=True) -> Plan | str:  # fmt: skip
    """What to do with one product: an outcome now (unchanged, skipped, zeroed, linked) or a call to make.

    `carried` False: the retailer no longer carries it (its selection); it leaves the store as a product deleted at
    the source does."""
    if product.deleted_at is not None:
        return _remove(ctx, partnership, store, listing, title=product.title) if listing else "skipped"
    if not carried:
        why = "no longer in the retailer's selection"
        return _remove(ctx, partnership, store, listing, why, product.title) if listing else "skipped"
    prices = retail_prices(partnership, product)
    wanted = push_hash(product, prices)
    if listing is not None and listing.remote_product_id and listing.pushed_hash == wanted and not listing.removed_at:
        return "unchanged"
    variants = _variants_payload(partnership, product, prices, listing)
    key = product_key(partnership, product)
    if listing is None or not listing.remote_product_id:
        first = next(iter(live_variants(product)), None)
        match = matches.get(first.sku) if first else None
        if match is not None and match.product_key != key:
            return _link(ctx, partnership, store, store_conn, product, prices, matches, wanted)
        push_ = ProductPush(key=key, product=_remote_view(product), variants=variants, placement=placement,
                            remote_media=list(listing.remote_media or []) if listing else None)  # fmt: skip
        return Plan(push_, "created", "add", prices, wanted, listing)
    if partnership.force_overwrite and not listing.matched_by_sku:
        push_ = ProductPush(key=key, product=_remote_view(product), variants=variants,
                            remote_product_id=listing.remote_product_id, placement=placement,
                            remote_media=list(listing.remote_media or []))  # fmt: skip
        return Plan(push_, "updated", "edit", prices, wanted, listing)
    # Without force overwrite the retailer owns everything but price (and stock, pushed by inventory.push).
    # Compare-at counts as price: a sale shown by the wholesaler reaches the retailer without force overwrite
    # (a product linked by SKU is the retailer's own: only its price follows ours).
    if listing.matched_by_sku:
        for v in variants:
            v.pop("compare_at_price")
    changed = [
        v
        for v in variants
        if v.get("variant_id")
        and (v["price"] != v.get("pushed_price") or v.get("compare_at_price") != v.get("pushed_compare_at"))
    ]
    if not changed and not listing.removed_at:
        listing.pushed_hash = wanted
        return "unchanged"
    push_ = ProductPush(key=key, product=None, variants=changed, remote_product_id=listing.remote_product_id,
                        full=False)  # fmt: skip
    return Plan(push_, "updated", "edit", prices, wanted, listing)


def _variants_payload(partnership, product, prices, listing) -> list[dict]:
    placed = {lv.variant_id: lv for lv in (listing.variants if listing else [])}
    live = live_variants(product)
    # A variant placed for the first time starts at the level inventory.push would give it, never at the total.
    offered = offered_quantities(partnership, [v for v in live if v.id not in placed])
    payload = []
    for v in live:
        lv = placed.get(v.id)
        payload.append({
            "sku": v.sku, "price": prices[v.sku], "option_values": v.option_values, "barcode": v.barcode,
            "quantity": offered.get(v.id, max(0, v.inventory_quantity)),
            "variant_id": lv.remote_variant_id if lv else None,
            "pushed_price": lv.pushed_price if lv else None, "compare_at_price": v.compare_at_price,
            "pushed_compare_at": lv.pushed_compare_at if lv else None, "weight_grams": v.weight_grams,
            "taxable": v.taxable is not False, "requires_shipping": v.requires_shipping is not False,
        })  # fmt: skip
    return payload


def _remote_view(product: Product) -> RemoteProduct:
    return RemoteProduct(
        remote_id=product.remote_id, title=product.title, description_html=product.description_html,
        vendor=product.vendor, product_type=product.product_type, tags=list(product.tags or []),
        image_urls=list(product.image_urls or []), options=list(product.options or []),
        images=list(product.images or []),
    )  # fmt: skip


def record_listing(partnership, store_conn, product, listing, remote_id, placed, prices, wanted, stock=True,
                   media=None, quantities=None) -> Listing:  # fmt: skip
    """Remote ids, pushed hash and prices, written in one transaction with the activity entry.

    `stock` False (a product linked by SKU): its inventory item is the retailer's own, so none is recorded and
    inventory.push never sets it, nor its compare-at price. `media`: the store's media ids of our images after a
    full push (None: unchanged). `quantities`: by SKU, the levels the push placed (recorded as pushed)."""
    if listing is None:
        listing = Listing(partnership_id=partnership.id, product_id=product.id, retailer_connection_id=store_conn.id)
        db.session.add(listing)
        db.session.flush()
    listing.remote_product_id, listing.pushed_hash = remote_id, wanted
    listing.last_pushed_at, listing.removed_at = now(), None
    if media is not None:
        listing.remote_media = media
    by_variant = {lv.variant_id: lv for lv in listing.variants}
    for v in live_variants(product):
        lv = by_variant.get(v.id)
        spot = placed.get(v.sku)
        if lv is None:
            if spot is None:
                continue
            placed_quantity = (quantities or {}).get(v.sku, max(0, v.inventory_quantity))
            lv = ListingVariant(listing_id=listing.id, variant_id=v.id,
                                pushed_quantity=placed_quantity if stock else None)  # fmt: skip
            db.session.add(lv)
        if spot is not None:
            lv.remote_variant_id = spot.variant_id
            lv.remote_inventory_item_id = spot.inventory_item_id if stock else None
        lv.pushed_price = prices[v.sku]
        if stock:
            lv.pushed_compare_at = v.compare_at_price
    return listing


def _link(ctx, partnership, store, store_conn, product, prices, matches, wanted) -> str:
    """ "Get SKU by ID": the retailer already sells this SKU, so link to its product and keep its price current —
    never duplicate it, never overwrite its content, never touch its stock (that is the retailer's own)."""
    placed = {v.sku: matches[v.sku] for v in live_variants(product) if v.sku in matches}
    remote_product_id = next(iter(placed.values())).product_id
    variants = [{"sku": sku, "price": prices[sku], "variant_id": spot.variant_id} for sku, spot in placed.items()]
    store.set_product(ProductPush(key="", product=None, variants=variants, remote_product_id=remote_product_id,
                                  full=False))  # fmt: skip
    listing = record_listing(
        partnership, store_conn, product, None, remote_product_id, placed, prices, wanted, stock=False
    )
    listing.matched_by_sku = True
    ctx.log("edit", "listing", listing.id, f"{product.title}: linked by SKU to the retailer's existing product")
    return "updated"


def _remove(ctx, partnership, store, listing: Listing, why: str = "removed by the wholesaler", title: str = "") -> str:
    """A product the wholesaler removed (or the retailer no longer carries): zero stock at the retailer, our copy back
    to draft (never deleted from under them)."""
    if listing.removed_at is not None:
        return "unchanged"
    from jobs.flows.inventory import set_levels

    rows = [(lv, 0) for lv in listing.variants if lv.remote_inventory_item_id and lv.pushed_quantity != 0]
    set_levels(store, partnership, rows, f"remove-{listing.id}")
    drafted = False
    if listing.remote_product_id and not listing.matched_by_sku and hasattr(store, "set_status"):
        # Our copy goes back to draft (off sale, kept with its sales history); a product linked by SKU is the
        # retailer's own, so only its stock from us stops.
        store.set_status(listing.remote_product_id, "DRAFT")
        drafted = True
    listing.removed_at = now()
    what = "back to draft with stock 0" if drafted else "stock set to zero"
    ctx.log("edit", "listing", listing.id, f"{title + ': ' if title else ''}{why}: {what} in the retailer's store")
    return "updated"
