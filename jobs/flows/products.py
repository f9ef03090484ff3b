"""Products: the catalog from the system of record into the hub (pull), and from the hub into each retailer's store
(push: sends, PUSH_CONCURRENCY calls in flight, what jobs.flows.product_plan decided for each product).
"""

from __future__ import annotations

from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, ThreadPoolExecutor, wait

from flask import current_app
from sqlalchemy import select

from integrations.base import RemoteProduct
from jobs.context import RunContext
from jobs.flows.common import (
    CallCounter,
    advance_cursor,
    chain_for_partnerships,
    cursor_mark,
    cursor_since,
    digest,
    now,
    partnerships_of,
    record_failed,
    record_synced,
)
from jobs.flows.product_plan import (
    catalog_batches,
    partnership_listings,
    plan_product,
    push_hash,
    record_listing,
    retail_prices,
    sku_matches,
    wholesaler_catalog,
)
from jobs.preview import DryRun
from portal.extensions import db
from portal.models import Organization, Partnership, Product, Variant
from portal.services import selection
from portal.services.organizations import org_connection
from portal.services.platforms import retailer_store, system_of_record

STREAM = "products"
MAX_OPTIONS, MAX_VARIANTS = 3, 2048  # per product, on every Shopify plan since 2025-10
DROP_CHECK_MIN, DROP_CHECK_SHARE = 10, 0.5  # re-read a product before deleting more than half of 10+ variants
PUSH_CONCURRENCY = 8  # remote calls in flight per push (the cost bucket, not this number, bounds the rate)


# ---------------------------------------------------------------- pull: system of record -> hub


def content_hash(remote: RemoteProduct) -> str:
    """A hash of every field that syncs to retailers (stock excluded: it has its own flow)."""
    variants = sorted(
        [v.sku, v.title, v.option_values, v.barcode, v.weight_grams, str(v.price), str(v.compare_at_price),
         v.taxable, v.requires_shipping]
        for v in remote.variants
    )  # fmt: skip
    fields = [remote.title, remote.description_html, remote.vendor, remote.product_type, sorted(remote.tags)]
    if remote.collections:  # decide the product selection; appended only when present, so older hashes still hold
        fields.append(sorted(remote.collections))
    return digest([fields, remote.images, remote.options, variants])


def pull(ctx: RunContext) -> None:
    """Read new and changed products (incremental by updated_at; all of them on the first run) and notice deletions."""
    conn = ctx.target
    sor = system_of_record(conn, on_call=ctx.api_call)
    since = cursor_since(conn.id, STREAM)
    changed = stock_changed = False
    mark = None
    # Streamed: the adapter reads the bulk result line by line and a product is committed before the next is read,
    # so memory does not grow with the catalog; the total is not known before the end and grows with the count.
    for n, remote in enumerate(sor.products(since), 1):
        ctx.run.total = n
        if remote.updated_at and (mark is None or remote.updated_at > mark):
            mark = remote.updated_at
        try:
            outcome, moved = _upsert_product(ctx, conn, remote, reread=getattr(sor, "product", None))
            record_synced(ctx, remote.remote_id)
            db.session.commit()
        except Exception as exc:  # one bad record must not stop the catalog; it is kept and retried
            db.session.rollback()
            record_failed(ctx, remote.remote_id, f"product {remote.title or remote.remote_id}",
                          f"{type(exc).__name__}: {exc}", remote.updated_at)  # fmt: skip
            continue
        changed |= outcome != "unchanged"
        stock_changed |= moved
        ctx.count(outcome)
    changed |= _notice_deletions(ctx, conn, sor.product_ids())
    db.session.commit()
    # Only now (everything up to `mark` is committed), and never past a product that failed.
    advance_cursor(conn.id, STREAM, cursor_mark(ctx, mark))
    partners = partnerships_of(Partnership.wholesaler_id, conn.organization_id, "sync_products_to_retailer")
    if changed:
        chain_for_partnerships(ctx, "products.push", partners)
    if stock_changed:
        chain_for_partnerships(ctx, "inventory.push", partners)


class CatalogRefused(ValueError):
    """A product the retailers' stores cannot hold (too many options or variants): a failed record, not a crash."""


def check_limits(remote: RemoteProduct) -> None:
    """Refuse, naming the product, what no Shopify store takes (3 options, 2,048 variants per product)."""
    if len(remote.options) > MAX_OPTIONS:
        raise CatalogRefused(f"{remote.title!r} has {len(remote.options)} options; stores take at most {MAX_OPTIONS}")
    if len(remote.variants) > MAX_VARIANTS:
        raise CatalogRefused(
            f"{remote.title!r} has {len(remote.variants)} variants; stores take at most {MAX_VARIANTS:,} per product"
        )


