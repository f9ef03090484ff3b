"""Properties of the billing ledger under any order of daily claims, retries and claims that crash half-way: no
order line is billed twice, every invoice adds up, and once every day is claimed the invoices add up to exactly
what shipped (no more, no less)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.models import Fulfillment, Invoice, InvoiceLine, Order, OrderLine, Partnership
from portal.services.billing import ledger
from tests.billing.helpers import at, billing_pair, days_ago, shipped_order
from tests.conftest import _empty_tables

SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
LAST_SHIP_DAY, FIRST_SHIP_DAY = 2, 6  # orders ship between 6 and 2 days ago

lines = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 50_000)), min_size=1, max_size=3)
orders = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(LAST_SHIP_DAY, FIRST_SHIP_DAY)), lines, st.integers(0, 2_000)),
    min_size=1, max_size=5,
)  # fmt: skip
# A claim: (days ago, crash after this many claimed lines or None).
claims = st.lists(st.tuples(st.integers(0, FIRST_SHIP_DAY), st.one_of(st.none(), st.integers(0, 3))), max_size=8)


_PAIRS: dict[int, int] = {}


def _fresh_partnership(bill_shipping: bool) -> Partnership:
    """The test's trading pair (made once: a user's password hash is slow), with no orders or invoices left."""
    key = id(current_app._get_current_object())
    if key not in _PAIRS:
        _empty_tables()
        _PAIRS[key] = billing_pair()[3].id
    for model in (InvoiceLine, Invoice, Fulfillment, OrderLine, Order):
        db.session.execute(delete(model))
    partnership = db.session.get(Partnership, _PAIRS[key])
    partnership.bill_shipping = bill_shipping
    db.session.commit()
    return partnership


class Crash(RuntimeError):
    """The worker died half-way through a claim."""


def _claim(partnership: Partnership, day: int, crash_after: int | None, monkeypatch) -> None:
    """Claim one billing day; with crash_after, the claim dies after that many lines and is retried like a job."""
    if crash_after is not None:
        real, calls = ledger._claim_line, []

        def dying(invoice, draft):
            if len(calls) >= crash_after:
                raise Crash
            calls.append(draft)
            real(invoice, draft)

        monkeypatch.setattr(ledger, "_claim_line", dying)
        try:
            ledger.claim(partnership, days_ago(day))
        except Crash:
            db.session.rollback()  # what the job runner does with a failed attempt
        finally:
            monkeypatch.setattr(ledger, "_claim_line", real)
    ledger.claim(partnership, days_ago(day))  # the (re)try, or a plain claim


def _check_no_line_billed_twice(partnership: Partnership) -> None:
    billed = dict(
        db.session.execute(
            select(InvoiceLine.order_line_id, func.sum(InvoiceLine.quantity))
            .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
            .where(Invoice.partnership_id == partnership.id, InvoiceLine.kind == "charge")
            .group_by(InvoiceLine.order_line_id)
        ).all()
    )
    for line in db.session.execute(select(OrderLine)).scalars():
        assert billed.get(line.id, 0) == line.billed_quantity <= line.fulfilled_quantity
    for invoice in db.session.execute(select(Invoice)).scalars():
        assert invoice.total == sum((li.amount for li in invoice.lines), Decimal("0"))
        assert invoice.total == invoice.subtotal + invoice.shipping - invoice.credits


@pytest.mark.usefixtures("app")
@SETTINGS
@given(orders=orders, claims=claims, bill_shipping=st.booleans())
def test_any_order_of_claims_retries_and_crashes_bills_each_shipped_unit_exactly_once(
    orders, claims, bill_shipping, monkeypatch
):
    p = _fresh_partnership(bill_shipping)
    shipped_total = Decimal("0")
    for ship_day, order_lines, shipping_cents in orders:
        priced = [(f"S{i}", qty, str(Decimal(cents) / 100)) for i, (qty, cents) in enumerate(order_lines)]
        shipped_at = at(days_ago(ship_day), 9) if ship_day is not None else None
        shipped_order(p, priced, shipped_at, shipping=str(Decimal(shipping_cents) / 100))
        if shipped_at is not None:
            shipped_total += sum(qty * Decimal(price) for _, qty, price in priced)
            shipped_total += Decimal(shipping_cents) / 100 if bill_shipping and shipping_cents else 0
    for day, crash_after in claims:
        _claim(p, day, crash_after, monkeypatch)
        _check_no_line_billed_twice(p)
    for day in range(FIRST_SHIP_DAY, -1, -1):  # the catch-up: every day up to today, oldest first
        ledger.claim(p, days_ago(day))
        _check_no_line_billed_twice(p)
    invoiced = db.session.execute(select(func.coalesce(func.sum(Invoice.total), 0))).scalar_one()
    assert Decimal(invoiced) == shipped_total
    assert db.session.query(Invoice).count() == len({row[0] for row in db.session.query(Invoice.billing_date)})
