"""Cancellations from the retailer, end to end through the sandbox stores: an order cancelled before it reached the
wholesaler never reaches it (also inside the hold window); one already sent is cancelled and restocked in the
wholesaler's store; one already shipped is not, and both sides are told why."""

from datetime import timedelta

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.order_changes import cancel_order
from fakes.shopify.resolvers.orders import place_order
from jobs.webhook_jobs import process_receipt
from portal.extensions import db
from portal.models import ActivityLog, Order, OutboxMessage, SyncRun, WebhookReceipt, utcnow
from portal.services.orders import timeline
from tests.sync.conftest import RT_SHOPS, WS_SHOP


def _sku_linked_order(trade, lines=(("TOTE-1", 2),)):
    """The retailer sells its own listing of the wholesaler's SKU (linked by SKU, not routed to our fulfillment
    service), so it may cancel the order itself at any time, as Shopify allows."""
    trade.ok("products.pull")
    for sku, _ in lines:
        trade.sandbox.add_product(RT_SHOPS[0], f"Own listing {sku}", [{"sku": sku, "price": "19.99", "available": 50}])
    return place_order(trade.sandbox.sandbox, RT_SHOPS[0], list(lines))


def _retailer_cancels(trade, placed) -> None:
    shop = trade.store_shop(0)
    found = shop.orders[int(placed["id"].rsplit("/", 1)[1])]
    ctx = trade.sandbox.sandbox.merchant_context(RT_SHOPS[0])
    with shop.lock:
        cancel_order(ctx, found, reason="CUSTOMER")
    ctx.flush()


def _process_cancelled_webhooks(trade) -> list[dict]:
    trade.sandbox.deliver_webhooks()
    receipts = db.session.execute(
        select(WebhookReceipt).where(WebhookReceipt.topic == "orders/cancelled", WebhookReceipt.processed_at.is_(None))
    ).scalars()
    return [process_receipt(r.id) for r in receipts]


def _sor_order(trade):
    (order,) = trade.sor_shop().orders.values()
    return order


def test_a_sent_order_cancelled_by_the_retailer_is_cancelled_and_restocked_in_the_wholesalers_store(trade):
    placed = _sku_linked_order(trade)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 18  # the wholesaler's store committed the order's stock
    _retailer_cancels(trade, placed)
    results = _process_cancelled_webhooks(trade)
    assert results and results[0]["sync_run_ids"]
    run = db.session.get(SyncRun, results[0]["sync_run_ids"][0])
    assert (run.job_name, run.trigger) == ("order_changes.push", "webhook")
    trade.ok("order_changes.push")
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "cancelled" and order.sor_cancelled_at is not None and order.change_note is None
    assert [line.cancelled_quantity for line in order.lines] == [2]
    assert _sor_order(trade).data["cancelled_at"] is not None
    assert _sor_order(trade).data["cancel_reason"] == "customer"
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 20  # restocked
    labels = [(s.label, s.at is not None) for s in timeline(order)]
    assert ("Cancelled by the retailer", True) in labels
    assert ("Cancelled in the wholesaler's system of record", True) in labels
    assert "Shipped" not in [label for label, _ in labels]
    summaries = db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary)).all()
    told = {org for org, text in summaries if "cancelled in the wholesaler's system of record" in text}
    assert told == {order.wholesaler_id, order.retailer_id}


def _sent_then_cancelled(trade) -> None:
    """An order sent to the wholesaler, cancelled by the retailer, and the cancellation carried there."""
    placed = _sku_linked_order(trade)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    _retailer_cancels(trade, placed)
    _process_cancelled_webhooks(trade)
    trade.ok("order_changes.push")


def test_a_second_cancellation_run_does_nothing_more(trade):
    _sent_then_cancelled(trade)
    again = trade.ok("order_changes.push")
    assert again[0]["total"] == 0
    assert db.session.execute(select(Order)).scalar_one().status == "cancelled"


def test_a_cancellation_whose_attempt_died_after_the_store_cancelled_is_recorded_as_done_not_refused(trade):
    _sent_then_cancelled(trade)
    order = db.session.execute(select(Order)).scalar_one()
    order.status, order.sor_cancelled_at = "sent", None  # orderCancel committed, the hub's commit never came
    for line in order.lines:
        line.cancelled_quantity = 0
    db.session.commit()

    trade.ok("order_changes.push")

    db.session.refresh(order)
    assert order.status == "cancelled" and order.sor_cancelled_at is not None
    assert order.change_note is None  # the retailer is not told it was refused
    assert [line.cancelled_quantity for line in order.lines] == [2]
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 20  # restocked once


def test_an_order_cancelled_before_it_was_sent_never_reaches_the_wholesaler(trade):
    placed = _sku_linked_order(trade)
    trade.ok("orders.pull")
    _retailer_cancels(trade, placed)
    _process_cancelled_webhooks(trade)
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "cancelled" and order.sor_remote_order_id is None
    assert trade.sor_shop().orders == {}


def test_the_pull_alone_also_carries_a_cancellation_to_the_wholesaler(trade):
    placed = _sku_linked_order(trade)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    _retailer_cancels(trade, placed)
    trade.ok("orders.pull")  # no webhook: the scheduled pull sees cancelledAt and chains order_changes.push
    chained = db.session.execute(select(OutboxMessage.args).where(OutboxMessage.kind == "chain")).scalars().all()
    assert ["order_changes.push", f"connection:{trade.sor.id}"] in chained
    trade.ok("order_changes.push")
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "cancelled" and _sor_order(trade).data["cancelled_at"] is not None


def test_a_shipped_order_is_not_cancelled_and_both_sides_are_told_why(trade):
    placed = _sku_linked_order(trade)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z1",))
    trade.ok("order_updates.pull")
    _retailer_cancels(trade, placed)
    _process_cancelled_webhooks(trade)
    trade.ok("order_changes.push")
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "shipped" and order.sor_cancelled_at is None
    assert "already shipped" in order.change_note
    assert _sor_order(trade).data.get("cancelled_at") is None
    retailer_log = (
        db.session.execute(select(ActivityLog.summary).where(ActivityLog.organization_id == order.retailer_id))
        .scalars()
        .all()
    )
    assert any("cancellation not carried out: it has already shipped" in s for s in retailer_log)


def test_an_order_inside_the_hold_window_waits_and_goes_once_the_window_is_over(trade):
    trade.partnerships[0].hold_minutes = 2
    db.session.commit()
    _sku_linked_order(trade)
    trade.ok("orders.pull")
    held = trade.ok("orders.push")
    assert held[0]["total"] == 0 and trade.sor_shop().orders == {}
    order = db.session.execute(select(Order)).scalar_one()
    order.received_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    trade.ok("orders.push")
    assert len(trade.sor_shop().orders) == 1


def test_an_order_cancelled_inside_the_hold_window_never_reaches_the_wholesaler(trade):
    trade.partnerships[0].hold_minutes = 2
    db.session.commit()
    placed = _sku_linked_order(trade)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    _retailer_cancels(trade, placed)
    _process_cancelled_webhooks(trade)
    order = db.session.execute(select(Order)).scalar_one()
    order.received_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    trade.ok("orders.push")
    assert trade.sor_shop().orders == {}
    assert db.session.execute(select(Order)).scalar_one().status == "cancelled"
