"""Platform connections as Wholesync rows: Shopify installs and uninstalls, tokens kept fresh.

Tokens are stored encrypted (Connection.access_token / refresh_token are EncryptedText). Refresh tokens are
single use, so a refresh holds a per-connection Redis lock, re-reads the row, marks the refresh started before
spending one and stores the new pair by a compare-and-set on the spent token (see fresh_access_token). A token
Shopify rejects (401) is renewed once by the same refresh, else the connection is marked `needs_reauth` (StoreAccess).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import Text, select, text, type_coerce, update
from sqlalchemy.exc import OperationalError

from integrations.base import AccessRevoked
from integrations.shopify import auth
from portal.crypto import fernet
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
    conn.refresh_started_at = None


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

    Refresh tokens are single use, so the refresh is crash-safe: the caller's session is committed and a marker
    (`refresh_started_at`) is committed before the refresh token is spent, and the new pair is stored by a
    compare-and-set on the old refresh token's ciphertext right after Shopify answers. A marker found on the next
    attempt means an earlier refresh died between spending the token and storing its answer: the token is tried
    once more (the request may never have reached Shopify) and, if Shopify refuses it, the connection is set to
    `needs_reauth` with a message saying why instead of being retried forever. A failed refresh sets the
    connection to `needs_reauth` (the merchant reopens the app, which runs token exchange again) and raises
    ShopifyAuthError.
    """
    fresh = not auth.needs_refresh(conn.token_expires_at, utcnow(), margin)
    if fresh and conn.status == "active" and conn.access_token:
        return conn.access_token
    lock = get_redis().lock(REFRESH_LOCK.format(conn.id), timeout=60, blocking_timeout=30)
    with lock:
        # The caller's pending writes must not ride on (or be lost with) the commits that store the new pair.
        db.session.commit()
        db.session.refresh(conn)  # another worker may have refreshed while we waited; its refresh token is now ours
        if conn.status != "active" or not conn.access_token:
            raise auth.ShopifyAuthError(f"{conn.address} must be reconnected ({conn.status}).", 401)
        if not auth.needs_refresh(conn.token_expires_at, utcnow(), margin):
            return conn.access_token
        if not conn.refresh_token:
            return _needs_reauth(conn, "the token expired and there is no refresh token")
        return _spend_refresh(conn)


def recover_access(conn: Connection, rejected: str) -> str:
    """Shopify answered 401 to `rejected`, the connection's access token: a new one by one crash-safe refresh.

    The stored expiry cannot be trusted here (Shopify may revoke or expire a token early), so the refresh is not
    gated on it. If another worker already stored a different token, that one is returned without a refresh.
    Without a refresh token (the authorization-code grant's non-expiring token), or when Shopify refuses the
    refresh, the connection is set to `needs_reauth` and auth.ShopifyAuthError says what to do.
    """
    lock = get_redis().lock(REFRESH_LOCK.format(conn.id), timeout=60, blocking_timeout=30)
    with lock:
        db.session.commit()  # as in fresh_access_token: the caller's writes are not tied to the token's commits
        db.session.refresh(conn)
        if conn.status != "active" or not conn.access_token:
            raise auth.ShopifyAuthError(_lost_message(conn, f"it is {conn.status.replace('_', ' ')}"), 401)
        if conn.access_token != rejected:
            return conn.access_token
        if not conn.refresh_token:
            return _needs_reauth(conn, "Shopify no longer accepts its access token")
        return _spend_refresh(conn)


def _spend_refresh(conn: Connection) -> str:
    """Spend the refresh token (marker committed first) and store the new pair; needs_reauth when refused."""
    interrupted = conn.refresh_started_at is not None
    spent = conn.refresh_token
    _mark_refresh_started(conn)
    try:
        tokens = auth.refresh(current_app.config, conn.address, spent, conn.refresh_token_expires_at, now=utcnow())
    except auth.ShopifyAuthError as exc:
        if interrupted:
            why = (
                "an earlier token refresh was interrupted after Shopify may have answered it, and Shopify no "
                "longer accepts the refresh token"
            )
            return _needs_reauth(conn, why)
        return _needs_reauth(conn, exc.message)
    _store_refreshed(conn, spent, tokens)
    current_app.logger.info("refreshed the Shopify token of connection %s", conn.id)
    return conn.access_token


