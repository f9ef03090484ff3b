"""Gateway events are bound to the wholesaler's own account and re-read from the gateway before anything changes.

A correctly signed event from another account whose metadata names our invoice is recorded as ignored and changes
nothing; our own account's event is applied as the gateway reports the invoice, never as the payload claims.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from portal.extensions import db
from portal.models import GatewayAccount, WebhookReceipt
from portal.services import billing as service
from tests.billing.conftest import fake_apruve as apruve_fixture
from tests.billing.conftest import fake_stripe as stripe_fixture
from tests.billing.helpers import at, billing_pair, days_ago, invoices_of, shipped_order

# The billing fakes on real local ports, as tests/billing uses them (registered here under their own names).
fake_stripe, fake_apruve = stripe_fixture, apruve_fixture


def _sent_invoice(fake, connect_account: str | None = None):
    _, ws, _, p = billing_pair(fake, terms="net")
    if connect_account:
        account = db.session.execute(select(GatewayAccount).where(GatewayAccount.organization_id == ws.id)).scalar_one()
        account.account_ref = connect_account
        db.session.commit()
    shipped_order(p, [("A", 2, "10.00")], at(days_ago(3), 9))
    invoice = service.bill(p, days_ago(2))
    assert invoice.status == "sent"
    return invoice, p


def _stripe_event(event_id: str, kind: str, obj: dict, account: str | None = None) -> dict:
    event = {"id": event_id, "object": "event", "type": kind, "created": int(time.time()), "data": {"object": obj}}
    if account:
        event["account"] = account
    return event


def _post(client, fake, event):
    body, headers = fake.webhook_request(event)
    return client.post("/webhooks/stripe", data=body, headers=headers)


def _receipt(event_id: str) -> WebhookReceipt:
    db.session.expire_all()
    return db.session.execute(select(WebhookReceipt).where(WebhookReceipt.event_id == event_id)).scalar_one()


def test_a_signed_void_event_from_another_connect_account_naming_our_invoice_is_ignored_and_changes_nothing(
    app, client, fake_stripe
):
    invoice, p = _sent_invoice(fake_stripe, connect_account="acct_ours")
    foreign = {"id": "in_theirs", "object": "invoice", "status": "void",
               "metadata": {"wholesync_invoice_id": str(invoice.id)}}  # fmt: skip
    answer = _post(client, fake_stripe, _stripe_event("evt_foreign", "invoice.voided", foreign, "acct_other"))
    assert (answer.status_code, answer.json["result"]) == (200, "ignored")
    assert invoices_of(p)[0].status == "sent"
    assert _receipt("evt_foreign").result["outcome"] == "ignored"


def test_another_accounts_event_carrying_our_object_id_is_ignored_even_when_the_payload_says_void(
    app, client, fake_stripe
):
    invoice, p = _sent_invoice(fake_stripe, connect_account="acct_ours")
    ours = {"id": invoice.gateway_invoice_ref, "object": "invoice", "status": "void"}
    answer = _post(client, fake_stripe, _stripe_event("evt_spoof", "invoice.voided", ours, "acct_other"))
    assert answer.json["result"] == "ignored"
    assert invoices_of(p)[0].status == "sent"


def test_a_direct_key_wholesaler_ignores_an_event_about_an_object_it_did_not_create(app, client, fake_stripe):
    invoice, p = _sent_invoice(fake_stripe)
    foreign = {"id": "in_elsewhere", "object": "invoice", "status": "void",
               "metadata": {"wholesync_invoice_id": str(invoice.id)}}  # fmt: skip
    answer = _post(client, fake_stripe, _stripe_event("evt_other_obj", "invoice.voided", foreign))
    assert answer.json["result"] == "ignored"
    assert invoices_of(p)[0].status == "sent"


def test_our_accounts_void_event_is_not_trusted_until_the_gateway_says_void(app, client, fake_stripe):
    invoice, p = _sent_invoice(fake_stripe, connect_account="acct_ours")
    claimed = {"id": invoice.gateway_invoice_ref, "object": "invoice", "status": "void"}
    first = _post(client, fake_stripe, _stripe_event("evt_claim", "invoice.voided", claimed, "acct_ours"))
    assert first.json["result"] == "unchanged"  # the fetched invoice is still open
    assert invoices_of(p)[0].status == "sent"
    fake_stripe.customer_pays(invoice.gateway_invoice_ref)
    # The payload still says void, but what Stripe reports (paid) is what gets applied.
    second = _post(client, fake_stripe, _stripe_event("evt_real", "invoice.voided", claimed, "acct_ours"))
    assert second.json["result"] == "applied"
    assert invoices_of(p)[0].status == "paid"


def test_when_the_gateway_cannot_be_asked_nothing_is_recorded_and_the_redelivery_is_applied(app, client, fake_stripe):
    invoice, p = _sent_invoice(fake_stripe)
    fake_stripe.customer_pays(invoice.gateway_invoice_ref)
    event = _stripe_event("evt_later", "invoice.paid", {"id": invoice.gateway_invoice_ref, "object": "invoice"})
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens: the fetch-back fails
    refused = _post(client, fake_stripe, event)
    assert refused.status_code == 503
    assert db.session.query(WebhookReceipt).count() == 0
    app.config["STRIPE_API_BASE"] = fake_stripe.url
    again = _post(client, fake_stripe, event)
    assert (again.status_code, again.json["result"]) == (200, "applied")
    assert invoices_of(p)[0].status == "paid"


def test_an_apruve_event_naming_another_merchant_is_ignored(app, client, fake_apruve):
    _, _, _, p = billing_pair(gateway="apruve", terms="net", gateway_customer_ref="corp-1")
    shipped_order(p, [("A", 1, "40.00")], at(days_ago(3), 9))
    invoice = service.bill(p, days_ago(2))
    remote = fake_apruve.invoices[invoice.gateway_invoice_ref]
    remote["status"] = "closed"
    body, headers = fake_apruve.webhook_request("invoice.cancelled", {**remote, "merchant_id": "merchant-2"})
    assert client.post("/webhooks/apruve", data=body, headers=headers).json["result"] == "ignored"
    assert invoices_of(p)[0].status != "void"
    body, headers = fake_apruve.webhook_request("invoice.cancelled", {**remote, "merchant_id": "merchant-1"})
    # Ours, but Apruve reports the invoice closed (paid): that is what is applied, not the cancellation.
    assert client.post("/webhooks/apruve", data=body, headers=headers).json["result"] == "applied"
    assert invoices_of(p)[0].status == "paid"
