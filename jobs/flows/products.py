"""Products: the catalog from the system of record into the hub (pull), and from the hub into each retailer's store
(push: new products DRAFT, linked by SKU when the retailer already sells them, price-only unless force overwrite).
"""

from __future__ import annotations

from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from integrations.base import ProductPush, RemoteProduct
from jobs.context import RunContext
from jobs.flows.common import (
    CallCounter,
    advance_cursor,
    chain_for_partnerships,
    cursor_since,
    digest,
    now,
    partnerships_of,
)
from jobs.preview import DryRun
from portal.extensions import db
from portal.models import Listing, ListingVariant, Organization, Partnership, Product, Variant
from portal.services.organizations import org_connection
from portal.services.platforms import retailer_store, system_of_record
from portal.services.pricing import compute_retail_price

STREAM = "products"
PUSH_CONCURRENCY = 8  # remote calls in flight per push (the cost bucket, not this number, bounds the rate)
SKU_CHUNK = 40  # SKUs per "Get SKU by ID" search


# ---------------------------------------------------------------- pull: system of record -> hub


def content_hash(remote: RemoteProduct) -> str:
    """A hash of every field that syncs to retailers (stock excluded: it has its own flow)."""
    variants = sorted(
        [v.sku, v.title, v.option_values, v.barcode, v.weight_grams, str(v.price)] for v in remote.variants
    )
    fields = [remote.title, remote.description_html, remote.vendor, remote.product_type, sorted(remote.tags)]
    return digest([fields, remote.image_urls, remote.options, variants])


def pull(ctx: RunContext) -> None:
    """Read new and changed products (incremental by updated_at; all of them on the first run) and notice deletions."""
    conn = ctx.target
    sor = system_of_record(conn, on_call=ctx.api_call)
    since = cursor_since(conn.id, STREAM)
    changed = stock_changed = False
    mark = None
    remote_products = list(sor.products(since))
    ctx.set_total(len(remote_products))
    for remote in remote_products:
        try:
            outcome, moved = _upsert_product(ctx, conn, remote)
        except Exception as exc:  # one bad record must not stop the catalog
            db.session.rollback()
            ctx.fail(remote.remote_id, f"{type(exc).__name__}: {exc}")
            continue
        changed |= outcome != "unchanged"
        stock_changed |= moved
        ctx.count(outcome)
        if remote.updated_at and (mark is None or remote.updated_at > mark):
            mark = remote.updated_at
    changed |= _notice_deletions(ctx, conn, sor.product_ids())
    db.session.commit()
    advance_cursor(conn.id, STREAM, mark)  # only now: everything up to `mark` is committed
    partners = partnerships_of(Partnership.wholesaler_id, conn.organization_id, "sync_products_to_retailer")
    if changed:
        chain_for_partnerships(ctx, "products.push", partners)
    if stock_changed:
        chain_for_partnerships(ctx, "inventory.push", partners)


def _upsert_product(ctx: RunContext, conn, remote: RemoteProduct) -> tuple[str, bool]:
    """Create or update one product and its variants; returns (outcome, stock changed)."""
    product = db.session.execute(
        select(Product).where(Product.connection_id == conn.id, Product.remote_id == remote.remote_id)
    ).scalar_one_or_none()
    new_hash = content_hash(remote)
    stock_moved = False
    if product is None:
        product = Product(wholesaler_id=conn.organization_id, connection_id=conn.id, remote_id=remote.remote_id)
        db.session.add(product)
        outcome = "created"
    elif product.content_hash == new_hash and product.deleted_at is None:
        outcome = "unchanged"
    else:
        outcome = "updated"
    if outcome != "unchanged":
        product.title, product.description_html = remote.title, remote.description_html
        product.vendor, product.product_type, product.tags = remote.vendor, remote.product_type, remote.tags
        product.image_urls, product.options, product.content_hash = remote.image_urls, remote.options, new_hash
        product.deleted_at = None
    product.remote_updated_at = remote.updated_at
    db.session.flush()
    stock_moved = _upsert_variants(conn, product, remote, full=outcome != "unchanged")
    if outcome != "unchanged":
        action = "add" if outcome == "created" else "edit"
        ctx.log(action, "product", product.id, f"{remote.title} ({len(remote.variants)} variants) from the catalog",
                organization_id=conn.organization_id)  # fmt: skip
    db.session.commit()
    return outcome, stock_moved


