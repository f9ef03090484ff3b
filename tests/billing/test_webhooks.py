"""Stripe and Apruve webhooks: verified, applied once by event id, newer-wins, and nothing stored when rejected."""

import json
import threading
import time

from portal.extensions import db
from portal.models import WebhookReceipt
from portal.services import billing as service
from tests.billing.helpers import at, billing_pair, days_ago, invoices_of, shipped_order


def _net_invoice(fake_stripe):
    _, _, _, p = billing_pair(fake_stripe, terms="net")
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    return service.bill(p, days_ago(2)), p


def _event(fake, kind: str, invoice_ref: str, created: int, event_id: str) -> dict:
    remote = fake.objects[invoice_ref]
    return {"id": event_id, "object": "event", "type": kind, "created": created, "data": {"object": remote}}


def _post(client, fake, event, **kw):
    body, headers = fake.webhook_request(event, **kw)
    return client.post("/webhooks/stripe", data=body, headers=headers)


def test_a_paid_event_from_stripe_marks_the_invoice_paid_and_a_redelivery_is_a_no_op(app, client, fake_stripe):
    invoice, p = _net_invoice(fake_stripe)
    assert invoice.status == "sent"
    fake_stripe.customer_pays(invoice.gateway_invoice_ref)  # the event is applied as Stripe reports the invoice
    event = _event(fake_stripe, "invoice.paid", invoice.gateway_invoice_ref, int(time.time()), "evt_paid_1")
    first = _post(client, fake_stripe, event)
    second = _post(client, fake_stripe, event)
    assert (first.status_code, first.json["result"]) == (200, "applied")
    assert (second.status_code, second.json["result"]) == (200, "duplicate")
    (row,) = invoices_of(p)
    assert row.status == "paid" and row.paid_at is not None
    assert db.session.query(WebhookReceipt).filter_by(source="stripe").count() == 1


def test_the_same_event_delivered_twice_at_once_is_recorded_once(app, fake_stripe):
    invoice, p = _net_invoice(fake_stripe)
    fake_stripe.customer_pays(invoice.gateway_invoice_ref)
    event = _event(fake_stripe, "invoice.paid", invoice.gateway_invoice_ref, int(time.time()), "evt_race")
    results, barrier = [], threading.Barrier(2, timeout=30)

    def deliver():
        client = app.test_client()
        barrier.wait()
        results.append(_post(client, fake_stripe, event).json["result"])

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["applied", "duplicate"]
    db.session.expire_all()
    assert db.session.query(WebhookReceipt).count() == 1
    assert invoices_of(p)[0].status == "paid"


def test_events_out_of_order_end_in_the_newest_state_and_paid_is_never_undone(app, client, fake_stripe):
    invoice, p = _net_invoice(fake_stripe)
    now = int(time.time())
    ref = invoice.gateway_invoice_ref
    fake_stripe.customer_pays(ref)
    # payment_failed (older) arrives after paid (newer): stays paid
    assert (
        _post(client, fake_stripe, _event(fake_stripe, "invoice.paid", ref, now, "evt_2")).json["result"] == "applied"
    )
    late = _event(fake_stripe, "invoice.payment_failed", ref, now - 60, "evt_1")
    assert _post(client, fake_stripe, late).json["result"] == "unchanged"
    assert invoices_of(p)[0].status == "paid"


def test_an_older_failure_does_not_overwrite_a_newer_failure_state_and_a_later_paid_wins(app, client, fake_stripe):
    invoice, p = _net_invoice(fake_stripe)
    now, ref = int(time.time()), invoice.gateway_invoice_ref
    _post(client, fake_stripe, _event(fake_stripe, "invoice.payment_failed", ref, now, "evt_b"))
    assert invoices_of(p)[0].status == "payment_failed"
    older_sent = _event(fake_stripe, "invoice.sent", ref, now - 100, "evt_a")
    assert _post(client, fake_stripe, older_sent).json["result"] == "unchanged"
    assert invoices_of(p)[0].status == "payment_failed"
    fake_stripe.customer_pays(ref)
    _post(client, fake_stripe, _event(fake_stripe, "invoice.paid", ref, now + 5, "evt_c"))
    assert invoices_of(p)[0].status == "paid"


def test_forged_and_stale_stripe_webhooks_are_rejected_and_leave_nothing_behind(app, client, fake_stripe):
    invoice, p = _net_invoice(fake_stripe)
    event = _event(fake_stripe, "invoice.paid", invoice.gateway_invoice_ref, int(time.time()), "evt_x")
    forged = _post(client, fake_stripe, event, secret="whsec_attacker")
    stale = _post(client, fake_stripe, event, timestamp=int(time.time()) - 301)
    body, headers = fake_stripe.webhook_request(event)
    tampered = client.post("/webhooks/stripe", data=body.replace(b"evt_x", b"evt_y"), headers=headers)
    unsigned = client.post("/webhooks/stripe", data=body, headers={"Content-Type": "application/json"})
    assert [r.status_code for r in (forged, stale, tampered, unsigned)] == [400, 400, 400, 400]
    assert db.session.query(WebhookReceipt).count() == 0
    assert invoices_of(p)[0].status == "sent"
    assert _post(client, fake_stripe, event, timestamp=int(time.time()) - 299).status_code == 200  # within 300 s


def test_the_fakes_own_signed_deliveries_verify_and_mark_a_net_invoice_paid_when_the_retailer_pays(
    app, client, fake_stripe
):
    invoice, p = _net_invoice(fake_stripe)
    fake_stripe.customer_pays(invoice.gateway_invoice_ref)
    answers = []
    fake_stripe.deliver(
        lambda body, headers: answers.append(client.post("/webhooks/stripe", data=body, headers=headers))
    )
    assert [a.status_code for a in answers] == [200] * len(fake_stripe.events)
    results = {json.loads(a.data)["result"] for a in answers}
    assert "applied" in results
    assert invoices_of(p)[0].status == "paid"


def test_apruve_webhook_is_verified_and_applied_once(app, client, fake_apruve):
    _, _, _, p = billing_pair(gateway="apruve", terms="net", gateway_customer_ref="corp-1")
    shipped_order(p, [("A", 1, "40.00")], at(days_ago(3), 9))
    invoice = service.bill(p, days_ago(2))
    remote = fake_apruve.invoices[invoice.gateway_invoice_ref]
    remote["status"] = "closed"  # the retailer paid on Apruve; the event is applied as Apruve reports the invoice
    body, headers = fake_apruve.webhook_request("invoice.closed", remote)
    assert client.post("/webhooks/apruve", data=body, headers=headers).json["result"] == "applied"
    assert client.post("/webhooks/apruve", data=body, headers=headers).json["result"] == "duplicate"
    forged = client.post("/webhooks/apruve", data=body, headers={**headers, "X-Apruve-Signature": "00" * 32})
    assert forged.status_code == 400
    assert invoices_of(p)[0].status == "paid"
    assert db.session.query(WebhookReceipt).filter_by(source="apruve").count() == 1
