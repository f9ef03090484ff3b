"""Shopify auth for Wholesync: session tokens, token exchange, expiring-token refresh, the authorization-code grant.

Embedded (retailer) side uses `shopifyapp` (verify_app_home_req, token_exchange, refresh_access_token); the
standalone wholesaler dashboard uses the authorization-code grant with our own query-HMAC check. The app's settings
(`config`, a mapping with the SHOPIFY_* keys) and the current time (`now`, aware UTC) are passed in by the caller.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlparse

import httpx
import shopify_app

from integrations.shopify.transport import build_http_client
from integrations.shopify.webhooks import verify_query_hmac
from integrations.timeutil import format_iso, parse_iso

# The shop-domain check Shopify documents for OAuth callbacks (shopify.dev, "Implement authorization code grant").
SHOP_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$")
# Refresh this long before the access token's expiry, so no job ever starts with a token about to die.
REFRESH_MARGIN = timedelta(minutes=5)
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"


class ShopifyAuthError(Exception):
    """An auth step that failed; `status` is what the HTTP answer should be, `message` what to show."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def valid_shop(shop: str | None) -> str | None:
    """The shop domain, lowercased, if it is a `*.myshopify.com` host; None otherwise."""
    if not shop or not SHOP_RE.match(shop):
        return None
    return shop.lower()


def app_config(cfg: Mapping) -> dict:
    """The `shopifyapp` AppConfig from the app's settings."""
    return {
        "client_id": cfg["SHOPIFY_API_KEY"],
        "client_secret": cfg["SHOPIFY_API_SECRET"],
        "old_client_secret": cfg.get("SHOPIFY_API_SECRET_OLD") or None,
    }


def http_client(cfg: Mapping) -> httpx.Client:
    """The httpx client for OAuth calls: the shared Shopify transport (config-injected base URL or transport)."""
    return build_http_client(cfg, timeout=10)


# --- Session tokens (embedded app) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of checking an embedded request: `ok`, the shop domain, claims, and the response to send."""

    ok: bool
    shop: str | None
    claims: dict | None
    status: int
    headers: dict
    body: str
    id_token: object | None = None


def _host(url: str | None) -> str | None:
    return urlparse(url or "").hostname


def check_session_request(cfg: Mapping, url: str, headers: dict, patch_path: str) -> SessionCheck:
    """Verify an App Home request (document load with `id_token`, or fetch with `Authorization: Bearer`).

    `shopifyapp.verify_app_home_req` checks the HS256 signature, exp/nbf (10 s leeway) and aud; on top of it we
    require the claims Shopify always sends (exp, nbf, iss, dest) and that iss and dest name the same
    `*.myshopify.com` shop, as Shopify's manual-validation steps say.
    """
    result = shopify_app.verify_app_home_req(
        {"method": "GET", "url": url, "headers": headers, "body": ""}, app_config(cfg), patch_path
    )
    res = result.response
    if not result.ok:
        return SessionCheck(False, None, None, res.status, dict(res.headers), res.body)
    claims = result.id_token.claims
    shop = valid_shop(_host(claims.get("dest")))
    fetch = any(k.lower() == "authorization" for k in headers)
    same_shop = shop is not None and _host(claims.get("iss")) == shop and str(claims.get("iss", "")).endswith("/admin")
    if not same_shop or "exp" not in claims or "nbf" not in claims:
        return SessionCheck(False, None, None, 401, {RETRY_HEADER: "1"} if fetch else {}, "Unauthorized")
    return SessionCheck(True, shop, claims, 200, dict(res.headers), "", result.id_token)


# --- Tokens: exchange, refresh ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    """An access token with its expiry, refresh token and granted scopes, as we store them on a Connection."""

    access_token: str
    scope: str
    expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None


def _tokens_from_lib(token) -> Tokens:
    return Tokens(
        token.token,
        token.scope or "",
        parse_iso(token.expires),
        token.refresh_token,
        parse_iso(token.refresh_token_expires),
    )


def _tokens_from_response(data: dict, now: datetime) -> Tokens:
    exp, rexp = data.get("expires_in"), data.get("refresh_token_expires_in")
    return Tokens(
        data["access_token"],
        data.get("scope", ""),
        now + timedelta(seconds=exp) if exp else None,
        data.get("refresh_token"),
        now + timedelta(seconds=rexp) if rexp else None,
    )


def exchange_id_token(cfg: Mapping, check: SessionCheck) -> Tokens:
    """Token exchange: a verified session token for an expiring offline access token (shopifyapp)."""
    with http_client(cfg) as client:
        result = shopify_app.token_exchange(
            "offline", app_config(cfg), id_token=check.id_token, expiring=True, http_client=client
        )
    if not result.ok or result.access_token is None:
        raise ShopifyAuthError(f"Shopify refused the token exchange ({result.log.code}).", 401)
    return _tokens_from_lib(result.access_token)


