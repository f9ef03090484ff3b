"""Edits from the retailer, end to end through the sandbox stores: quantities changed and lines removed at the
retailer before shipment reach our lines and, once the order is in the wholesaler's store, are applied there as an
order edit (stock taken or given back there); units that have shipped stay on the order, the rest of a partly
shipped order is edited as usual."""

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.order_changes import edit_line_quantities
from portal.extensions import db
from portal.models import ActivityLog, Fulfillment, Order, OutboxMessage
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


def _sent_and_scarf_shipped(trade):
    """An order in the wholesaler's store whose SCARF-1 has shipped and whose TOTE-1 x2 has not (status partial)."""
    placed = _sku_linked_order(trade, LINES)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    _ship_scarf(trade, order, "1Z-SCARF")
    trade.ok("order_updates.pull")
    db.session.refresh(order)
    assert order.status == "partial"
    return placed, order


def test_an_edit_of_the_unshipped_line_of_a_partly_shipped_order_is_applied_and_the_order_has_then_shipped(trade):
    placed, order = _sent_and_scarf_shipped(trade)
    _retailer_edits(trade, placed, {"TOTE-1": 0})

    trade.ok("orders.pull")
    trade.ok("order_changes.push")

    assert _ours() == {"TOTE-1": 0, "SCARF-1": 1}
    assert _sor_quantities(trade) == {"TOTE-1": 0, "SCARF-1": 1}  # removed (restocked) in the wholesaler's store
    db.session.refresh(order)
    assert order.status == "shipped" and not order.edit_pending  # nothing is left to ship
    assert _summaries("edit applied in the wholesaler's system of record") == {order.wholesaler_id, order.retailer_id}


def test_an_edit_below_what_shipped_keeps_the_shipped_units_and_is_told_once_however_often_it_is_read(trade):
    placed, order = _sent_and_scarf_shipped(trade)
    # The retailer also takes the scarf off: its shipment has not reached the retailer's store (the edit crossed it).
    _retailer_edits(trade, placed, {"TOTE-1": 1, "SCARF-1": 0})

    trade.ok("orders.pull")
    trade.ok("orders.pull")  # the order is read again (the pull's overlap)
    trade.ok("order_changes.push")

    assert _ours() == {"TOTE-1": 1, "SCARF-1": 1}  # the shipped scarf stays, billed as shipped
    assert _sor_quantities(trade) == {"TOTE-1": 1, "SCARF-1": 1}
    edited = ActivityLog.summary.like("%edited by the retailer%")
    edits = db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary).where(edited)).all()
    assert sorted(org for org, _ in edits) == sorted([order.wholesaler_id, order.retailer_id])  # once a side
    assert all("TOTE-1 2 → 1" in text and "SCARF" not in text for _, text in edits)


def test_units_the_retailer_adds_after_the_order_shipped_reach_the_wholesaler_and_reopen_it(trade):
    placed = _sku_linked_order(trade, LINES)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z1",))
    trade.ok("order_updates.pull")
    _retailer_edits(trade, placed, {"TOTE-1": 3})

    trade.ok("orders.pull")
    trade.ok("order_changes.push")

    assert _ours() == {"TOTE-1": 3, "SCARF-1": 1}
    assert _sor_quantities(trade) == {"TOTE-1": 3, "SCARF-1": 1}
    db.session.refresh(order)
    assert order.status == "partial" and order.completed_at is None  # one unit is still to ship
    assert _summaries("edit applied in the wholesaler's system of record") == {order.wholesaler_id, order.retailer_id}


def _retailer_adds(trade, placed, sku: str, quantity: int) -> None:
    """The retailer adds a line to its order in its Shopify admin (an order edit: begin, add the variant, commit)."""
    begun = trade.sandbox.graphql(RT_SHOPS[0], "mutation B($id: ID!) { orderEditBegin(id: $id) { calculatedOrder "
                                  "{ id } userErrors { message } } }", {"id": placed["id"]})  # fmt: skip
    calculated = begun["orderEditBegin"]["calculatedOrder"]["id"]
    variant = trade.store_shop(0).variant_by_sku(sku)
    added = trade.sandbox.graphql(
        RT_SHOPS[0],
        "mutation A($id: ID!, $v: ID!, $q: Int!) { orderEditAddVariant(id: $id, variantId: $v, quantity: $q) "
        "{ userErrors { message } } }",
        {"id": calculated, "v": f"gid://shopify/ProductVariant/{variant.id}", "q": quantity},
    )
    assert added["orderEditAddVariant"]["userErrors"] == []
    committed = trade.sandbox.graphql(RT_SHOPS[0], "mutation C($id: ID!) { orderEditCommit(id: $id) { userErrors "
                                      "{ message } } }", {"id": calculated})  # fmt: skip
    assert committed["orderEditCommit"]["userErrors"] == []