def _upsert_variants(conn, product: Product, remote: RemoteProduct, full: bool) -> bool:
    existing = {v.remote_id: v for v in db.session.execute(select(Variant).where(Variant.product_id == product.id))
                .scalars()}  # fmt: skip
    stock_moved = False
    seen = set()
    for rv in remote.variants:
        seen.add(rv.remote_id)
        variant = existing.get(rv.remote_id)
        if variant is None:
            variant = Variant(
                product_id=product.id, wholesaler_id=conn.organization_id, connection_id=conn.id,
                remote_id=rv.remote_id, inventory_quantity=rv.quantity, inventory_updated_at=now(),
            )  # fmt: skip
            db.session.add(variant)
            full = True
        elif variant.inventory_quantity != rv.quantity:
            variant.inventory_quantity, variant.inventory_updated_at = rv.quantity, now()
            stock_moved = True
        if full:
            variant.sku, variant.title, variant.option_values = rv.sku, rv.title, rv.option_values
            variant.barcode, variant.weight_grams, variant.wholesale_price = rv.barcode, rv.weight_grams, rv.price
            variant.retail_price, variant.inventory_item_remote_id = rv.retail_price, rv.inventory_item_id
            variant.deleted_at = None
    for remote_id, variant in existing.items():
        if remote_id not in seen and variant.deleted_at is None:
            variant.deleted_at = now()
    return stock_moved


def _notice_deletions(ctx: RunContext, conn, remote_ids: set[str]) -> bool:
    """Products the system of record no longer has are marked deleted (their listings get zero stock on push)."""
    gone = db.session.execute(
        select(Product).where(
            Product.connection_id == conn.id, Product.deleted_at.is_(None), Product.remote_id.not_in(remote_ids)
        )
    ).scalars().all() if remote_ids is not None else []  # fmt: skip
    for product in gone:
        product.deleted_at = now()
        ctx.log("delete", "product", product.id, f"{product.title} was removed from the catalog",
                organization_id=conn.organization_id)  # fmt: skip
    db.session.commit()
    return bool(gone)


# ---------------------------------------------------------------- push: hub -> retailer store


def push(ctx: RunContext) -> None:
    """Place the wholesaler's catalog in the retailer's store at price-list prices; only what changed is sent.

    Decisions and every database write happen on this thread; the remote calls run PUSH_CONCURRENCY at a time
    (the shared per-shop cost bucket keeps them within the shop's rate limit), so a large catalog goes at the
    shop's restore rate rather than at one round trip per product.
    """
    partnership: Partnership = ctx.target
    store_conn = org_connection(partnership.retailer_id, "store")
    if store_conn is None or partnership.status != "active":
        ctx.run.message = "The retailer has no active store connected; nothing to push."
        return
    products = _catalog(partnership)
    ctx.set_total(len(products))
    if not products:  # nothing to place: no call to the store at all
        ctx.run.message = "No products in Wholesync yet; products.pull reads the wholesaler's catalog first."
        return
    calls = CallCounter()
    store = retailer_store(store_conn, on_call=calls)
    placement = prepare_store(partnership, store)
    listings = _listings(partnership)
    with ThreadPoolExecutor(PUSH_CONCURRENCY) as pool:
        matches = _sku_matches(pool, store, products, listings)
        inflight: dict = {}
        for product in products:
            try:
                plan = _plan(ctx, partnership, store, store_conn, placement, product, listings.get(product.id),
                             matches)  # fmt: skip
            except Exception as exc:  # one failing product must not stop the others
                _failed(ctx, product, exc)
                continue
            if isinstance(plan, str):
                ctx.count(plan)
            else:
                inflight[pool.submit(store.set_product, plan.push)] = (product, plan)
                if len(inflight) >= 2 * PUSH_CONCURRENCY:
                    _settle(ctx, partnership, store_conn, inflight, FIRST_COMPLETED)
            calls.apply(ctx)
        _settle(ctx, partnership, store_conn, inflight, ALL_COMPLETED)
    calls.apply(ctx)
    db.session.commit()