def refresh(
    cfg: Mapping, shop: str, refresh_token: str, refresh_token_expires_at: datetime | None, *, now: datetime
) -> Tokens:
    """Trade a (single-use) refresh token for a new access + refresh token pair (shopifyapp)."""
    token = {
        "shop": shop.removesuffix(".myshopify.com"),
        "refresh_token": refresh_token,
        # We decide when to refresh (REFRESH_MARGIN); the library refreshes only tokens it believes are expiring.
        "expires": format_iso(now),
        "refresh_token_expires": format_iso(refresh_token_expires_at) if refresh_token_expires_at else None,
        "access_mode": "offline",
    }
    with http_client(cfg) as client:
        result = shopify_app.refresh_access_token(token, app_config(cfg), client)
    if not result.ok or result.access_token is None:
        raise ShopifyAuthError(f"Shopify refused the token refresh ({result.log.code}).", 401)
    return _tokens_from_lib(result.access_token)


def needs_refresh(expires_at: datetime | None, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
    """True when an expiring token is within `margin` of its expiry at `now` (non-expiring tokens never are)."""
    return expires_at is not None and expires_at - now <= margin


# --- Authorization-code grant (standalone wholesaler dashboard) ---------------------------------------------------


def new_state() -> str:
    """A per-request random nonce for the `state` parameter."""
    return secrets.token_urlsafe(24)


def authorize_url(cfg: Mapping, shop: str, redirect_uri: str, state: str) -> str:
    """Shopify's grant screen for `shop` (offline access: no `grant_options[]`)."""
    query = urlencode(
        {
            "client_id": cfg["SHOPIFY_API_KEY"],
            "scope": cfg["SHOPIFY_SCOPES"],
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"https://{shop}/admin/oauth/authorize?{query}"


def verify_callback(
    cfg: Mapping, params: dict, expected_state: str | None, expected_shop: str | None, *, now: datetime
) -> str:
    """Check an authorization-code callback; returns the shop or raises ShopifyAuthError (400/403).

    Order matters for the message only: every check must pass before anything is stored.
    """
    shop = valid_shop(params.get("shop"))
    if shop is None:
        raise ShopifyAuthError("The shop in the callback is not a valid *.myshopify.com domain.", 400)
    if not verify_query_hmac(params, (cfg["SHOPIFY_API_SECRET"], cfg.get("SHOPIFY_API_SECRET_OLD"))):
        raise ShopifyAuthError("The callback's signature (hmac) is not valid; it did not come from Shopify.", 403)
    try:
        age = abs(now.timestamp() - int(params.get("timestamp", "0")))
    except ValueError:
        age = float("inf")
    if age > cfg.get("SHOPIFY_HMAC_MAX_AGE_SECONDS", 24 * 3600):
        raise ShopifyAuthError("The callback is too old; start the connection again.", 403)
    if not expected_state or not secrets.compare_digest(str(params.get("state", "")), expected_state):
        raise ShopifyAuthError("The state of this callback does not match the connection you started.", 403)
    if shop != expected_shop:
        raise ShopifyAuthError("The callback is for a different shop than the one you asked to connect.", 403)
    return shop


def _implied(scopes: set[str]) -> set[str]:
    """Shopify lists `write_x` without the `read_x` it implies; expand so the check compares like with like."""
    return scopes | {"read_" + s.removeprefix("write_") for s in scopes if s.startswith("write_")}


def missing_scopes(granted: str, required: str) -> set[str]:
    """The required scopes the granted scope string does not cover."""
    need = {s.strip() for s in required.split(",") if s.strip()}
    have = _implied({s.strip() for s in granted.split(",") if s.strip()})
    return need - have


def exchange_code(cfg: Mapping, shop: str, code: str, *, now: datetime) -> Tokens:
    """POST the authorization code to `https://{shop}/admin/oauth/access_token` for an expiring offline token."""
    data = {
        "client_id": cfg["SHOPIFY_API_KEY"],
        "client_secret": cfg["SHOPIFY_API_SECRET"],
        "code": code,
        "expiring": "1",
    }
    try:
        with http_client(cfg) as client:
            resp = client.post(
                f"https://{shop}/admin/oauth/access_token", data=data, headers={"Accept": "application/json"}
            )
    except httpx.HTTPError as exc:
        why = type(exc).__name__
        raise ShopifyAuthError(f"Could not reach Shopify to finish the connection ({why}).", 502) from exc
    if resp.status_code != 200:
        raise ShopifyAuthError(f"Shopify refused the authorization code (HTTP {resp.status_code}).", 403)
    tokens = _tokens_from_response(resp.json(), now)
    missing = missing_scopes(tokens.scope, cfg["SHOPIFY_SCOPES"])
    if missing:
        needed = ", ".join(sorted(missing))
        raise ShopifyAuthError(f"Shopify granted fewer permissions than Wholesync needs: {needed}", 403)
    return tokens