def test_a_line_the_retailer_adds_after_the_order_was_sent_is_added_in_the_wholesalers_store(trade):
    placed = _sku_linked_order(trade, LINES)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    before = trade.sandbox.available(WS_SHOP, "SHIRT-S")
    trade.sandbox.add_product(RT_SHOPS[0], "Own listing SHIRT-S", [{"sku": "SHIRT-S", "price": "9.99", "available": 5}])
    _retailer_adds(trade, placed, "SHIRT-S", 2)
    trade.ok("orders.pull")
    order = db.session.execute(select(Order)).scalar_one()
    assert _ours() == {"TOTE-1": 2, "SCARF-1": 1, "SHIRT-S": 2} and order.edit_pending
    trade.ok("order_changes.push")
    assert _sor_quantities(trade) == {"TOTE-1": 2, "SCARF-1": 1, "SHIRT-S": 2}
    assert trade.sandbox.available(WS_SHOP, "SHIRT-S") == before - 2  # taken in the wholesaler's store
    db.session.refresh(order)
    added = next(line for line in order.lines if line.sku == "SHIRT-S")
    assert added.sor_remote_line_id and added.wholesale_price > 0 and not order.edit_pending
    summaries = db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary)).all()
    told = {org for org, text in summaries if "edited by the retailer (SHIRT-S added (2))" in text}
    assert told == {order.wholesaler_id, order.retailer_id}
    assert trade.ok("order_changes.push")[0]["total"] == 0  # replay: nothing added twice
    assert _sor_quantities(trade)["SHIRT-S"] == 2


def _summaries(text: str) -> set[int]:
    rows = db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary)).all()
    return {org for org, summary in rows if text in summary}


def _sent_then_scarf_removed(trade):
    """An order sent to the wholesaler whose SCARF-1 the retailer then edits off (the hub has not seen the edit)."""
    placed = _sku_linked_order(trade, LINES)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    _retailer_edits(trade, placed, {"SCARF-1": 0})
    return db.session.execute(select(Order)).scalar_one()


def _ship_scarf(trade, order: Order, number: str) -> None:
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, [("SCARF-1", 1)], numbers=(number,))


def test_a_shipment_of_units_the_retailer_removed_before_the_hub_saw_it_is_settled_and_told_not_retried(trade):
    order = _sent_then_scarf_removed(trade)
    _ship_scarf(trade, order, "1Z-GONE")
    trade.ok("order_updates.pull")  # the shipment reaches the hub before the edit does
    trade.ok("orders.pull")  # the edit changes nothing: the unit it removes has shipped

    results = trade.run("order_updates.push")

    assert results[0]["status"] == "done" and not results[0]["failed"], results
    (fulfillment,) = db.session.execute(select(Fulfillment)).scalars()
    assert fulfillment.pushed_at is not None and fulfillment.push_error is None
    assert fulfillment.retailer_remote_fulfillment_id is None
    assert trade.store_shop(0).fulfillments == {}
    assert _summaries("shipped units the retailer had removed from its order (1Z-GONE)") == {
        order.wholesaler_id, order.retailer_id}  # fmt: skip
    assert trade.run("order_updates.push")[0]["total"] == 0  # settled: never sent again


def test_a_shipment_with_no_units_left_after_the_retailers_edit_is_settled_not_retried(trade):
    order = _sent_then_scarf_removed(trade)
    trade.ok("orders.pull")  # the edit reaches the hub first, the shipment crossed it in the wholesaler's store
    _ship_scarf(trade, order, "1Z-NONE")
    trade.ok("order_updates.pull")

    results = trade.run("order_updates.push")

    assert not results[0]["failed"], results
    (fulfillment,) = db.session.execute(select(Fulfillment)).scalars()
    assert fulfillment.pushed_at is not None and fulfillment.push_error is None
    assert _summaries("(1Z-NONE); not reported to the retailer's store") == {order.wholesaler_id, order.retailer_id}
