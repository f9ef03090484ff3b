"""Stripe billing through the real SDK and the fake: one invoice and one charge per retailer per day, whatever fails."""

from datetime import timedelta
from decimal import Decimal

import pytest
import stripe

from jobs.runtime import enqueue_scheduled, job_id, queue
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import Invoice, SyncRun
from portal.services import billing as service
from tests.billing.helpers import at, billing_pair, charges, days_ago, invoices_of, shipped_order, stripe_invoices

PAY = r"/v1/invoices/in_\w+/pay"


def _work(app):
    make_worker(app).work(burst=True)
    db.session.expire_all()


def test_card_on_file_invoice_is_itemized_in_cents_finalized_and_charged_once(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 3, "19.99"), ("B", 1, "0.29")], at(days_ago(3), 9), name="#1001")
    invoice = service.bill(p, days_ago(2))
    remote = stripe_invoices(fake_stripe)
    assert len(remote) == 1
    assert remote[0]["collection_method"] == "charge_automatically"
    assert remote[0]["metadata"]["wholesync_invoice_id"] == str(invoice.id)
    assert sorted(i["amount"] for i in fake_stripe.of_type("invoiceitem")) == [29, 5997]
    assert (remote[0]["status"], remote[0]["amount_paid"]) == ("paid", 6026)
    assert len(charges(fake_stripe)) == 1
    db.session.refresh(invoice)
    assert (invoice.status, invoice.total, invoice.gateway_invoice_ref) == ("paid", Decimal("60.26"), remote[0]["id"])
    assert set(invoice.steps) == {"invoice", "finalized", "paid", *(f"item:{x.id}" for x in invoice.lines)}


def test_net_terms_send_the_invoice_with_days_until_due_and_charge_nothing(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe, terms="net", net_days=15)
    shipped_order(p, [("A", 1, "100.00")], at(days_ago(3), 9))
    invoice = service.bill(p, days_ago(2))
    (remote,) = stripe_invoices(fake_stripe)
    assert (remote["collection_method"], remote["days_until_due"], remote["status"]) == ("send_invoice", 15, "open")
    assert remote.get("sent") is True
    assert charges(fake_stripe) == []
    assert invoice.status == "sent"


def test_the_billing_job_running_twice_makes_one_invoice_and_one_charge(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 2, "10.00")], at(days_ago(3), 9))
    target, day = f"partnership:{p.id}", days_ago(2).isoformat()
    assert enqueue_scheduled("billing.run", target, day) is not None
    assert enqueue_scheduled("billing.run", target, day) is None  # same per-day job id: refused by RQ (unique)
    # A second copy that slipped past the job id (e.g. an operator replaying a failed job) still bills nothing new.
    queue("billing").enqueue("jobs.runtime.run_job", args=("billing.run", target, "schedule", None), job_id=job_id(
        "billing.run", target, "copy", day))  # fmt: skip
    _work(app)
    _work(app)
    assert [i.billing_date for i in invoices_of(p)] == [days_ago(2)]  # the date in the job id
    assert len(stripe_invoices(fake_stripe)) == 1
    assert len(charges(fake_stripe)) == 1
    runs = db.session.query(SyncRun).filter_by(job_name="billing.run").all()
    assert len(runs) == 2 and all(r.status == "done" for r in runs)


