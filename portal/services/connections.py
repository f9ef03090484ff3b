"""Platform connections as Wholesync rows: Shopify installs and uninstalls, tokens kept fresh.

Tokens are stored encrypted (Connection.access_token / refresh_token are EncryptedText). Refresh tokens are
single use, so a refresh holds a per-connection Redis lock and re-reads the row before spending one.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from integrations.shopify import auth
from portal.extensions import db
from portal.models import Connection, Organization, Partnership, utcnow
from portal.redis_conn import get_redis

REFRESH_LOCK = "wholesync:shopify-refresh:{}"


def shop_connections(shop: str) -> list[Connection]:
    """Every Shopify connection for a shop domain (a shop is one retailer store or one wholesaler's system)."""
    return list(
        db.session.execute(
            select(Connection).where(Connection.platform == "shopify", Connection.address == shop.lower())
        ).scalars()
    )


def store_connection(shop: str) -> Connection | None:
    """The retailer store connection for a shop domain, if the app is installed there."""
    for conn in shop_connections(shop):
        if conn.role == "store":
            return conn
    return None


def store_tokens(conn: Connection, tokens: auth.Tokens) -> None:
    """Put a token set on a connection and mark it usable."""
    conn.access_token = tokens.access_token
    conn.refresh_token = tokens.refresh_token
    conn.token_expires_at = tokens.expires_at
    conn.refresh_token_expires_at = tokens.refresh_token_expires_at
    conn.scopes = tokens.scope
    conn.status = "active"
    conn.uninstalled_at = None


def install_store(shop: str, tokens: auth.Tokens) -> Connection:
    """First visit creates the retailer Organization and its store Connection; later visits renew the tokens."""
    conn = store_connection(shop)
    if conn is None:
        org = Organization(kind="retailer", name=shop.removesuffix(".myshopify.com"))
        db.session.add(org)
        db.session.flush()
        conn = Connection(organization_id=org.id, platform="shopify", role="store", address=shop.lower())
        db.session.add(conn)
    store_tokens(conn, tokens)
    conn.installed_at = conn.installed_at or utcnow()
    db.session.commit()
    return conn


def usable(conn: Connection | None) -> bool:
    """An active connection whose access token is not expired (refreshing is fresh_access_token's job)."""
    if conn is None or conn.status != "active" or not conn.access_token:
        return False
    return conn.token_expires_at is None or conn.token_expires_at > utcnow()


def fresh_access_token(conn: Connection, margin: timedelta = auth.REFRESH_MARGIN) -> str:
    """The connection's access token, refreshed first when it expires within `margin` (REFRESH_MARGIN).

    A failed refresh sets the connection to `needs_reauth` (the merchant reopens the app, which runs token
    exchange again) and raises ShopifyAuthError.
    """
    fresh = not auth.needs_refresh(conn.token_expires_at, utcnow(), margin)
    if fresh and conn.status == "active" and conn.access_token:
        return conn.access_token
    lock = get_redis().lock(REFRESH_LOCK.format(conn.id), timeout=60, blocking_timeout=30)
    with lock:
        db.session.refresh(conn)  # another worker may have refreshed while we waited; its refresh token is now ours
        if conn.status != "active" or not conn.access_token:
            raise auth.ShopifyAuthError(f"{conn.address} must be reconnected ({conn.status}).", 401)
        if not auth.needs_refresh(conn.token_expires_at, utcnow(), margin):
            return conn.access_token
        if not conn.refresh_token:
            return _needs_reauth(conn, "the token expired and there is no refresh token")
        try:
            tokens = auth.refresh(
                current_app.config, conn.address, conn.refresh_token, conn.refresh_token_expires_at, now=utcnow()
            )
        except auth.ShopifyAuthError as exc:
            return _needs_reauth(conn, exc.message)
        store_tokens(conn, tokens)
        db.session.commit()
        current_app.logger.info("refreshed the Shopify token of connection %s", conn.id)
        return conn.access_token


def _needs_reauth(conn: Connection, why: str) -> str:
    conn.status = "needs_reauth"
    db.session.commit()
    raise auth.ShopifyAuthError(
        f"Wholesync lost access to {conn.address} ({why}). Open the Wholesync app in the Shopify admin again.",
        401,
    )


def uninstall(shop: str) -> list[int]:
    """app/uninstalled: forget the shop's tokens, mark its connections uninstalled and pause its partnerships."""
    paused = []
    for conn in shop_connections(shop):
        conn.access_token = conn.refresh_token = None
        conn.token_expires_at = conn.refresh_token_expires_at = None
        conn.status, conn.uninstalled_at = "uninstalled", utcnow()
        side = Partnership.retailer_id if conn.role == "store" else Partnership.wholesaler_id
        for p in db.session.execute(
            select(Partnership).where(side == conn.organization_id, Partnership.status == "active")
        ).scalars():
            p.status = "paused"
            paused.append(p.id)
    db.session.commit()
    return paused


def connect_wholesaler_shop(org_id: int, shop: str, tokens: auth.Tokens) -> Connection:
    """The wholesaler's Shopify store as its system of record (authorization-code grant finished)."""
    existing = shop_connections(shop)
    foreign = [c for c in existing if c.organization_id != org_id]
    if foreign:
        raise auth.ShopifyAuthError(f"{shop} is already connected to another Wholesync account.", 403)
    conn = existing[0] if existing else None
    if conn is None:
        conn = Connection(organization_id=org_id, platform="shopify", role="system_of_record", address=shop)
        db.session.add(conn)
    store_tokens(conn, tokens)
    db.session.commit()
    return conn


def refresh_expiring_tokens(within: timedelta = timedelta(minutes=15)) -> dict:
    """Refresh every active Shopify token that expires within `within` (for a periodic job; see the report).

    Returns {"refreshed": [connection ids], "needs_reauth": [connection ids]}.
    """
    soon = utcnow() + within
    rows = db.session.execute(
        select(Connection).where(
            Connection.platform == "shopify",
            Connection.status == "active",
            Connection.token_expires_at.is_not(None),
            Connection.token_expires_at <= soon,
        )
    ).scalars()
    done: dict[str, list[int]] = {"refreshed": [], "needs_reauth": []}
    for conn in list(rows):
        before = conn.access_token
        try:
            after = fresh_access_token(conn, margin=within)
        except auth.ShopifyAuthError:
            done["needs_reauth"].append(conn.id)
            continue
        if after != before:
            done["refreshed"].append(conn.id)
    return done
