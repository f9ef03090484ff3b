"""What goes on a day's invoice: shipped-not-billed lines up to the cut-off, shipping by the terms, credits later."""

from datetime import UTC, datetime, time
from decimal import Decimal

from integrations.stripe import to_minor_units
from portal.extensions import db
from portal.models import Invoice, Order, OrderLine
from portal.services import billing as service
from tests.billing.helpers import at, billing_pair, days_ago, invoices_of, shipped_order


def test_shipped_lines_up_to_the_cutoff_are_billed_at_the_wholesale_price_and_later_ones_wait(app):
    _, _, _, p = billing_pair()
    day = days_ago(3)
    shipped_order(p, [("A", 2, "10.50"), ("B", 1, "3.25")], at(days_ago(4), 15))
    shipped_order(p, [("C", 5, "1.00")], at(day, 7))  # after the 06:00 cut-off of `day`: tomorrow's
    shipped_order(p, [("D", 1, "99.00")], None)  # not shipped
    invoice = service.claim(p, day)
    assert [(line.kind, line.quantity, line.amount) for line in invoice.lines] == [
        ("charge", 2, Decimal("21.00")),
        ("charge", 1, Decimal("3.25")),
    ]
    assert invoice.total == Decimal("24.25")
    tomorrow = service.claim(p, days_ago(2))
    assert [(line.description.split(" · ")[1], line.amount) for line in tomorrow.lines] == [("C C", Decimal("5.00"))]


def test_nothing_shipped_means_no_invoice(app):
    _, _, _, p = billing_pair()
    shipped_order(p, [("A", 2, "10.00")], None)
    assert service.claim(p, days_ago(1)) is None
    assert db.session.query(Invoice).count() == 0


def test_shipping_is_billed_once_per_order_only_when_the_terms_say_so(app):
    _, _, _, with_shipping = billing_pair(bill_shipping=True)
    shipped_order(with_shipping, [("A", 1, "10.00")], at(days_ago(4), 9), shipping="7.50")
    invoice = service.claim(with_shipping, days_ago(3))
    assert (invoice.shipping, invoice.total) == (Decimal("7.50"), Decimal("17.50"))
    _, _, _, without = billing_pair()
    shipped_order(without, [("A", 1, "10.00")], at(days_ago(4), 9), shipping="7.50")
    assert service.claim(without, days_ago(3)).total == Decimal("10.00")


def test_a_line_cancelled_after_billing_is_credited_on_the_next_invoice(app):
    _, _, _, p = billing_pair()
    order = shipped_order(p, [("A", 3, "10.00")], at(days_ago(5), 9))
    first = service.claim(p, days_ago(4))
    assert first.total == Decimal("30.00")
    line = db.session.query(OrderLine).filter_by(order_id=order.id).one()
    line.cancelled_quantity = 1  # refunded after it was billed
    db.session.commit()
    assert service.claim(p, days_ago(3)) is None  # a credit alone makes no invoice; it waits for the next one
    shipped_order(p, [("B", 1, "4.00")], at(days_ago(3), 9))
    second = service.claim(p, days_ago(2))
    assert sorted((x.kind, x.amount) for x in second.lines) == [
        ("carried_forward", Decimal("6.00")),  # never a negative invoice: the rest waits for the next one
        ("charge", Decimal("4.00")),
        ("credit", Decimal("-10.00")),
    ]
    assert (second.credits, second.total) == (Decimal("4.00"), Decimal("0.00"))
    db.session.refresh(line)
    assert (line.billed_quantity, line.credited_quantity) == (3, 1)


def test_the_cutoff_is_the_wholesalers_billing_time_in_its_timezone(app):
    _, ws, _, p = billing_pair(tz="America/New_York", billing_time=time(18, 0))
    day = days_ago(3)
    assert service.cutoff_for(ws, day) in (at(day, 22), at(day, 23))  # 18:00 New York (EDT / EST)
    shipped_order(p, [("A", 1, "1.00")], service.cutoff_for(ws, day))  # exactly at the cut-off: billed that day
    shipped_order(p, [("B", 1, "2.00")], at(day, 23, 59))  # after 18:00 New York: the next day
    assert [x.amount for x in service.claim(p, day).lines] == [Decimal("1.00")]
    noon_utc = datetime.combine(day, time(12, 0), tzinfo=UTC)
    assert service.due_billing_date(ws, noon_utc) == days_ago(4)


def test_preview_shows_what_would_be_billed_and_writes_nothing(app):
    _, _, _, p = billing_pair()
    shipped_order(p, [("A", 2, "5.00")], at(days_ago(1), 3))
    lines = service.preview(p)
    assert [(x.kind, x.amount) for x in lines] == [("charge", Decimal("10.00"))]
    db.session.rollback()
    assert db.session.query(Invoice).count() == 0
    assert db.session.query(OrderLine).one().billed_quantity == 0
    assert db.session.query(Order).one().billed_at is None


def test_claiming_the_same_day_twice_returns_the_first_invoice_and_bills_each_unit_once(app):
    _, _, _, p = billing_pair()
    shipped_order(p, [("A", 2, "5.00")], at(days_ago(4), 3))
    first = service.claim(p, days_ago(3))
    assert service.claim(p, days_ago(3)).id == first.id
    assert service.claim(p, days_ago(2)) is None  # its units are already billed
    assert len(invoices_of(p)) == 1
    assert db.session.query(OrderLine).one().billed_quantity == 2


def test_money_goes_to_stripe_as_integer_minor_units_without_float_rounding():
    assert to_minor_units(Decimal("0.29"), "usd") == 29  # 0.29 * 100 is 28.999999999999996 in float
    assert to_minor_units(Decimal("1234.565"), "eur") == 123457
    assert to_minor_units(Decimal("-10.00"), "usd") == -1000
    assert to_minor_units(Decimal("500"), "JPY") == 500