def test_stripe_answering_500_then_succeeding_makes_one_invoice_with_the_same_key(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    fake_stripe.inject("POST", r"/v1/invoices", "500")
    fake_stripe.inject("POST", PAY, "500")
    invoice = service.bill(p, days_ago(2))
    assert invoice.status == "paid"
    assert len(stripe_invoices(fake_stripe)) == 1 and len(charges(fake_stripe)) == 1
    create_keys = fake_stripe.keys_sent("POST", r"/v1/invoices")
    assert create_keys == [f"ws-inv-{invoice.id}"] * 2  # the SDK retried the 500 with our deterministic key
    assert fake_stripe.keys_sent("POST", PAY) == [f"ws-pay-{invoice.id}"] * 2


def test_stripe_500_beyond_the_sdk_retries_fails_the_job_and_the_rq_retry_finishes_it_once(app, fake_stripe):
    app.config["STRIPE_MAX_NETWORK_RETRIES"] = 0
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    fake_stripe.inject("POST", PAY, "500")
    enqueue_scheduled("billing.run", f"partnership:{p.id}", days_ago(2).isoformat())
    _work(app)
    (run,) = db.session.query(SyncRun).filter_by(job_name="billing.run").all()
    assert (run.status, run.attempts) == ("done", 2)
    assert len(stripe_invoices(fake_stripe)) == 1 and len(charges(fake_stripe)) == 1
    assert invoices_of(p)[0].status == "paid"


def test_a_timeout_after_stripe_charged_is_retried_with_the_same_key_and_replayed_not_recharged(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    fake_stripe.inject("POST", PAY, "timeout_after_commit", delay=3)  # the client gives up after 2 s
    invoice = service.bill(p, days_ago(2))
    assert invoice.status == "paid"
    assert len(fake_stripe.keys_sent("POST", PAY)) == 2
    assert len(charges(fake_stripe)) == 1  # the second request was answered from the saved response


def test_a_retry_25_hours_later_finds_the_invoice_by_metadata_instead_of_trusting_the_pruned_key(app, fake_stripe):
    app.config["STRIPE_MAX_NETWORK_RETRIES"] = 0
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 4, "2.50")], at(days_ago(3), 9))
    fake_stripe.inject("POST", r"/v1/invoices", "timeout_after_commit", delay=3)
    with pytest.raises(stripe.APIConnectionError):
        service.bill(p, days_ago(2))
    (invoice,) = invoices_of(p)
    assert invoice.status == "claimed" and "invoice" not in invoice.steps  # Stripe made it; we never heard back
    assert len(stripe_invoices(fake_stripe)) == 1

    fake_stripe.advance(25 * 3600)
    invoice.created_at -= timedelta(hours=25)
    db.session.commit()
    assert not fake_stripe.remembers_key(f"ws-inv-{invoice.id}")  # Stripe would now create a second invoice
    service.bill(p, days_ago(2))
    assert len(stripe_invoices(fake_stripe)) == 1
    assert len(charges(fake_stripe)) == 1
    assert invoices_of(p)[0].status == "paid"
    assert fake_stripe.keys_sent("POST", r"/v1/invoices") == [f"ws-inv-{invoice.id}"]  # no second create


def test_a_declined_card_marks_the_invoice_failed_and_a_rerun_does_not_charge_again(app, fake_stripe):
    _, _, rt, p = billing_pair(fake_stripe, terms="card")
    p.gateway_customer_ref = fake_stripe.seed_customer(rt.name, card="4000000000000341")
    db.session.commit()
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    invoice = service.bill(p, days_ago(2))
    assert invoice.status == "payment_failed" and "declined" in invoice.last_error
    service.bill(p, days_ago(2))
    assert len(fake_stripe.keys_sent("POST", PAY)) == 1
    assert db.session.query(Invoice).count() == 1


def test_the_fake_keeps_stripes_idempotency_semantics(app, fake_stripe):
    from integrations.payments import CustomerRequest
    from integrations.stripe import StripeGateway

    gateway = StripeGateway("sk_test", base=fake_stripe.url, retries=0, timeout=5)
    first = gateway.create_customer(CustomerRequest("1", "R"), "key-1")
    assert gateway.create_customer(CustomerRequest("1", "R"), "key-1") == first  # replayed
    with pytest.raises(stripe.IdempotencyError):
        gateway.create_customer(CustomerRequest("1", "Other"), "key-1")  # same key, other params
    fake_stripe.advance(24 * 3600 + 1)
    assert gateway.create_customer(CustomerRequest("1", "R"), "key-1") != first  # pruned after 24 h


def test_an_invoice_charged_before_the_saved_card_became_the_default_stays_unpaid_and_is_charged_once_it_is(
    app, fake_stripe
):
    """Checkout attaches the card; the hub makes it the invoice default when its webhook arrives. A charge in between
    is refused by Stripe with nothing attempted: no decline, no payment_failed, and the next run charges it."""
    _, _, rt, p = billing_pair(fake_stripe, terms="card")
    p.gateway_customer_ref = fake_stripe.seed_customer(rt.name, card=None)
    db.session.commit()
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    with pytest.raises(stripe.InvalidRequestError):
        service.bill(p, days_ago(2))
    (invoice,) = invoices_of(p)
    assert invoice.status not in ("paid", "payment_failed") and "default payment method" in invoice.last_error
    assert "paid" not in (invoice.steps or {})

    card = fake_stripe.seed_customer(rt.name)  # a customer with a default card: take its card for ours
    customer = fake_stripe.objects[p.gateway_customer_ref]
    customer["invoice_settings"]["default_payment_method"] = fake_stripe.objects[card]["invoice_settings"][
        "default_payment_method"
    ]  # the checkout.session.completed webhook made the saved card the default
    assert service.bill(p, days_ago(2)).status == "paid"
    assert len(charges(fake_stripe)) == 1 and db.session.query(Invoice).count() == 1
