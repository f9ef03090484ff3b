"""The wholesaler's "Connect your Shopify store": every forged or mismatched callback is refused, nothing stored."""

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import func, select, text

from integrations.shopify.webhooks import query_hmac
from portal.extensions import db
from portal.models import Connection
from tests.support import factories

SHOP = "ws-store.myshopify.com"


@pytest.fixture
def token_endpoint(app):
    """Shopify's token endpoint, recorded; answers an expiring offline token with the requested scopes."""
    calls = []

    def handler(request: httpx.Request):
        calls.append(request)
        return httpx.Response(
            200,
            json={
                "access_token": "shpat_wholesaler_secret",
                "scope": app.config["SHOPIFY_SCOPES"],
                "expires_in": 3600,
                "refresh_token": "shprt_w",
                "refresh_token_expires_in": 7776000,
            },
        )

    app.config["SHOPIFY_HTTP_TRANSPORT"] = httpx.MockTransport(handler)
    return calls


@pytest.fixture
def started(app, client, auth):
    """A signed-in wholesaler who pressed Connect for SHOP: returns the state Shopify will echo back."""
    user = factories.wholesaler()
    auth.login(user.email)
    resp = client.get(f"/shopify/auth?shop={SHOP}")
    assert resp.status_code == 302
    grant = urlparse(resp.headers["Location"])
    assert (grant.scheme, grant.netloc, grant.path) == ("https", SHOP, "/admin/oauth/authorize")
    query = parse_qs(grant.query)
    assert query["client_id"] == [app.config["SHOPIFY_API_KEY"]]
    assert query["redirect_uri"][0].endswith("/shopify/auth/callback")
    assert "grant_options[]" not in query  # offline token
    return query["state"][0]


def _signed(app, **params):
    params.setdefault("code", "0907a61c0c8d55e99db179b68161bc00")
    params.setdefault("shop", SHOP)
    params.setdefault("timestamp", str(int(time.time())))
    params.setdefault("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvd3Mtc3RvcmU")
    params["hmac"] = query_hmac(params, app.config["SHOPIFY_API_SECRET"])
    return params


def _connections():
    return db.session.execute(select(func.count()).select_from(Connection)).scalar_one()


def test_a_good_callback_stores_the_connection_with_the_token_encrypted(app, client, started, token_endpoint):
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state=started))
    assert resp.status_code == 302
    conn = db.session.execute(select(Connection)).scalar_one()
    assert (conn.address, conn.role, conn.status) == (SHOP, "system_of_record", "active")
    assert conn.access_token == "shpat_wholesaler_secret" and conn.token_expires_at is not None
    raw = db.session.execute(text("SELECT access_token, refresh_token FROM connection")).one()
    assert "shpat_wholesaler_secret" not in raw[0] and "shprt_w" not in raw[1]
    sent = parse_qs(token_endpoint[0].content.decode())
    assert sent["code"] == ["0907a61c0c8d55e99db179b68161bc00"] and sent["expiring"] == ["1"]
    assert token_endpoint[0].url.host == SHOP


def test_a_bad_hmac_is_refused_and_nothing_is_stored(app, client, started, token_endpoint):
    params = _signed(app, state=started)
    params["hmac"] = "0" * 64
    resp = client.get("/shopify/auth/callback", query_string=params)
    assert resp.status_code == 403 and "signature" in resp.get_data(as_text=True)
    assert _connections() == 0 and token_endpoint == []


def test_a_missing_state_is_refused(app, client, started, token_endpoint):
    resp = client.get("/shopify/auth/callback", query_string=_signed(app))
    assert resp.status_code == 403 and "state" in resp.get_data(as_text=True)
    assert _connections() == 0 and token_endpoint == []


def test_a_wrong_state_is_refused(app, client, started, token_endpoint):
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state="guessed-nonce"))
    assert resp.status_code == 403
    assert _connections() == 0 and token_endpoint == []


def test_a_callback_without_the_state_cookie_is_refused(app, client, started, token_endpoint):
    client.delete_cookie("shopify_oauth_state", path="/shopify/auth")
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state=started))
    assert resp.status_code == 403
    assert _connections() == 0 and token_endpoint == []


def test_a_callback_for_another_shop_is_refused(app, client, started, token_endpoint):
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state=started, shop="other.myshopify.com"))
    assert resp.status_code == 403 and "different shop" in resp.get_data(as_text=True)
    assert _connections() == 0 and token_endpoint == []


@pytest.mark.parametrize("shop", ["evil.example.com", "x.myshopify.com.evil.com", "-bad.myshopify.com", ""])
def test_a_shop_that_is_not_a_myshopify_domain_is_a_400(app, client, started, token_endpoint, shop):
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state=started, shop=shop))
    assert resp.status_code == 400
    assert _connections() == 0 and token_endpoint == []


def test_starting_with_a_bad_shop_is_a_400(client, auth):
    auth.login(factories.wholesaler().email)
    assert client.get("/shopify/auth?shop=evil.com").status_code == 400


def test_an_old_callback_is_refused(app, client, started, token_endpoint):
    old = str(int(time.time()) - 3 * 24 * 3600)
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state=started, timestamp=old))
    assert resp.status_code == 403
    assert _connections() == 0


def test_fewer_scopes_than_needed_are_refused_and_nothing_is_stored(app, client, started):
    app.config["SHOPIFY_HTTP_TRANSPORT"] = httpx.MockTransport(
        lambda r: httpx.Response(200, json={"access_token": "shpat_x", "scope": "read_products"})
    )
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state=started))
    assert resp.status_code == 403 and "fewer permissions" in resp.get_data(as_text=True)
    assert _connections() == 0


def test_the_callback_needs_the_wholesaler_signed_in(app, client):
    resp = client.get("/shopify/auth/callback", query_string=_signed(app, state="x"))
    assert resp.status_code in (302, 401)
    assert _connections() == 0


def test_the_connect_page_sends_the_shop_to_the_grant_flow(app, client, auth):
    user = factories.wholesaler()
    factories.connection(user.organization, "system_of_record", "mine.myshopify.com")
    factories.connection(factories.wholesaler().organization, "system_of_record", "theirs.myshopify.com")
    auth.login(user.email)
    html = client.get("/shopify/connect").get_data(as_text=True)
    assert 'action="/shopify/auth"' in html and 'name="shop"' in html
    assert "mine.myshopify.com" in html and "theirs.myshopify.com" not in html


def test_the_connect_page_needs_a_signed_in_wholesaler(client):
    assert client.get("/shopify/connect").status_code == 302
