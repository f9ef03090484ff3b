"""Money in the demo: the demo retailers are billed by card through the Stripe fake, their cards saved on the
fake's hosted page as a retailer would; tomorrow's invoice preview shows shipped orders, and the day's invoice is
picked only once the demo's billing time has passed, then paid by the saved card."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from fakes.stripe import FakeStripe
from fakes.stripe.app import serve_in_thread
from jobs.flows.billing import due_days
from portal import demo
from portal.extensions import db
from portal.models import Organization, Partnership, utcnow
from portal.services import billing
from portal.services.billing.ledger import preview
from tests.billing.helpers import shipped_order


@pytest.fixture
def fake_stripe(app):
    fake = FakeStripe(webhook_secret="whsec_test_" + secrets.token_hex(8))
    url, stop = serve_in_thread(fake)
    app.config.update(STRIPE_API_BASE=url, STRIPE_WEBHOOK_SECRET=fake.webhook_secret, STRIPE_TIMEOUT_SECONDS=5)
    yield fake
    stop()


def test_demo_retailers_pay_by_a_card_saved_on_the_stripe_fakes_page_and_are_billed_after_the_demos_billing_time(
    app, client, fake_stripe, monkeypatch
):
    seeded_at = utcnow()
    demo.seed()
    wholesaler = db.session.execute(select(Organization).where(Organization.kind == "wholesaler")).scalar_one()
    closes = (seeded_at + demo.DEMO_BILLING_DELAY).replace(second=0, microsecond=0)
    assert wholesaler.billing_time == closes.time() and wholesaler.timezone == "UTC"

    assert demo.setup_billing() == "demo billing: 2 retailer card(s) saved through the Stripe fake"
    answers = []
    fake_stripe.deliver(
        lambda body, headers: answers.append(client.post("/webhooks/stripe", data=body, headers=headers))
    )
    assert [a.json["result"] for a in answers] == ["applied", "applied"]  # checkout.session.completed, each
    customers = fake_stripe.of_type("customer")
    assert len(customers) == 2 and all(c["invoice_settings"]["default_payment_method"] for c in customers)
    assert demo.setup_billing() == "demo billing: 0 retailer card(s) saved through the Stripe fake"  # once only

    p = db.session.execute(select(Partnership).order_by(Partnership.id)).scalars().first()
    assert (p.billing_enabled, p.billing_gateway, p.billing_terms) == (True, "stripe", "card")
    shipped_order(p, [("TEE-M", 3, "9.50")], seeded_at + timedelta(minutes=1), name="#1001")
    charges = [line for line in preview(p, seeded_at + timedelta(minutes=2)) if line.kind == "charge"]
    assert [(line.quantity, line.unit_price) for line in charges] == [(3, Decimal("9.50"))]  # tomorrow's invoice

    if closes.date() == seeded_at.date():  # (a demo seeded just before midnight closes its first day at once)
        monkeypatch.setattr("jobs.clock.now", lambda: closes - timedelta(minutes=1))
        assert all(target != f"partnership:{p.id}" for target, _ in due_days(None))
    monkeypatch.setattr("jobs.clock.now", lambda: closes + timedelta(minutes=1))
    assert (f"partnership:{p.id}", (closes.date().isoformat(),)) in due_days(None)
    invoice = billing.bill(p, closes.date())
    assert invoice.status == "paid" and invoice.total == Decimal("28.50")
    assert fake_stripe.of_type("invoice")[0]["status"] == "paid"