def _upsert_product(ctx: RunContext, conn, remote: RemoteProduct, reread=None) -> tuple[str, bool]:
    """Create or update one product and its variants; returns (outcome, stock changed).

    `reread(remote_id)` reads the product again: used before deleting a large share of its variants, since a
    truncated read must never zero a retailer's stock."""
    check_limits(remote)
    product = db.session.execute(
        select(Product).where(Product.connection_id == conn.id, Product.remote_id == remote.remote_id)
    ).scalar_one_or_none()
    if remote.status == "archived":
        return _leave_catalog(ctx, conn, product, "archived"), False
    if product is not None and reread is not None and _drops_many(product, remote):
        remote = reread(remote.remote_id) or remote
        check_limits(remote)
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
        product.collections = list(remote.collections)
        product.image_urls, product.options, product.content_hash = remote.image_urls, remote.options, new_hash
        product.images = remote.images
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


def _drops_many(product: Product, remote: RemoteProduct) -> bool:
    """Whether this read would delete a large share of the product's live variants."""
    live = db.session.execute(
        select(db.func.count()).where(Variant.product_id == product.id, Variant.deleted_at.is_(None))
    ).scalar_one()
    kept = {v.remote_id for v in remote.variants}
    return live >= DROP_CHECK_MIN and (live - len(kept)) > live * DROP_CHECK_SHARE


def _leave_catalog(ctx: RunContext, conn, product: Product | None, why: str) -> str:
    """A product deleted or archived at the source: marked deleted in the hub (its retailer copies go back to
    draft with stock 0 on the next push; they are never deleted)."""
    if product is None or product.deleted_at is not None:
        return "unchanged"
    product.deleted_at = now()
    ctx.log("delete", "product", product.id, f"{product.title} was {why} in the catalog: retailers' copies go "
            "back to draft with stock 0", organization_id=conn.organization_id)  # fmt: skip
    db.session.commit()
    return "updated"


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
            variant.compare_at_price, variant.taxable = rv.compare_at_price, rv.taxable
            variant.requires_shipping = rv.requires_shipping
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
    placed = seen = 0
    for products in catalog_batches(partnership):  # one bounded batch in memory at a time, whatever the catalog
        seen += len(products)
        placed += _push(ctx, partnership, store_conn, products, quiet=True)
    if not seen:  # nothing to place: no call to the store at all
        ctx.run.message = "No products in Wholesync yet; products.pull reads the wholesaler's catalog first."
    elif not placed:
        ctx.run.message = "The retailer's product selection carries none of these products."


def push_products(ctx: RunContext, partnership: Partnership, product_ids) -> None:
    """Push these hub products only (what a catalog event changed), exactly as the full push would."""
    store_conn = org_connection(partnership.retailer_id, "store")
    if store_conn is None or partnership.status != "active":
        return
    products = wholesaler_catalog(partnership, only=product_ids)
    if products:
        _push(ctx, partnership, store_conn, products)


def _push(ctx: RunContext, partnership: Partnership, store_conn, products: list[Product], quiet=False) -> int:
    """Place `products` that the retailer carries (portal.services.selection); a listed one it no longer carries goes
    back to draft with stock 0, as a product deleted at the source does. Returns how many were considered."""
    listed = partnership_listings(partnership, [p.id for p in products])
    carried = selection.carried_ids(partnership, products)
    products = [p for p in products if p.id in carried or p.id in listed]
    if not products:
        if not quiet:
            ctx.run.message = ctx.run.message or "The retailer's product selection carries none of these products."
        return 0
    # A product back in the selection gets its stock again from the stock push that follows.
    if any(listed[p.id].removed_at for p in products if p.id in carried and p.id in listed and not p.deleted_at):
        ctx.chain("inventory.push", f"partnership:{partnership.id}")
    ctx.set_total(ctx.run.total + len(products))
    calls = CallCounter()
    store = retailer_store(store_conn, on_call=calls)
    placement = prepare_store(partnership, store)
    listings = partnership_listings(partnership, [p.id for p in products])
    with ThreadPoolExecutor(PUSH_CONCURRENCY) as pool:
        matches = sku_matches(pool, store, [p for p in products if p.id in carried], listings)
        inflight: dict = {}
        for product in products:
            try:
                plan = plan_product(ctx, partnership, store, store_conn, placement, product, listings.get(product.id),
                                    matches, carried=product.id in carried)  # fmt: skip
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
    return len(products)


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
            listing = record_listing(partnership, store_conn, product, plan.listing, remote_id, placed, plan.prices,
                                     plan.wanted, media=plan.push.remote_media if plan.push.full else None,
                                     quantities={v["sku"]: v.get("quantity") for v in plan.push.variants
                                                 if v.get("quantity") is not None})  # fmt: skip
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
    listings = partnership_listings(target)
    products = wholesaler_catalog(target)
    carried = selection.carried_ids(target, products)
    for product in products:
        listing = listings.get(product.id)
        if product.deleted_at is not None or product.id not in carried:
            if listing is not None and listing.removed_at is None:
                dry.delete += 1
                why = "removed by the wholesaler" if product.deleted_at else "no longer in the retailer's selection"
                _sample(dry, f"return {product.title} to draft with stock 0 ({why})")
            continue
        if listing is None or not listing.remote_product_id or listing.removed_at is not None:
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
        dry.notes.append(
            "Force overwrite is off: after the first load only prices (price and compare-at price) and stock are "
            "updated."
        )
    return dry


def _sample(dry: DryRun, line: str) -> None:
    if len(dry.sample) < 10:
        dry.sample.append(line)