def _failed(ctx: RunContext, product: Product, exc: Exception) -> None:
    ctx.fail(f"product {product.id} ({product.title})", f"{type(exc).__name__}: {exc}")


def _settle(ctx, partnership, store_conn, inflight: dict, return_when) -> None:
    """Record the remote ids of finished calls (remote ids and pushed hash in the same commit as the log entry)."""
    done, _ = wait(list(inflight), return_when=return_when)
    for future in done:
        product, plan = inflight.pop(future)
        try:
            remote_id, placed = future.result()
        except Exception as exc:  # the remote refused this product; the others go on
            _failed(ctx, product, exc)
            continue
        try:
            listing = _record(partnership, store_conn, product, plan.listing, remote_id, placed, plan.prices,
                              plan.wanted)  # fmt: skip
            if plan.outcome == "created":
                listing.created_unpublished = True
            suffix = " as a draft" if plan.outcome == "created" else ""
            ctx.log(
                plan.action, "listing", listing.id, f"{product.title}: {plan.outcome} in the retailer's store{suffix}"
            )
        except Exception as exc:  # a database problem: the next run finds the product again by our handle
            db.session.rollback()
            _failed(ctx, product, exc)
            continue
        ctx.count(plan.outcome)  # commits at most once a second (ctx.flush), so the push is not bound by fsyncs


def prepare_store(partnership: Partnership, store) -> dict:
    """Where this partnership's goods are placed in the retailer's store (prepared once, then kept)."""
    if partnership.placement is not None:
        return partnership.placement
    wholesaler = db.session.get(Organization, partnership.wholesaler_id)
    name = f"{wholesaler.name} via Wholesync #{partnership.id}"
    callback = f"{current_app.config['SHOPIFY_APP_URL'].rstrip('/')}/fulfillment-service/{partnership.id}"
    partnership.placement = store.prepare(f"wholesync-{partnership.id}", name, callback)
    db.session.commit()
    return partnership.placement


def _catalog(partnership: Partnership) -> list[Product]:
    """Every product of the wholesaler: live ones, and deleted ones still listed (to zero their stock)."""
    return list(
        db.session.execute(
            select(Product).where(Product.wholesaler_id == partnership.wholesaler_id).order_by(Product.id)
        ).scalars()
    )


def _listings(partnership: Partnership) -> dict[int, Listing]:
    rows = db.session.execute(select(Listing).where(Listing.partnership_id == partnership.id)).scalars()
    return {row.product_id: row for row in rows}


def _sku_matches(pool, store, products, listings) -> dict:
    """For products never placed: the retailer's variants with the same SKUs (searched in parallel chunks)."""
    skus = sorted({v.sku for p in products if p.id not in listings and p.deleted_at is None for v in _live(p)})
    chunks = [skus[i : i + SKU_CHUNK] for i in range(0, len(skus), SKU_CHUNK)]
    matches: dict = {}
    for found in pool.map(store.variants_by_sku, chunks):
        matches.update(found)
    return matches


def _live(product: Product) -> list[Variant]:
    return [v for v in product.variants if v.deleted_at is None]


def product_key(partnership: Partnership, product: Product) -> str:
    """Our deterministic key for a product we create: a retry of a create finds and updates the same product."""
    return f"wholesync-{partnership.id}-{product.id}"


def retail_prices(partnership: Partnership, product: Product) -> dict[str, Decimal]:
    """The retail price of each live variant under the partnership's price list, now."""
    return {v.sku: compute_retail_price(partnership.price_list, v.sku, v.wholesale_price).price for v in _live(product)}


def push_hash(product: Product, prices: dict[str, Decimal]) -> str:
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


