"""Expiring offline tokens are refreshed before they expire; a refresh Shopify refuses asks the merchant to reopen."""

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from integrations.shopify.auth import REFRESH_MARGIN, ShopifyAuthError
from portal.extensions import db
from portal.models import Connection, utcnow
from portal.services.connections import fresh_access_token
from tests.support import factories


class TokenEndpoint:
    """Shopify's /admin/oauth/access_token for refresh and token exchange, recorded; `refuse` makes it answer 400."""

    def __init__(self):
        self.calls, self.refuse, self.n = [], False, 0

    def __call__(self, request: httpx.Request):
        body = json.loads(request.content)
        self.calls.append((request.url.host, body))
        if self.refuse:
            return httpx.Response(400, json={"error": "invalid_grant"})
        self.n += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"shpat_new_{self.n}",
                "scope": "read_products",
                "expires_in": 3600,
                "refresh_token": f"shprt_new_{self.n}",
                "refresh_token_expires_in": 7776000,
            },
        )


@pytest.fixture
def endpoint(app):
    ep = TokenEndpoint()
    app.config["SHOPIFY_HTTP_TRANSPORT"] = httpx.MockTransport(ep)
    return ep


def _store(expires_in: timedelta):
    _u, _ws, _sor, _rt, store, _p = factories.trading_pair()
    store.access_token, store.refresh_token = "shpat_old", "shprt_old"
    store.token_expires_at = utcnow() + expires_in
    store.refresh_token_expires_at = utcnow() + timedelta(days=80)
    db.session.commit()
    return store


def test_a_token_expiring_within_the_margin_is_refreshed_first(app, endpoint):
    store = _store(REFRESH_MARGIN - timedelta(seconds=30))
    assert fresh_access_token(store) == "shpat_new_1"
    host, body = endpoint.calls[0]
    assert host == store.address
    assert body["grant_type"] == "refresh_token" and body["refresh_token"] == "shprt_old"
    assert body["client_id"] == app.config["SHOPIFY_API_KEY"]
    db.session.expire_all()
    conn = db.session.get(Connection, store.id)
    assert (conn.access_token, conn.refresh_token) == ("shpat_new_1", "shprt_new_1")
    assert conn.token_expires_at > utcnow() + timedelta(minutes=55)
    raw = db.session.execute(text("SELECT access_token FROM connection WHERE id = :i"), {"i": store.id}).scalar_one()
    assert "shpat_new_1" not in raw


def test_a_token_with_time_left_is_used_as_is(app, endpoint):
    store = _store(timedelta(minutes=50))
    assert fresh_access_token(store) == "shpat_old"
    assert endpoint.calls == []


def test_the_single_use_refresh_token_is_spent_once_for_two_callers(app, endpoint):
    store = _store(timedelta(seconds=30))
    first = fresh_access_token(store)
    again = fresh_access_token(db.session.get(Connection, store.id))
    assert first == again == "shpat_new_1" and len(endpoint.calls) == 1


def test_a_refused_refresh_marks_the_connection_needs_reauth(app, endpoint):
    store = _store(timedelta(seconds=30))
    endpoint.refuse = True
    with pytest.raises(ShopifyAuthError, match="Open the Wholesync app"):
        fresh_access_token(store)
    db.session.expire_all()
    assert db.session.get(Connection, store.id).status == "needs_reauth"


def test_needs_reauth_blocks_embedded_fetches_until_the_app_is_reopened(app, client, endpoint, token_for):
    store = _store(timedelta(seconds=30))
    endpoint.refuse = True
    with pytest.raises(ShopifyAuthError):
        fresh_access_token(store)
    bearer = {"Authorization": f"Bearer {token_for(store.address)}"}
    resp = client.get("/shopify/orders", headers=bearer)
    assert resp.status_code == 401 and "Reopen" in resp.get_data(as_text=True)
    # Reopening the app is a document load with an id_token: token exchange gives a new token and it works again.
    endpoint.refuse = False
    home = client.get(f"/shopify?shop={store.address}&id_token={token_for(store.address)}")
    assert home.status_code == 200
    grant = endpoint.calls[-1][1]
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert grant["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert grant["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert grant["expiring"] == 1
    db.session.expire_all()
    assert db.session.get(Connection, store.id).status == "active"
    assert client.get("/shopify/orders", headers=bearer).status_code == 200
