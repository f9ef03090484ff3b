"""Inventory: stock levels only from the system of record (pull), and to retailer stores (push) — less the orders
already received but not yet in the system of record (oversell protection) and the partnership's buffer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta

from sqlalchemy import select

from integrations.base import QuantitySet, StaleQuantities, StockLevel
from jobs.context import RunContext
from jobs.flows.common import digest
from jobs.flows.event_push import push_moved_stock
from jobs.preview import DryRun
from portal.extensions import db
from portal.models import Listing, ListingVariant, Order, OrderLine, Partnership, SyncRun, Variant
from portal.services.organizations import org_connection
from portal.services.platforms import retailer_store, system_of_record
from portal.services.selection import carried_levels
from portal.services.stock import record_levels, retailer_quantities, sync_locations
from portal.services.subscriptions import ensure_sor_subscriptions

PUSH_PAGE = 1000  # placed variants whose levels a full push computes at once (memory stays flat at any catalog size)
PULL_CHUNK = 1000  # variants whose levels a pull records at once (memory stays flat at any catalog size)
# How far before the last full push's start its successor still looks at orders: one written just before that start
# may have been committed after that push read the orders.
ORDER_OVERLAP = timedelta(minutes=10)


def pull(ctx: RunContext) -> None:
    """Read the wholesaler's locations and every variant's available quantity at each (a cheap bulk read, not the
    catalog) and keep what changed, PULL_CHUNK variants at a time as the read streams in; the retailers' pushes
    follow when anything moved (event_push.push_moved_stock)."""
    conn = ctx.target
    try:  # the reconciliation of the event subscriptions too: Shopify drops them after repeated failures
        created = ensure_sor_subscriptions(conn)
        if created:
            ctx.log("add", "connection", conn.id, f"event subscriptions restored: {', '.join(created)}",
                    organization_id=conn.organization_id)  # fmt: skip
    except Exception as exc:  # the stock pull must not depend on it
        ctx.fail("event subscriptions", f"{type(exc).__name__}: {exc}")
    sor = system_of_record(conn, on_call=ctx.api_call)
    locations = sync_locations(conn, sor.locations())
    db.session.commit()
    moved: list[int] = []
    for chunk in _by_variant(sor.stock_levels(), PULL_CHUNK):
        changes = record_levels(conn, chunk, locations, variant_ids=_hub_ids(conn, chunk))
        for variant_id, sku, before, after in changes.totals:
            ctx.log("edit", "variant", variant_id, f"{sku}: stock {before} -> {after}",
                    organization_id=conn.organization_id)  # fmt: skip
        ctx.run.total += changes.seen + changes.unknown_variants
        ctx.count("updated", len(changes.moved))
        ctx.count("unchanged", changes.seen - len(changes.moved))
        ctx.count("skipped", changes.unknown_variants)  # not in the hub yet: products.pull brings it with its stock
        db.session.commit()  # a chunk at a time: the session and the write lock do not grow with the catalog
        moved.extend(changes.moved)
    # A retried attempt may find its predecessor's committed chunks unchanged: their moves still need the pushes.
    push_moved_stock(ctx, conn.organization_id, moved, retried=ctx.run.attempts > 1)


def _by_variant(levels: Iterable[StockLevel], size: int) -> Iterator[list[StockLevel]]:
    """The levels in lists of about `size` variants, never splitting one variant's levels (the adapter yields them
    together), so each list can be recorded on its own: a variant's locations not in it are gone."""
    chunk: list[StockLevel] = []
    variants = 0
    for level in levels:
        if not chunk or level.variant_remote_id != chunk[-1].variant_remote_id:
            if variants >= size:
                yield chunk
                chunk, variants = [], 0
            variants += 1
        chunk.append(level)
    if chunk:
        yield chunk


def _hub_ids(conn, levels: list[StockLevel]) -> list[int]:
    """The hub ids of the connection's live variants these levels name."""
    remote_ids = sorted({level.variant_remote_id for level in levels})
    return list(
        db.session.execute(
            select(Variant.id).where(
                Variant.connection_id == conn.id, Variant.remote_id.in_(remote_ids), Variant.deleted_at.is_(None)
            )
        ).scalars()
    )