def _plan(ctx, partnership, store, store_conn, placement, product, listing, matches) -> Plan | str:
    """What to do with one product: an outcome now (unchanged, skipped, zeroed, linked) or a call to make."""
    if product.deleted_at is not None:
        return _remove(ctx, partnership, store, listing) if listing else "skipped"
    prices = retail_prices(partnership, product)
    wanted = push_hash(product, prices)
    if listing is not None and listing.remote_product_id and listing.pushed_hash == wanted and not listing.removed_at:
        return "unchanged"
    variants = _variants_payload(product, prices, listing)
    key = product_key(partnership, product)
    if listing is None or not listing.remote_product_id:
        first = next(iter(_live(product)), None)
        match = matches.get(first.sku) if first else None
        if match is not None and match.product_key != key:
            return _link(ctx, partnership, store, store_conn, product, prices, matches, wanted)
        push_ = ProductPush(key=key, product=_remote_view(product), variants=variants, placement=placement)
        return Plan(push_, "created", "add", prices, wanted, listing)
    if partnership.force_overwrite and not listing.matched_by_sku:
        push_ = ProductPush(key=key, product=_remote_view(product), variants=variants,
                            remote_product_id=listing.remote_product_id, placement=placement)  # fmt: skip
        return Plan(push_, "updated", "edit", prices, wanted, listing)
    # Without force overwrite the retailer owns everything but price (and stock, pushed by inventory.push).
    changed = [v for v in variants if v.get("variant_id") and v["price"] != v.get("pushed_price")]
    if not changed and not listing.removed_at:
        listing.pushed_hash = wanted
        return "unchanged"
    push_ = ProductPush(key=key, product=None, variants=changed, remote_product_id=listing.remote_product_id,
                        full=False)  # fmt: skip
    return Plan(push_, "updated", "edit", prices, wanted, listing)


def _variants_payload(product, prices, listing) -> list[dict]:
    placed = {lv.variant_id: lv for lv in (listing.variants if listing else [])}
    payload = []
    for v in _live(product):
        lv = placed.get(v.id)
        payload.append({
            "sku": v.sku, "price": prices[v.sku], "option_values": v.option_values, "barcode": v.barcode,
            "quantity": v.inventory_quantity, "variant_id": lv.remote_variant_id if lv else None,
            "pushed_price": lv.pushed_price if lv else None,
        })  # fmt: skip
    return payload


def _remote_view(product: Product) -> RemoteProduct:
    return RemoteProduct(
        remote_id=product.remote_id, title=product.title, description_html=product.description_html,
        vendor=product.vendor, product_type=product.product_type, tags=list(product.tags or []),
        image_urls=list(product.image_urls or []), options=list(product.options or []),
    )  # fmt: skip


def _record(partnership, store_conn, product, listing, remote_id, placed, prices, wanted, stock=True) -> Listing:
    """Remote ids, pushed hash and prices, written in one transaction with the activity entry.

    `stock` False (a product linked by SKU): its inventory item is the retailer's own, so none is recorded and
    inventory.push never sets it."""
    if listing is None:
        listing = Listing(partnership_id=partnership.id, product_id=product.id, retailer_connection_id=store_conn.id)
        db.session.add(listing)
        db.session.flush()
    listing.remote_product_id, listing.pushed_hash = remote_id, wanted
    listing.last_pushed_at, listing.removed_at = now(), None
    by_variant = {lv.variant_id: lv for lv in listing.variants}
    for v in _live(product):
        lv = by_variant.get(v.id)
        spot = placed.get(v.sku)
        if lv is None:
            if spot is None:
                continue
            lv = ListingVariant(listing_id=listing.id, variant_id=v.id,
                                pushed_quantity=max(0, v.inventory_quantity) if stock else None)  # fmt: skip
            db.session.add(lv)
        if spot is not None:
            lv.remote_variant_id = spot.variant_id
            lv.remote_inventory_item_id = spot.inventory_item_id if stock else None
        lv.pushed_price = prices[v.sku]
    return listing


