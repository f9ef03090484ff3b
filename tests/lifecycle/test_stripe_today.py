"""Stripe as the pinned API version defines it: the fake refuses parameters that version does not define (with
Stripe's error shape), the card setup sends only defined ones, and a gateway refusal is a message, not a 500."""

import httpx
import stripe

from fakes.stripe.params import ParamError, check
from portal.extensions import db
from portal.models import Organization
from portal.services.accounts import create_user
from tests.billing.helpers import billing_pair
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def _client(fake) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_fake", base_addresses={"api": fake.url}, max_network_retries=0)


def test_the_fake_refuses_payment_method_types_on_checkout_with_stripes_400_parameter_unknown(app, fake_stripe):
    customer = fake_stripe.seed_customer()
    form = {
        "mode": "setup", "customer": customer, "currency": "usd", "success_url": "https://x/ok",
        "cancel_url": "https://x/no", "payment_method_types[0]": "card",
    }  # fmt: skip
    response = httpx.post(f"{fake_stripe.url}/v1/checkout/sessions", data=form, headers={"Authorization": "Bearer x"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "param": "payment_method_types",
        "message": "Received unknown parameter: payment_method_types",
        "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
    }
    assert fake_stripe.of_type("checkout.session") == []


def test_the_sdk_sees_the_refusal_as_an_invalid_request_naming_the_parameter(app, fake_stripe):
    customer = fake_stripe.seed_customer()
    try:
        _client(fake_stripe).v1.customers.update(customer, params={"invoice_settings": {"no_such_field": "x"}})
    except stripe.InvalidRequestError as exc:
        assert exc.code == "parameter_unknown" and exc.param == "invoice_settings[no_such_field]"
    else:
        raise AssertionError("an unknown nested parameter was accepted")


def test_nested_lists_of_objects_are_checked_item_by_item():
    import stripe.params.checkout as types

    good = {"mode": "payment", "line_items": {"0": {"price": "price_1", "quantity": "1"}}}
    check(types.SessionCreateParams, good)
    bad = {"mode": "payment", "line_items": {"0": {"price": "price_1", "colour": "red"}}}
    try:
        check(types.SessionCreateParams, bad)
    except ParamError as err:
        assert (err.code, err.param) == ("parameter_unknown", "line_items[0][colour]")
    else:
        raise AssertionError("an unknown parameter inside a list item was accepted")


def test_a_required_parameter_left_out_is_refused_as_parameter_missing():
    import stripe.params.checkout as types

    try:
        check(types.SessionCreateParams, {"mode": "payment", "automatic_tax": {"liability": {"type": "self"}}})
    except ParamError as err:
        assert (err.code, err.param) == ("parameter_missing", "automatic_tax[enabled]")
    else:
        raise AssertionError("a missing required parameter was accepted")


def _retailer_clicks_add_card(client, auth, p, rt):
    user = create_user("buyer@example.com", PASSWORD, organization=db.session.get(Organization, rt.id))
    auth.login(user.email)
    token = csrf_token(client.get("/billing/").get_data(as_text=True))
    return client.post(f"/billing/partnerships/{p.id}/card", data={"csrf_token": token})


def test_card_setup_opens_checkout_with_only_parameters_the_pinned_version_defines(app, client, auth, fake_stripe):
    _, _, rt, p = billing_pair(fake_stripe, terms="card")
    response = _retailer_clicks_add_card(client, auth, p, rt)
    assert response.status_code == 303 and "/_fake/checkout/cs_" in response.location
    (session,) = fake_stripe.of_type("checkout.session")
    assert session["mode"] == "setup" and session["customer"] == p.gateway_customer_ref


def test_a_gateway_refusal_during_card_setup_is_shown_to_the_retailer_not_a_500(app, client, auth, fake_stripe):
    _, _, rt, p = billing_pair(fake_stripe, terms="card")
    fake_stripe.inject("POST", r"/v1/checkout/sessions", "500", times=5)
    response = _retailer_clicks_add_card(client, auth, p, rt)
    assert response.status_code == 302 and response.location.endswith("/billing/")
    page = client.get("/billing/").get_data(as_text=True)
    assert "The card page could not be opened" in page