class StoreAccess:
    """The token source adapters get for one Shopify connection (integrations.base.RenewableToken).

    The token is made fresh when the source is built, in the thread that builds the adapter. When Shopify rejects
    it (401), `rejected` renews it once per source through `recover_access`; a second rejection, or a refused
    renewal, marks the connection `needs_reauth` and every later call raises AccessRevoked at once, so a run stops
    sending to a store that has shut us out. A flow's worker threads may report a rejection: they renew in an app
    context of their own (the building thread's session is not theirs to use).
    """

    def __init__(self, conn: Connection):
        self.app = current_app._get_current_object()
        self.connection = conn
        self.connection_id = conn.id
        self.owner = threading.get_ident()
        self.lock = threading.Lock()
        self.renewed = False
        self.lost: str | None = None
        try:
            self.token = fresh_access_token(conn)
        except auth.ShopifyAuthError as exc:
            raise AccessRevoked(exc.message) from None

    def __call__(self) -> str:
        """The access token to send now; AccessRevoked once the store has shut us out."""
        with self.lock:
            if self.lost:
                raise AccessRevoked(self.lost)
            return self.token

    def rejected(self, token: str) -> str:
        """Shopify answered 401 to `token`: a token worth one more try, or AccessRevoked (connection marked)."""
        with self.lock:
            if self.lost:
                raise AccessRevoked(self.lost)
            if token != self.token:
                return self.token  # another thread of this run renewed it already
            try:
                if threading.get_ident() == self.owner:
                    self.token = self._renew(self.connection, token)
                else:
                    with self.app.app_context():
                        self.token = self._renew(db.session.get(Connection, self.connection_id), token)
            except auth.ShopifyAuthError as exc:
                self.lost = exc.message
                raise AccessRevoked(exc.message) from None
            self.renewed = True
            return self.token

    def _renew(self, conn: Connection, token: str) -> str:
        if self.renewed:  # the token the refresh gave was rejected too: another refresh would not help
            db.session.refresh(conn)
            if conn.status == "active" and conn.access_token == token:
                return _needs_reauth(conn, "Shopify refused its access token again right after a refresh")
        return recover_access(conn, token)


def _raw(conn_id: int, column: str) -> str | None:
    """A connection's stored ciphertext, as it is in the database (not decrypted)."""
    return db.session.execute(
        text(f"SELECT {column} FROM connection WHERE id = :id"), {"id": conn_id}
    ).scalar_one_or_none()


def _mark_refresh_started(conn: Connection) -> None:
    conn.refresh_started_at = utcnow()
    db.session.commit()


STORE_ATTEMPTS = 5


def _store_refreshed(conn: Connection, spent: str, tokens: auth.Tokens) -> None:
    """Store the new pair at once, only over the refresh token we spent (compare-and-set on its ciphertext).

    Shopify has spent the old refresh token: the new pair exists only here, so a failed write (a locked SQLite, a
    dropped database connection) is rolled back and the compare-and-set applied again a few times before giving up.
    """
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            _compare_and_set_pair(conn.id, spent, tokens)
            db.session.refresh(conn)
            return
        except OperationalError as exc:
            db.session.rollback()
            if attempt == STORE_ATTEMPTS:
                current_app.logger.error("could not store the refreshed token pair of connection %s", conn.id)
                raise
            current_app.logger.warning(
                "storing the refreshed token pair of connection %s failed (%s); trying again", conn.id, exc.orig
            )
            time.sleep(0.2 * attempt)


def _compare_and_set_pair(conn_id: int, spent: str, tokens: auth.Tokens) -> None:
    """Write the pair over the row's refresh token if it is still the one spent, and commit.

    `flask tokens rotate` may re-encrypt the row between our read and our write (same plaintext, new ciphertext):
    then the compare is retried on the new ciphertext. If the row holds another refresh token, another refresh won
    and its pair stays.
    """
    table = Connection.__table__
    stored = type_coerce(table.c.refresh_token, Text)  # compare ciphertexts, not re-encrypted plaintexts
    for _attempt in range(5):
        old_ciphertext = _raw(conn_id, "refresh_token")
        if old_ciphertext is None or fernet().decrypt(old_ciphertext.encode()).decode() != spent:
            return
        done = db.session.execute(
            update(table)
            .where(table.c.id == conn_id, stored == old_ciphertext)
            .values(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                token_expires_at=tokens.expires_at,
                refresh_token_expires_at=tokens.refresh_token_expires_at,
                scopes=tokens.scope,
                refresh_started_at=None,
                status="active",
            )
        )
        db.session.commit()
        if done.rowcount == 1:
            return


def _lost_message(conn: Connection, why: str) -> str:
    """What a person must do to restore access: a retailer reopens the app, a wholesaler runs the grant again."""
    if conn.role == "store":
        then = "Open the Wholesync app in the Shopify admin again."
    else:
        then = "Reconnect your Shopify store from Wholesync (Connect your Shopify store)."
    return f"Wholesync lost access to {conn.address} ({why}). {then}"


def _needs_reauth(conn: Connection, why: str) -> str:
    conn.status = "needs_reauth"
    conn.refresh_started_at = None  # nothing left to retry: reopening the app runs token exchange
    db.session.commit()
    current_app.logger.warning("connection %s needs to be reconnected: %s", conn.id, why)
    raise auth.ShopifyAuthError(_lost_message(conn, why), 401)


def lost_access(org_id: int) -> list[Connection]:
    """The organization's own Shopify connections that must be reconnected (shown with the grant link)."""
    return list(
        db.session.execute(
            select(Connection).where(
                Connection.organization_id == org_id,
                Connection.platform == "shopify",
                Connection.status == "needs_reauth",
            )
        ).scalars()
    )


def uninstall(shop: str) -> list[int]:
    """app/uninstalled: forget the shop's tokens, mark its connections uninstalled and pause its partnerships."""
    paused = []
    for conn in shop_connections(shop):
        conn.access_token = conn.refresh_token = None
        conn.token_expires_at = conn.refresh_token_expires_at = conn.refresh_started_at = None
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
