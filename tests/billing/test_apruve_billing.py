"""Apruve billing on Net terms: one order and one invoice per billing date, looked up by our ids before any create."""

from decimal import Decimal

import httpx
import pytest

from integrations.apruve import ApruveError
from portal.services import billing as service
from tests.billing.helpers import at, billing_pair, days_ago, invoices_of, shipped_order


def _pair():
    _, _, _, p = billing_pair(gateway="apruve", terms="net", net_days=30, gateway_customer_ref="corp-7")
    shipped_order(p, [("A", 2, "12.34")], at(days_ago(3), 9))
    return p


def test_one_order_and_one_issued_invoice_with_our_id_as_merchant_invoice_id(app, fake_apruve):
    p = _pair()
    invoice = service.bill(p, days_ago(2))
    (order,) = fake_apruve.orders.values()
    (remote,) = fake_apruve.invoices.values()
    assert order["payment_term"] == {"type": "net", "days": 30}
    assert (remote["merchant_invoice_id"], remote["amount_cents"]) == (f"wholesync-{invoice.id}", 2468)
    assert remote["issue_on_create"] is True and remote["order_id"] == order["id"]
    assert (invoice.status, invoice.total) == ("sent", Decimal("24.68"))


def test_running_twice_creates_nothing_new(app, fake_apruve):
    p = _pair()
    service.bill(p, days_ago(2))
    service.bill(p, days_ago(2))
    assert len(fake_apruve.orders) == 1 and len(fake_apruve.invoices) == 1
    assert len(invoices_of(p)) == 1


def test_a_lost_answer_after_apruve_created_the_invoice_is_repaired_by_the_lookup_not_a_second_create(app, fake_apruve):
    app.config["APRUVE_TIMEOUT_SECONDS"] = 1
    p = _pair()
    fake_apruve.inject("POST", r"/invoices", "timeout_after_commit", delay=2)
    with pytest.raises(httpx.ReadTimeout):
        service.bill(p, days_ago(2))
    assert len(fake_apruve.invoices) == 1 and invoices_of(p)[0].status == "claimed"
    service.bill(p, days_ago(2))
    assert len(fake_apruve.invoices) == 1
    assert invoices_of(p)[0].gateway_invoice_ref == next(iter(fake_apruve.invoices))


def test_apruve_500_fails_the_attempt_and_the_retry_finishes_once(app, fake_apruve):
    p = _pair()
    fake_apruve.inject("POST", r"/orders", "500")
    with pytest.raises(ApruveError):
        service.bill(p, days_ago(2))
    assert fake_apruve.orders == {}
    assert service.bill(p, days_ago(2)).status == "sent"
    assert len(fake_apruve.orders) == 1 and len(fake_apruve.invoices) == 1