def _link(ctx, partnership, store, store_conn, product, prices, matches, wanted) -> str:
    """ "Get SKU by ID": the retailer already sells this SKU, so link to its product and keep its price current —
    never duplicate it, never overwrite its content, never touch its stock (that is the retailer's own)."""
    placed = {v.sku: matches[v.sku] for v in _live(product) if v.sku in matches}
    remote_product_id = next(iter(placed.values())).product_id
    variants = [{"sku": sku, "price": prices[sku], "variant_id": spot.variant_id} for sku, spot in placed.items()]
    store.set_product(ProductPush(key="", product=None, variants=variants, remote_product_id=remote_product_id,
                                  full=False))  # fmt: skip
    listing = _record(partnership, store_conn, product, None, remote_product_id, placed, prices, wanted, stock=False)
    listing.matched_by_sku = True
    ctx.log("edit", "listing", listing.id, f"{product.title}: linked by SKU to the retailer's existing product")
    return "updated"


def _remove(ctx, partnership, store, listing: Listing) -> str:
    """A product the wholesaler removed: zero stock at the retailer (never deleted from under them)."""
    if listing.removed_at is not None:
        return "unchanged"
    from jobs.flows.inventory import set_levels

    rows = [(lv, 0) for lv in listing.variants if lv.remote_inventory_item_id and lv.pushed_quantity != 0]
    set_levels(store, partnership, rows, f"remove-{listing.id}")
    listing.removed_at = now()
    ctx.log("edit", "listing", listing.id, "removed by the wholesaler: stock set to zero at the retailer")
    return "updated"


# ---------------------------------------------------------------- dry runs (no writes, no mutations)


def preview_pull(target, dry: DryRun) -> DryRun:
    """How many products a pull would add, change or mark deleted (reads the system of record, writes nothing)."""
    sor = system_of_record(target)
    remote_products = list(sor.products(cursor_since(target.id, STREAM), bulk=False))
    hashes = dict(
        db.session.execute(
            select(Product.remote_id, Product.content_hash).where(Product.connection_id == target.id)
        ).all()
    )
    for remote in remote_products:
        known = hashes.get(remote.remote_id)
        if known is None:
            dry.create += 1
            _sample(dry, f"add {remote.title}")
        elif known != content_hash(remote):
            dry.change += 1
            _sample(dry, f"update {remote.title}")
        else:
            dry.skip += 1
    live = set(
        db.session.execute(
            select(Product.remote_id).where(Product.connection_id == target.id, Product.deleted_at.is_(None))
        ).scalars()
    )
    dry.delete = len(live - sor.product_ids())
    dry.api_calls = len(remote_products) // 10 + 2
    dry.api_cost = dry.api_calls * 100
    return dry


def preview_push(target: Partnership, dry: DryRun) -> DryRun:
    """How many products a push would create, update, skip or zero out (no remote call, no write)."""
    listings = _listings(target)
    for product in _catalog(target):
        listing = listings.get(product.id)
        if product.deleted_at is not None:
            if listing is not None and listing.removed_at is None:
                dry.delete += 1
                _sample(dry, f"set stock of {product.title} to zero (removed by the wholesaler)")
            continue
        if listing is None or not listing.remote_product_id:
            dry.create += 1
            _sample(dry, f"create {product.title} as a draft")
        elif listing.pushed_hash != push_hash(product, retail_prices(target, product)):
            dry.change += 1
            _sample(dry, f"update {product.title}")
        else:
            dry.skip += 1
    dry.api_calls = dry.create + dry.change + dry.delete
    store_conn = org_connection(target.retailer_id, "store") if dry.api_calls else None
    call_cost = retailer_store(store_conn).product_call_cost if store_conn is not None else 0  # builds, calls nothing
    dry.api_cost = dry.api_calls * call_cost
    dry.seconds = dry.api_cost / 100.0
    if not target.force_overwrite:
        dry.notes.append("Force overwrite is off: after the first load only prices (and stock) are updated.")
    return dry


def _sample(dry: DryRun, line: str) -> None:
    if len(dry.sample) < 10:
        dry.sample.append(line)
