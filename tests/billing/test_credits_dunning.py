"""A declined card payment is tried again on the dunning schedule (1, 3, 7 days) and after the retailer saves a new
card, each attempt with its own idempotency key; the retailer is told each time. Billing still never runs by hand."""

from datetime import datetime, timedelta

from portal.extensions import db
from portal.models import ActivityLog, Invoice, Organization
from portal.services import billing as service
from portal.services.accounts import create_user
from portal.services.billing.ledger import next_payment_retry
from tests.billing.helpers import at, billing_pair, charges, days_ago, shipped_order
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD

DECLINING = "4000000000000341"


def _declining_pair(fake):
    user, ws, rt, p = billing_pair(fake)
    p.gateway_customer_ref = fake.seed_customer(rt.name, card=DECLINING)
    db.session.commit()
    shipped_order(p, [("A", 2, "10.00")], at(days_ago(4), 9))
    return user, ws, rt, p


def _age_last_decline(invoice: Invoice, days: float) -> None:
    failed = datetime.fromisoformat(invoice.steps["payment_failed_at"]) - timedelta(days=days)
    invoice.steps = {**invoice.steps, "payment_failed_at": failed.isoformat()}
    db.session.commit()


def test_a_declined_payment_is_retried_on_the_dunning_schedule_and_the_retailer_is_told(app, fake_stripe):
    _, _, rt, p = _declining_pair(fake_stripe)
    invoice = service.bill(p, days_ago(3))
    assert (invoice.status, invoice.steps["payment_attempts"]) == ("payment_failed", 1)
    told = db.session.query(ActivityLog).filter_by(organization_id=rt.id, record_type="invoice").all()
    assert len(told) == 1 and "declined" in told[0].summary and "try again on" in told[0].summary
    assert service.dates_to_bill(p, days_ago(0)).count(days_ago(3)) == 0  # not due yet: one day after the decline
    assert service.bill(p, days_ago(3)).steps["payment_attempts"] == 1  # running again early charges nothing
    _age_last_decline(invoice, 1)
    assert days_ago(3) in service.dates_to_bill(p, days_ago(0))
    second = service.bill(p, days_ago(3))
    assert second.steps["payment_attempts"] == 2
    assert next_payment_retry(second) - datetime.fromisoformat(second.steps["payment_failed_at"]) == timedelta(days=3)
    keys = fake_stripe.keys_sent("POST", r"/v1/invoices/[^/]+/pay")
    assert len(keys) == len(set(keys)) == 2  # a new key per attempt: the old one would replay the decline
    for days in (3, 7):
        _age_last_decline(second, days)
        second = service.bill(p, days_ago(3))
    assert second.steps["payment_attempts"] == 4 and next_payment_retry(second) is None  # the schedule is used up
    assert db.session.query(ActivityLog).filter_by(organization_id=rt.id, record_type="invoice").count() == 4


def test_saving_a_new_card_has_the_declined_invoice_charged_at_the_next_run(app, client, auth, fake_stripe):
    _, _, rt, p = _declining_pair(fake_stripe)
    invoice = service.bill(p, days_ago(3))
    assert invoice.status == "payment_failed"
    good = fake_stripe._create_pm({"card": {"number": "4242424242424242"}}, base="")
    good["customer"] = p.gateway_customer_ref
    fake_stripe.objects[p.gateway_customer_ref]["invoice_settings"]["default_payment_method"] = good["id"]
    retailer_user = create_user("buyer@example.com", PASSWORD, organization=db.session.get(Organization, rt.id))
    auth.login(retailer_user.email)
    client.get(f"/billing/partnerships/{p.id}/card/done")  # back from Stripe's hosted page
    db.session.expire_all()
    assert days_ago(3) in service.dates_to_bill(p, days_ago(0))
    paid = service.bill(p, days_ago(3))
    assert paid.status == "paid" and paid.paid_at is not None
    assert len(charges(fake_stripe)) == 1


def test_billing_still_cannot_be_started_by_hand(app, client, auth, fake_stripe):
    user, _, _, _ = _declining_pair(fake_stripe)
    auth.login(user.email)
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    response = client.post("/sync/run", data={"job": "billing.run", "csrf_token": token})
    assert response.status_code in (302, 403)
    assert db.session.query(Invoice).count() == 0