def push(ctx: RunContext) -> None:
    """Send only the levels that differ from what we last pushed, in batches the store takes, each call idempotent."""
    partnership: Partnership = ctx.target
    store_conn = org_connection(partnership.retailer_id, "store")
    if store_conn is None or not partnership.placement:
        ctx.run.message = "Nothing placed in the retailer's store yet; products.push places the catalog first."
        return
    moved = _store_moved_since_last_full_push(ctx, partnership)
    _send(ctx, partnership, store_conn, _placed_levels(partnership), check=moved)


def _store_moved_since_last_full_push(ctx: RunContext, partnership: Partnership) -> set[int]:
    """The partnership's listing variants whose level in the retailer's store may have moved without us: those of
    the partnership's orders the hub wrote (received, edited, cancelled: restocked there, shipped) since the last
    full push that ended done began (`Order.updated_at`, the hub's clock, less ORDER_OVERLAP).

    What we last pushed is only our belief of the store's level; a retailer's sale lowers the store without
    changing it. When the offered level later comes back to exactly that belief, nothing looks changed, so a full
    push reads the store's own level of these variants and sets it from there. Only these: reading every level
    every hour would cost a large catalog more than the store's API budget."""
    last_start = db.session.execute(
        select(SyncRun.started_at)
        .where(
            SyncRun.job_name == "inventory.push",
            SyncRun.target_key == f"partnership:{partnership.id}",
            SyncRun.trigger != "event",
            SyncRun.status == "done",
            SyncRun.id != ctx.run.id,
            SyncRun.started_at.is_not(None),
        )
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    ).scalar()
    orders = select(OrderLine.variant_id).join(Order, OrderLine.order_id == Order.id)
    orders = orders.where(Order.partnership_id == partnership.id, OrderLine.variant_id.is_not(None))
    if last_start is not None:
        orders = orders.where(Order.updated_at >= last_start - ORDER_OVERLAP)
    query = (
        select(ListingVariant.id)
        .join(Listing, ListingVariant.listing_id == Listing.id)
        .where(Listing.partnership_id == partnership.id, ListingVariant.variant_id.in_(orders))
    )
    return set(db.session.execute(query).scalars())


def _placed_levels(partnership: Partnership):
    """The partnership's levels (retailer_quantities, of the products it carries) page by page of placed variants:
    never a list of the whole catalog's levels."""
    after = 0
    while True:
        page = list(
            db.session.execute(
                select(ListingVariant.variant_id)
                .join(Listing, ListingVariant.listing_id == Listing.id)
                .where(
                    Listing.partnership_id == partnership.id,
                    ListingVariant.remote_inventory_item_id.is_not(None),
                    ListingVariant.variant_id > after,
                )
                .group_by(ListingVariant.variant_id)
                .order_by(ListingVariant.variant_id)
                .limit(PUSH_PAGE)
            ).scalars()
        )
        if not page:
            return
        yield from carried_levels(partnership, retailer_quantities(partnership, page))
        after = page[-1]


def push_variants(ctx: RunContext, partnership: Partnership, variant_ids) -> None:
    """Send the levels of these hub variants only (what an event changed), if they differ from what was pushed."""
    store_conn = org_connection(partnership.retailer_id, "store")
    if store_conn is None or not partnership.placement:
        return
    send_levels(ctx, partnership, store_conn, retailer_quantities(partnership, variant_ids))


def send_levels(ctx: RunContext, partnership: Partnership, store_conn, levels) -> None:
    """Send the levels that differ from what we last pushed, in batches the store takes, each call idempotent."""
    _send(ctx, partnership, store_conn, carried_levels(partnership, levels))


def _send(ctx: RunContext, partnership: Partnership, store_conn, levels, check: set[int] = frozenset()) -> None:
    """Send the changed ones of `levels` (an iterable, read once) as they come, a batch the store takes at a time.
    Those in `check` (listing variant ids) are compared with the store's own level instead of what we last pushed."""
    store, wanted = None, {}
    for level in levels:
        if level.pushed_quantity == level.quantity and level.listing_variant_id not in check:
            continue
        if store is None:
            store = retailer_store(store_conn, on_call=ctx.api_call)
        wanted[level.listing_variant_id] = level.quantity
        if len(wanted) >= store.batch_size:
            _send_batch(ctx, partnership, store, wanted, check)
            wanted = {}
    if wanted:
        _send_batch(ctx, partnership, store, wanted, check)


