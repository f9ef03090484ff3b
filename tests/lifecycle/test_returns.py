"""Returns, end to end: shipped units the retailer refunds as returns in its Shopify store are recorded on our
lines by orders.pull (once, however often it runs, and not mistaken for an edit); the wholesaler records returns from
the order page; both show on the order page and in both activity logs; the partnership's policy (set on the partner
page, default yes) decides whether billing credits them, exactly once."""

from decimal import Decimal

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.order_changes import refund_lines
from jobs.flows.order_changes import reject_from_portal
from portal.extensions import db
from portal.models import ActivityLog, Order, OrderLine, Partnership
from portal.services import billing as service
from tests.billing.helpers import at, billing_pair, days_ago, shipped_order
from tests.conftest import csrf_token
from tests.lifecycle.test_rejections import _sent
from tests.sync.conftest import RT_SHOPS, WS_SHOP


def _shipped_and_sent_back(trade) -> Order:
    order = _sent(trade)
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z9",))
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    db.session.refresh(order)
    assert order.status == "completed"
    return order


def _retailer_refunds(trade, order: Order, sku: str, units: int, restock_type="RETURN") -> None:
    shop = trade.store_shop(0)
    remote = shop.orders[int(order.remote_order_id.rsplit("/", 1)[1])]
    line_id = next(li["id"] for li in remote.data["line_items"] if li["sku"] == sku)
    ctx = trade.sandbox.sandbox.merchant_context(RT_SHOPS[0])
    with shop.lock:
        refund_lines(ctx, remote, {line_id: units}, restock_type=restock_type)
    ctx.flush()


def test_a_return_refunded_in_the_retailers_store_is_recorded_once_and_is_not_an_edit(trade):
    order = _shipped_and_sent_back(trade)
    _retailer_refunds(trade, order, "TOTE-1", 1)
    pulled = trade.ok("orders.pull")
    assert sum(r["updated"] for r in pulled) == 1
    trade.ok("orders.pull")  # replay: nothing more
    db.session.refresh(order)
    assert {line.sku: (line.quantity, line.returned_quantity) for line in order.lines} == {
        "TOTE-1": (2, 1), "SHIRT-S": (1, 0),
    }  # fmt: skip
    summaries = db.session.execute(select(ActivityLog.organization_id, ActivityLog.summary)).all()
    told = {org for org, text in summaries if "returned at the retailer (TOTE-1 x1)" in text}
    assert told == {order.wholesaler_id, order.retailer_id}
    assert not any("edit" in text for _org, text in summaries)  # a refund is not an edit of a shipped order
    assert sum(1 for _org, text in summaries if "returned at the retailer" in text) == 2


def test_a_refund_without_restock_is_not_a_return(trade):
    order = _shipped_and_sent_back(trade)
    _retailer_refunds(trade, order, "SHIRT-S", 1, restock_type="NO_RESTOCK")
    trade.ok("orders.pull")
    db.session.refresh(order)
    assert all(line.returned_quantity == 0 for line in order.lines)


def test_the_wholesaler_records_a_return_on_the_order_page_never_more_than_shipped(trade, client, auth):
    order = _shipped_and_sent_back(trade)
    auth.login(trade.user.email)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Record a return" in page
    tote = next(line for line in order.lines if line.sku == "TOTE-1")
    form = {"csrf_token": csrf_token(page), f"ret-{tote.id}": "5", "note": "Damaged in transit"}
    page = client.post(f"/orders/{order.id}/return", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Return recorded: TOTE-1 x2" in page
    assert "return recorded by the wholesaler (TOTE-1 x2): Damaged in transit" in page  # the order's events
    db.session.refresh(tote)
    assert tote.returned_quantity == 2
    _retailer_refunds(trade, order, "TOTE-1", 2)  # the same return, refunded in the retailer's store
    trade.ok("orders.pull")
    db.session.refresh(tote)
    assert tote.returned_quantity == 2
    assert client.post(f"/orders/{order.id}/return", data={f"ret-{tote.id}": "1"}).status_code == 400  # CSRF


def test_the_partner_page_sets_whether_returns_are_credited(client, signed_in, world):
    url = f"/partners/{world.partnership.id}"
    html = client.get(url).get_data(as_text=True)
    assert 'name="returns_credit"' in html and world.partnership.returns_credit is True  # default: yes
    form = {"csrf_token": csrf_token(html), "stock_buffer": "0", "returns_credit": "no"}
    client.post(url, data=form)
    db.session.refresh(world.partnership)
    assert world.partnership.returns_credit is False
    client.post(url, data={"csrf_token": csrf_token(html), "stock_buffer": "0"})  # not on the form: unchanged
    db.session.refresh(world.partnership)
    assert world.partnership.returns_credit is False


# ---------------------------------------------------------------- the money


def _return(order, units: int) -> None:
    line = db.session.query(OrderLine).filter_by(order_id=order.id).one()
    line.returned_quantity = units
    db.session.commit()


def test_a_billed_and_returned_line_is_credited_once_on_the_next_invoice(app):
    _, _, _, p = billing_pair()
    order = shipped_order(p, [("A", 3, "10.00")], at(days_ago(6), 9))
    assert service.claim(p, days_ago(5)).total == Decimal("30.00")
    _return(order, 1)
    shipped_order(p, [("B", 1, "25.00")], at(days_ago(5), 9))
    second = service.claim(p, days_ago(4))
    assert sorted((x.kind, x.quantity, x.amount) for x in second.lines) == [
        ("charge", 1, Decimal("25.00")), ("credit", 1, Decimal("-10.00")),
    ]  # fmt: skip
    assert second.total == Decimal("15.00")
    shipped_order(p, [("C", 1, "5.00")], at(days_ago(4), 9))
    third = service.claim(p, days_ago(3))
    assert [x.kind for x in third.lines] == ["charge"] and third.total == Decimal("5.00")  # credited once


def test_returns_are_not_credited_when_the_partnership_says_so(app):
    _, _, _, p = billing_pair()
    p.returns_credit = False
    db.session.commit()
    order = shipped_order(p, [("A", 3, "10.00")], at(days_ago(6), 9))
    service.claim(p, days_ago(5))
    _return(order, 2)
    shipped_order(p, [("B", 1, "25.00")], at(days_ago(5), 9))
    second = service.claim(p, days_ago(4))
    assert [x.kind for x in second.lines] == ["charge"] and second.total == Decimal("25.00")


def test_a_return_before_billing_is_simply_never_billed(app):
    _, _, _, p = billing_pair()
    order = shipped_order(p, [("A", 3, "10.00")], at(days_ago(6), 9))
    _return(order, 3)
    shipped_order(p, [("B", 1, "4.00")], at(days_ago(6), 10))
    invoice = service.claim(p, days_ago(5))
    assert [(x.kind, x.amount) for x in invoice.lines] == [("charge", Decimal("4.00"))]


def test_rejected_units_are_never_billed_and_the_shipped_rest_is(trade):
    order = _sent(trade)
    tote = next(line for line in order.lines if line.sku == "TOTE-1")
    reject_from_portal(order, {tote.id: 2}, "Out of stock: gone")
    trade.ok("order_changes.push")
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z1",))
    trade.ok("order_updates.pull")
    partnership = db.session.get(Partnership, order.partnership_id)
    drafts = service.compute_lines(partnership, at(days_ago(-1), 0))
    assert [(d.kind, d.description.split(" · ")[1].split()[0], d.quantity) for d in drafts] == [
        ("charge", "SHIRT-S", 1)
    ]  # the order was TOTE-1 x2 (rejected) and SHIRT-S x1 (shipped)
