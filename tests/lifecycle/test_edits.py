"""Edits from the retailer, end to end through the sandbox stores: quantities changed and lines removed at the
retailer before shipment reach our lines and, once the order is in the wholesaler's store, are applied there as an
order edit (stock taken or given back there); an order that has shipped is not changed and both sides are told."""

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.order_changes import edit_line_quantities
from portal.extensions import db
from portal.models import ActivityLog, Order, OutboxMessage
from tests.lifecycle.test_cancellations import _sku_linked_order
from tests.sync.conftest import RT_SHOPS, WS_SHOP

LINES = (("TOTE-1", 2), ("SCARF-1", 1))


def _retailer_edits(trade, placed, quantities: dict[str, int]) -> None:
    shop = trade.store_shop(0)
    order = shop.orders[int(placed["id"].rsplit("/", 1)[1])]
    by_sku = {li["sku"]: li["id"] for li in order.data["line_items"]}
    ctx = trade.sandbox.sandbox.merchant_context(RT_SHOPS[0])
    with shop.lock:
        edit_line_quantities(ctx, order, {by_sku[sku]: q for sku, q in quantities.items()})
    ctx.flush()


def _sor_quantities(trade) -> dict[str, int]:
    (order,) = trade.sor_shop().orders.values()
    return {li["sku"]: li["quantity"] for li in order.data["line_items"]}


def _ours() -> dict[str, int]:
    order = db.session.execute(select(Order)).scalar_one()
    return {line.sku: line.quantity - line.cancelled_quantity for line in order.lines}


def test_an_edit_before_the_order_was_sent_changes_what_reaches_the_wholesaler(trade):
    placed = _sku_linked_order(trade, LINES)
    trade.partnerships[0].hold_minutes = 5
    db.session.commit()
    trade.ok("orders.pull")
    _retailer_edits(trade, placed, {"TOTE-1": 3, "SCARF-1": 0})
    trade.ok("orders.pull")
    assert _ours() == {"TOTE-1": 3, "SCARF-1": 0}
    trade.partnerships[0].hold_minutes = 0
    db.session.commit()
    trade.ok("orders.push")
    assert _sor_quantities(trade) == {"TOTE-1": 3}  # the removed line never reaches the wholesaler


def test_an_edit_after_the_order_was_sent_is_applied_in_the_wholesalers_store_with_its_stock(trade):
    placed = _sku_linked_order(trade, LINES)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 18
    _retailer_edits(trade, placed, {"TOTE-1": 3, "SCARF-1": 0})
    trade.ok("orders.pull")
    chained = db.session.execute(select(OutboxMessage.args).where(OutboxMessage.kind == "chain")).scalars().all()
    assert ["order_changes.push", f"connection:{trade.sor.id}"] in chained
    assert db.session.execute(select(Order)).scalar_one().edit_pending
    trade.ok("order_changes.push")
    assert _sor_quantities(trade) == {"TOTE-1": 3, "SCARF-1": 0}
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 17  # one more taken in the wholesaler's store
    order = db.session.execute(select(Order)).scalar_one()
    assert not order.edit_pending
    again = trade.ok("order_changes.push")
    assert again[0]["total"] == 0
    told = {
        org
        for org, text in db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary)).all()
        if "edit applied in the wholesaler's system of record" in text
    }
    assert told == {order.wholesaler_id, order.retailer_id}


def test_an_edit_after_shipment_is_not_carried_out_and_both_sides_are_told(trade):
    placed = _sku_linked_order(trade, LINES)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z1",))
    trade.ok("order_updates.pull")
    _retailer_edits(trade, placed, {"TOTE-1": 3})
    trade.ok("orders.pull")
    assert _ours() == {"TOTE-1": 2, "SCARF-1": 1}
    assert not db.session.execute(select(Order)).scalar_one().edit_pending
    assert _sor_quantities(trade) == {"TOTE-1": 2, "SCARF-1": 1}
    summaries = db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary)).all()
    told = {org for org, text in summaries if "edit not carried out" in text and "already shipped" in text}
    assert told == {order.wholesaler_id, order.retailer_id}
