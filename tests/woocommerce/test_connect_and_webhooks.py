"""Connecting a WooCommerce shop (pasted keys checked by a call; WooCommerce's application authentication with our
signed single-use state), the webhooks we create, the signed webhook endpoint, the retailer sign-up by invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, text

from integrations.woocommerce.auth import InvalidSite, normalize_site
from integrations.woocommerce.webhooks import signature
from jobs.webhook_jobs import process_receipt
from portal.extensions import db
from portal.models import Connection, Organization, Partnership, SyncRun, WebhookReceipt
from tests.support import factories
from tests.support.factories import PASSWORD
from tests.woocommerce.conftest import woo_connection, woo_shop


def _login_wholesaler(auth):
    user = factories.wholesaler(name="Acme Wholesale")
    auth.login(user.email)
    return user


def _post_connect(auth, **data):
    token = auth.token("/woocommerce/connect")
    return auth.client.post("/woocommerce/connect", data={"csrf_token": token, **data})


def test_pasted_keys_are_checked_stored_encrypted_and_our_webhooks_created(app, auth, woo):
    user = _login_wholesaler(auth)
    site, key = woo_shop(woo, "acme")
    answer = _post_connect(auth, site=site + "/", method="keys", consumer_key=key.consumer_key,
                           consumer_secret=key.consumer_secret)  # fmt: skip
    assert answer.status_code == 302
    conn = db.session.execute(select(Connection)).scalar_one()
    assert (conn.platform, conn.role, conn.address) == ("woocommerce", "system_of_record", site)
    assert (conn.api_key, conn.access_token) == (key.consumer_key, key.consumer_secret)
    stored = db.session.execute(text("SELECT access_token, api_key FROM connection")).mappings().one()
    assert key.consumer_secret not in (stored["access_token"] or "") and key.consumer_key not in stored["api_key"]
    hooks = list(woo.store("acme").webhooks.values())
    assert {h["topic"] for h in hooks} == {"product.created", "product.updated", "product.deleted", "order.updated"}
    assert all(h["delivery_url"].endswith(f"/webhooks/woocommerce/{conn.id}") for h in hooks)
    assert {h["secret"] for h in hooks} == {conn.webhook_secret}
    assert conn.organization_id == user.organization_id


def test_a_wrong_secret_is_refused_and_nothing_is_stored(app, auth, woo):
    _login_wholesaler(auth)
    site, key = woo_shop(woo, "acme")
    answer = _post_connect(auth, site=site, method="keys", consumer_key=key.consumer_key, consumer_secret="cs_wrong")
    assert answer.status_code == 400 and b"refused these keys" in answer.data
    assert db.session.execute(select(func.count()).select_from(Connection)).scalar_one() == 0


def test_application_authentication_posts_the_keys_to_our_callback_once(app, auth, woo):
    _login_wholesaler(auth)
    site, _key = woo_shop(woo, "acme")
    woo.allow_http_callbacks = True  # the test app is served over plain http

    def send(url, headers, body):  # WooCommerce's server-to-server POST, into the app
        return auth.client.post(urlsplit(url).path, data=body, headers=headers).status_code

    woo.send = send
    answer = _post_connect(auth, site=site, method="authorize")
    location = answer.headers["Location"]
    assert location.startswith(f"{site}/wc-auth/v1/authorize?") and "scope=read_write" in location
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(location).text
        approve = page.split('href="')[1].split('"')[0].replace("&amp;", "&")
        back = browser.get(approve)
    assert back.status_code == 302 and "success=1" in back.headers["Location"]
    conn = db.session.execute(select(Connection)).scalar_one()
    assert conn.platform == "woocommerce" and conn.api_key.startswith("ck_")
    replay = auth.client.post("/woocommerce/callback", data=woo.deliveries[-1].body,
                              headers={"Content-Type": "application/json"})  # fmt: skip
    assert replay.status_code == 400  # the state is single use
    forged = auth.client.post("/woocommerce/callback", json={"consumer_key": "ck_x", "consumer_secret": "cs_x",
                                                             "user_id": "someone-else"})  # fmt: skip
    assert forged.status_code == 400


def _webhook_world(woo):
    user = factories.wholesaler(name="Acme Wholesale")
    retailer = factories.retailer()
    factories.partnership(user.organization, retailer)
    site, key = woo_shop(woo, "corner")
    return woo_connection(retailer, "store", site, key)


def _deliver(client, conn, body: bytes, topic="order.created", delivery="d1", secret=None):
    headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Delivery-ID": delivery, "Content-Type": "application/json",
               "X-WC-Webhook-Signature": signature(body, secret or conn.webhook_secret)}  # fmt: skip
    return client.post(f"/webhooks/woocommerce/{conn.id}", data=body, headers=headers)


def test_a_signed_order_webhook_is_recorded_once_and_requests_the_stores_order_pull(app, client, woo):
    conn = _webhook_world(woo)
    body = b'{"id":1,"status":"processing"}'
    assert _deliver(client, conn, body).status_code == 200
    assert _deliver(client, conn, body).status_code == 200  # the same delivery again
    receipts = db.session.execute(select(WebhookReceipt)).scalars().all()
    assert len(receipts) == 1 and receipts[0].topic == "woocommerce/order.created"
    result = process_receipt(receipts[0].id)
    run = db.session.get(SyncRun, result["sync_run_id"])
    assert (run.job_name, run.target_key) == ("orders.pull", f"connection:{conn.id}")


def test_a_bad_signature_is_refused_with_401_and_nothing_stored(app, client, woo):
    conn = _webhook_world(woo)
    assert _deliver(client, conn, b'{"id":1}', secret="not-the-secret").status_code == 401
    assert db.session.execute(select(func.count()).select_from(WebhookReceipt)).scalar_one() == 0


def test_the_unsigned_creation_ping_gets_200(app, client, woo):
    conn = _webhook_world(woo)
    answer = client.post(f"/webhooks/woocommerce/{conn.id}", data=b"webhook_id=3",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 200
    assert db.session.execute(select(func.count()).select_from(WebhookReceipt)).scalar_one() == 0


def test_a_retailer_signs_up_with_an_invitation_code_and_is_sent_to_connect_its_shop(app, client, auth):
    wholesaler = factories.wholesaler(name="Acme Wholesale")
    invited = Partnership(wholesaler_id=wholesaler.organization_id, status="invited", invite_code="JOIN-ACME-1")
    db.session.add(invited)
    db.session.commit()
    token = auth.token("/retailers/signup")
    answer = client.post("/retailers/signup", data={"csrf_token": token, "invite_code": "JOIN-ACME-1",
                                                    "organization": "Corner Store", "email": "owner@corner.example",
                                                    "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/woocommerce/connect")
    retailer = db.session.execute(select(Organization).where(Organization.kind == "retailer")).scalar_one()
    db.session.refresh(invited)
    assert (invited.status, invited.retailer_id) == ("active", retailer.id)


def test_a_wrong_invitation_code_creates_no_account(app, client, auth):
    token = auth.token("/retailers/signup")
    answer = client.post("/retailers/signup", data={"csrf_token": token, "invite_code": "NOPE",
                                                    "organization": "Corner Store", "email": "owner@corner.example",
                                                    "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 400
    assert db.session.execute(select(func.count()).select_from(Organization)).scalar_one() == 0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("shop.example.com", "https://shop.example.com"),
        ("https://bücher.example/wp-json/", "https://xn--bcher-kva.example"),
        ("http://[::1]:8080/shop", "http://[::1]:8080/shop"),
    ],
)
def test_a_shop_address_is_stored_with_its_ascii_host(typed, stored):
    assert normalize_site(typed) == stored


@pytest.mark.parametrize(
    "typed", ["\u210c" * 300, "exa mple.com", "a..b", "http://host:99999", "-bad.com", "x\x00y.com"]
)
def test_a_shop_address_that_is_no_host_name_is_refused_with_the_example(typed):
    with pytest.raises(InvalidSite, match="Enter the shop's address"):
        normalize_site(typed)
