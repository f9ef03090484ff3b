"""Money that follows the order: credits for cancelled or refunded lines that were billed, never a negative
invoice, and a credit larger than the invoice carried forward to the next one until it is used up."""

from decimal import Decimal

from portal.extensions import db
from portal.models import OrderLine, Partnership
from portal.services import billing as service
from tests.billing.helpers import at, billing_pair, days_ago, invoices_of, shipped_order, stripe_invoices


def _refund(order, units: int) -> None:
    line = db.session.query(OrderLine).filter_by(order_id=order.id).one()
    line.cancelled_quantity = units  # cancelled, rejected or returned after it was billed
    db.session.commit()


def test_a_credit_larger_than_the_invoice_is_carried_forward_until_used_up(app):
    _, _, _, p = billing_pair()
    order = shipped_order(p, [("A", 3, "10.00")], at(days_ago(6), 9))
    assert service.claim(p, days_ago(5)).total == Decimal("30.00")
    _refund(order, 3)  # 30.00 owed back to the retailer
    shipped_order(p, [("B", 1, "4.00")], at(days_ago(5), 9))
    second = service.claim(p, days_ago(4))
    assert (second.subtotal, second.credits, second.total) == (Decimal("4.00"), Decimal("4.00"), Decimal("0.00"))
    assert db.session.get(Partnership, p.id).credit_balance == Decimal("26.00")
    shipped_order(p, [("C", 2, "20.00")], at(days_ago(4), 9))
    third = service.claim(p, days_ago(3))
    assert sorted((x.kind, x.amount) for x in third.lines) == [
        ("brought_forward", Decimal("-26.00")),
        ("charge", Decimal("40.00")),
    ]
    assert (third.credits, third.total) == (Decimal("26.00"), Decimal("14.00"))
    assert db.session.get(Partnership, p.id).credit_balance == Decimal("0.00")
    assert all(i.total >= 0 for i in invoices_of(p))
    assert sum((i.total for i in invoices_of(p)), Decimal("0")) == Decimal("30.00") + 4 + 40 - 30


def test_every_invoice_adds_up_to_its_lines(app):
    _, _, _, p = billing_pair(bill_shipping=True)
    order = shipped_order(p, [("A", 2, "25.00")], at(days_ago(6), 9), shipping="5.00")
    service.claim(p, days_ago(5))
    _refund(order, 2)
    shipped_order(p, [("B", 1, "12.00")], at(days_ago(5), 9), shipping="3.00")
    second = service.claim(p, days_ago(4))
    assert sum((x.amount for x in second.lines), Decimal("0")) == second.total == Decimal("0.00")
    assert second.total == second.subtotal + second.shipping - second.credits
    assert db.session.get(Partnership, p.id).credit_balance == Decimal("35.00")


def test_a_credit_alone_makes_no_invoice_and_keeps_waiting(app):
    _, _, _, p = billing_pair()
    order = shipped_order(p, [("A", 1, "10.00")], at(days_ago(6), 9))
    service.claim(p, days_ago(5))
    _refund(order, 1)
    assert service.claim(p, days_ago(4)) is None
    assert db.session.get(Partnership, p.id).credit_balance == Decimal("0")  # the credit is still on the line


def test_a_zero_invoice_with_carried_credit_goes_through_stripe_without_a_charge(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe)
    order = shipped_order(p, [("A", 2, "10.00")], at(days_ago(6), 9))
    assert service.bill(p, days_ago(5)).status == "paid"
    _refund(order, 2)
    shipped_order(p, [("B", 1, "5.00")], at(days_ago(5), 9))
    second = service.bill(p, days_ago(4))
    assert (second.total, second.status) == (Decimal("0.00"), "paid")
    remote = next(i for i in stripe_invoices(fake_stripe) if i["id"] == second.gateway_invoice_ref)
    assert remote["amount_due"] == 0
    assert db.session.get(Partnership, p.id).credit_balance == Decimal("15.00")