def _send_batch(ctx: RunContext, partnership: Partnership, store, wanted: dict[int, int], check: set[int]) -> None:
    ctx.set_total(ctx.run.total + len(wanted))
    rows = db.session.execute(select(ListingVariant).where(ListingVariant.id.in_(wanted))).scalars().all()
    try:
        _read_store_levels(store, partnership, [lv for lv in rows if lv.id in check])
        batch = [(lv, wanted[lv.id]) for lv in rows if lv.pushed_quantity != wanted[lv.id]]
        set_levels(store, partnership, batch, f"run-{ctx.run.id}")
    except Exception as exc:  # a failed batch is reported; the next batches still go
        db.session.rollback()
        for lv_id in wanted:
            ctx.fail(f"listing variant {lv_id}", f"{type(exc).__name__}: {exc}")
        return
    for lv, qty in batch:
        ctx.log("edit", "listing_variant", lv.id, f"stock at the retailer set to {qty}")
    db.session.commit()
    ctx.count("updated", len(batch))
    ctx.count("unchanged", len(rows) - len(batch))


def _read_store_levels(store, partnership: Partnership, rows: list) -> None:
    """Take the store's own level of these listing variants as what a compare-and-set compares with (not
    committed): a variant the store holds at the wanted level is then not sent at all."""
    if not rows:
        return
    held = store.current_levels(partnership.placement, [lv.remote_inventory_item_id for lv in rows])
    for lv in rows:
        if lv.remote_inventory_item_id in held:
            lv.pushed_quantity = held[lv.remote_inventory_item_id]


def set_levels(store, partnership: Partnership, rows: list, scope: str) -> None:
    """Set `available` for (ListingVariant, quantity) rows in one call and record what was pushed (not committed).

    Compare-and-set from what we last pushed; if the store moved meanwhile (its own sales), read the current
    levels and set again from those. The key is derived from the run and the batch, so a retried job replays it.
    """
    if not rows:
        return
    changes = [QuantitySet(lv.remote_inventory_item_id, qty, lv.pushed_quantity) for lv, qty in rows]
    key = digest([partnership.id, scope, [(c.inventory_item_id, c.quantity, c.change_from) for c in changes]])
    placement, reference = partnership.placement, f"Partnership/{partnership.id}"
    try:
        store.set_quantities(placement, changes, key, reference)
    except StaleQuantities:  # the store sold meanwhile: set again from what it holds now
        current = store.current_levels(placement, [c.inventory_item_id for c in changes])
        retry = [
            QuantitySet(c.inventory_item_id, c.quantity, current.get(c.inventory_item_id))
            for c in changes
            if current.get(c.inventory_item_id) != c.quantity
        ]
        if retry:
            store.set_quantities(placement, retry, key + "-fresh", reference)
    for lv, qty in rows:
        lv.pushed_quantity = qty


def preview_pull(target, dry: DryRun) -> DryRun:
    """How many variants' stock a pull would change (reads the system of record, writes nothing)."""
    known = dict(
        db.session.execute(
            select(Variant.remote_id, Variant.inventory_quantity).where(
                Variant.connection_id == target.id, Variant.deleted_at.is_(None)
            )
        ).all()
    )
    totals: dict[str, tuple[str, int]] = {}
    for level in system_of_record(target).stock_levels(bulk=False):
        sku, quantity = totals.get(level.variant_remote_id, (level.sku, 0))
        totals[level.variant_remote_id] = (sku, quantity + level.quantity)
    for remote_id, (sku, quantity) in totals.items():
        if remote_id not in known:
            dry.skip += 1
        elif known[remote_id] != quantity:
            dry.change += 1
            if len(dry.sample) < 10:
                dry.sample.append(f"{sku}: {known[remote_id]} -> {quantity}")
        else:
            dry.skip += 1
    dry.notes.append("Totals over every location; each retailer is offered the locations its partnership counts.")
    return dry


def preview_push(target: Partnership, dry: DryRun) -> DryRun:
    """How many levels a push would set, and in how many calls (no remote call, no write)."""
    for level in carried_levels(target, retailer_quantities(target)):
        if level.pushed_quantity == level.quantity:
            dry.skip += 1
            continue
        dry.change += 1
        if len(dry.sample) < 10:
            dry.sample.append(f"{level.sku}: {level.pushed_quantity} -> {level.quantity}")
    store_conn = org_connection(target.retailer_id, "store") if dry.change else None
    batch_size = retailer_store(store_conn).batch_size if store_conn is not None else 1  # building it calls nothing
    dry.api_calls = -(-dry.change // batch_size)
    dry.api_cost = dry.api_calls * 10
    dry.notes.append("Orders received but not yet in the system of record are subtracted (oversell protection).")
    return dry
