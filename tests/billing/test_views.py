"""Billing pages: invoices with lines and status, tomorrow's preview without side effects, gateway setup, add a card."""

from decimal import Decimal

import httpx

from portal.extensions import db
from portal.models import GatewayAccount, Invoice, OrderLine, Organization
from portal.services import billing as service
from portal.services.accounts import create_user
from tests.billing.helpers import at, billing_pair, days_ago, shipped_order
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def test_invoices_page_lists_each_invoice_with_its_lines_and_status(app, client, auth, fake_stripe):
    user, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("WIDGET", 2, "7.25")], at(days_ago(3), 9), name="#1042")
    service.bill(p, days_ago(2))
    auth.login(user.email)
    html = client.get(f"/billing/partnerships/{p.id}/invoices").get_data(as_text=True)
    assert str(days_ago(2)) in html and "paid" in html
    assert "#1042 · WIDGET" in html and "14.50" in html


def test_preview_shows_tomorrows_total_and_writes_nothing(app, client, auth, fake_stripe):
    user, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 3, "10.00")], at(days_ago(0), 0))
    auth.login(user.email)
    response = client.get(f"/billing/partnerships/{p.id}/preview")
    assert response.status_code == 200
    assert '<td class="total">30.00</td>' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Invoice).count() == 0
    assert db.session.query(OrderLine).one().billed_quantity == 0
    assert fake_stripe.requests == []


def test_gateway_setup_stores_the_key_encrypted_and_never_shows_it_back(app, client, auth):
    user, _, _, _ = billing_pair(gateway="apruve")
    auth.login(user.email)
    token = csrf_token(client.get("/billing/gateway").get_data(as_text=True))
    form = {"csrf_token": token, "gateway": "stripe", "account_ref": "acct_123", "secret": "rk_test_secret_value"}
    assert client.post("/billing/gateway", data=form).status_code == 302
    account = db.session.query(GatewayAccount).filter_by(gateway="stripe").one()
    assert (account.account_ref, account.secret) == ("acct_123", "rk_test_secret_value")
    raw = db.session.execute(db.text("SELECT secret FROM gateway_account WHERE gateway = 'stripe'")).scalar_one()
    assert "rk_test_secret_value" not in raw
    assert "rk_test_secret_value" not in client.get("/billing/gateway").get_data(as_text=True)


def test_a_retailer_adds_a_card_on_stripes_hosted_page_and_it_is_charged_next_billing(app, client, auth, fake_stripe):
    _, _, rt, p = billing_pair(fake_stripe, terms="card")
    p.gateway_customer_ref = None
    db.session.commit()
    retailer_user = create_user("buyer@example.com", PASSWORD, organization=db.session.get(Organization, rt.id))
    auth.login(retailer_user.email)
    token = csrf_token(client.get("/billing/").get_data(as_text=True))
    response = client.post(f"/billing/partnerships/{p.id}/card", data={"csrf_token": token})
    assert response.status_code == 303 and response.location.startswith(fake_stripe.url + "/_fake/checkout/cs_")
    (session,) = fake_stripe.of_type("checkout.session")
    assert session["mode"] == "setup"
    back = httpx.post(response.location, data={"number": "4242424242424242"})  # the retailer types the card there
    assert back.status_code == 303 and f"/billing/partnerships/{p.id}/card/done" in back.headers["location"]
    customer = fake_stripe.objects[session["customer"]]
    assert customer["invoice_settings"]["default_payment_method"] is None  # Checkout attaches, it does not default
    answers = []
    fake_stripe.deliver(
        lambda body, headers: answers.append(client.post("/webhooks/stripe", data=body, headers=headers))
    )
    assert [a.json["result"] for a in answers] == ["applied"]  # checkout.session.completed
    assert customer["invoice_settings"]["default_payment_method"].startswith("pm_")
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    assert service.bill(p, days_ago(2)).status == "paid"
    assert db.session.get(type(p), p.id).gateway_customer_ref == session["customer"]
    assert service.bill(p, days_ago(2)).total == Decimal("10.00")


def test_the_wholesaler_sets_its_billing_time_and_timezone_and_bad_values_are_refused(app, client, auth):
    user, ws, _, _ = billing_pair(gateway="apruve")
    auth.login(user.email)
    token = csrf_token(client.get("/billing/gateway").get_data(as_text=True))
    ok = {"csrf_token": token, "form": "schedule", "billing_time": "18:30", "timezone": "Europe/Paris"}
    client.post("/billing/gateway", data=ok)
    client.post("/billing/gateway", data={**ok, "timezone": "Mars/Olympus"})
    client.post("/billing/gateway", data={**ok, "billing_time": "25:99"})
    db.session.expire_all()
    org = db.session.get(Organization, ws.id)
    assert (org.billing_time.strftime("%H:%M"), org.timezone) == ("18:30", "Europe/Paris")
