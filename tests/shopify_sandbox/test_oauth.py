"""The sandbox's OAuth: token exchange (expiring offline tokens), refresh rotation, authorization-code grant,
and session tokens that verify like Shopify's (forged or expired ones are refused)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import shopify_app

from fakes.shopify.oauth import query_hmac, verify_session_token

SHOP = "oauth-shop.myshopify.com"
GRAPHQL = "/admin/api/2026-07/graphql.json"


def _token_call(sandbox, body, shop=SHOP):
    return httpx.post(f"{sandbox.base_url}/admin/oauth/access_token", json=body, headers={"Host": shop})


def _creds(app):
    return {"client_id": app.config["SHOPIFY_API_KEY"], "client_secret": app.config["SHOPIFY_API_SECRET"]}


def _exchange(app, sandbox, subject_token, shop=SHOP):
    return _token_call(sandbox, {
        **_creds(app),
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": subject_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        "expiring": 1,
    }, shop)  # fmt: skip


def _shop_name(sandbox, token, shop=SHOP):
    return httpx.post(f"{sandbox.base_url}{GRAPHQL}", json={"query": "{ shop { myshopifyDomain } }"},
                      headers={"Host": shop, "X-Shopify-Access-Token": token})  # fmt: skip


def test_session_token_has_shopify_claims(app, sandbox):
    token = sandbox.session_token(SHOP, user_id=42)
    claims = verify_session_token(token, app.config["SHOPIFY_API_KEY"], app.config["SHOPIFY_API_SECRET"])
    assert claims["iss"] == f"https://{SHOP}/admin" and claims["dest"] == f"https://{SHOP}"
    assert claims["aud"] == app.config["SHOPIFY_API_KEY"] and claims["sub"] == "42"
    assert claims["exp"] - claims["iat"] == 60 and claims["nbf"] == claims["iat"]
    assert claims["jti"] and claims["sid"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_token_exchange_returns_an_expiring_offline_token_that_works(app, sandbox):
    response = _exchange(app, sandbox, sandbox.session_token(SHOP))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope"}
    assert body["expires_in"] == 3600 and body["refresh_token_expires_in"] == 90 * 24 * 3600
    assert _shop_name(sandbox, body["access_token"]).json()["data"]["shop"]["myshopifyDomain"] == SHOP


def test_official_library_token_exchange_works_against_the_sandbox(app, sandbox):
    from integrations.shopify.transport import build_http_client

    session = sandbox.session_token(SHOP)
    claims = jwt.decode(session, options={"verify_signature": False})
    result = shopify_app.token_exchange(
        "offline", {"client_id": app.config["SHOPIFY_API_KEY"], "client_secret": app.config["SHOPIFY_API_SECRET"]},
        id_token={"exchangeable": True, "token": session, "claims": claims}, http_client=build_http_client(app.config),
    )  # fmt: skip
    assert result.ok, result.log
    assert result.access_token.refresh_token and result.access_token.expires


@pytest.mark.parametrize(
    "make",
    [
        lambda sb, app: sb.session_token(SHOP, exp_in=-120),  # expired (beyond the 10 s leeway)
        lambda sb, app: jwt.encode(jwt.decode(sb.session_token(SHOP), options={"verify_signature": False}),
                                   "not-the-secret", algorithm="HS256"),  # forged signature
        lambda sb, app: sb.session_token("someone-else.myshopify.com"),  # another shop's token
        lambda sb, app: "not-a-jwt",
    ],
    ids=["expired", "forged", "other-shop", "garbage"],
)  # fmt: skip
def test_bad_session_tokens_are_refused(app, sandbox, make):
    response = _exchange(app, sandbox, make(sandbox, app))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_subject_token"
    assert not [t for t in sandbox.sandbox.tokens.values() if t.shop == SHOP]


def test_wrong_client_secret_is_refused(app, sandbox):
    response = _token_call(sandbox, {"client_id": app.config["SHOPIFY_API_KEY"], "client_secret": "nope",
                                     "grant_type": "refresh_token", "refresh_token": "x"})  # fmt: skip
    assert response.status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_is_single_use(app, sandbox):
    first = _exchange(app, sandbox, sandbox.session_token(SHOP)).json()
    refreshed = _token_call(sandbox, {**_creds(app), "grant_type": "refresh_token",
                                      "refresh_token": first["refresh_token"]})  # fmt: skip
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["refresh_token"] != first["refresh_token"] and body["expires_in"] == 3600
    assert _shop_name(sandbox, body["access_token"]).status_code == 200
    again = _token_call(
        sandbox, {**_creds(app), "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_expired_access_token_gets_401(app, sandbox):
    token = sandbox.sandbox.issue_token(SHOP, expires_in=3600)
    assert _shop_name(sandbox, token).status_code == 200
    sandbox.sandbox.tokens[token].expires_at = time.time() - 1
    assert _shop_name(sandbox, token).status_code == 401


def test_authorization_code_grant_redirects_signed_and_code_is_single_use(app, sandbox):
    redirect = "http://localhost:5000/shopify/auth/callback"
    response = httpx.get(
        f"{sandbox.base_url}/admin/oauth/authorize",
        params={"client_id": app.config["SHOPIFY_API_KEY"], "scope": "read_products", "redirect_uri": redirect,
                "state": "nonce-1"},
        headers={"Host": SHOP},
    )  # fmt: skip
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP and params["state"] == "nonce-1"
    assert params["hmac"] == query_hmac(params, app.config["SHOPIFY_API_SECRET"])
    granted = _token_call(sandbox, {**_creds(app), "code": params["code"]})
    assert granted.status_code == 200 and granted.json()["scope"] == "read_products"
    assert _shop_name(sandbox, granted.json()["access_token"]).status_code == 200
    assert _token_call(sandbox, {**_creds(app), "code": params["code"]}).status_code == 400


def test_query_hmac_matches_shopifys_published_vectors():
    vector = {"code": "0907a61c0c8d55e99db179b68161bc00", "shop": "some-shop.myshopify.com",
              "state": "0.6784241404160823", "timestamp": "1337178173"}  # fmt: skip
    assert query_hmac(vector, "hush") == "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"


def test_uninstall_revokes_tokens_and_announces_app_uninstalled(app, sandbox):
    token = sandbox.add_shop(SHOP)
    sandbox.sandbox.uninstall(SHOP)
    assert _shop_name(sandbox, token).status_code == 401
    captured = []
    sandbox.sandbox.outbox.sink = lambda url, headers, body: captured.append(headers["X-Shopify-Topic"]) or 200
    sandbox.deliver_webhooks()
    assert captured == ["app/uninstalled"]
