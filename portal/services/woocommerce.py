"""Connecting a WooCommerce shop: pasted keys (checked by a call) or WooCommerce's application authentication
(`/wc-auth/v1/authorize`, keys posted to our callback with our signed, single-use state), then our webhooks.

The consumer key and secret are stored encrypted (Connection.api_key and access_token are EncryptedText), with a
webhook secret of our own that signs every delivery to `/webhooks/woocommerce/<connection id>`.
"""

from __future__ import annotations

import secrets
import string

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from integrations.woocommerce import WooAuthError, WooClient, WooError
from integrations.woocommerce.auth import authorize_url, normalize_site, parse_callback
from integrations.woocommerce.webhooks import RETAILER_TOPICS, WHOLESALER_TOPICS, ensure_webhooks
from integrations.woocommerce.webhooks import delivery_url as webhook_delivery_url
from portal.extensions import db
from portal.models import Connection, Organization, utcnow
from portal.redis_conn import get_redis
from portal.services.platforms import http_client

STATE_SALT = "wholesync-wc-auth"
STATE_MAX_AGE = 3600  # the merchant has an hour to approve
STATE_USED = "wholesync:wc-auth-state:{}"
APP_NAME = "Wholesync"


class ConnectError(Exception):
    """The shop could not be connected; the message is for the merchant."""


def role_for(org: Organization) -> str:
    """A wholesaler's shop is its system of record; a retailer's is its store."""
    return "system_of_record" if org.kind == "wholesaler" else "store"


def _client(site: str, key: str, secret: str) -> WooClient:
    return WooClient(site, key, secret, http=http_client(current_app._get_current_object(), "woocommerce"))


def _check_keys(client: WooClient) -> None:
    """A read that needs the key: a wrong or revoked key is refused here, before anything is stored."""
    try:
        client.get("products", {"per_page": 1, "_fields": "id"})
    except WooAuthError as exc:
        raise ConnectError("WooCommerce refused these keys: check the consumer key and secret.") from exc
    except WooError as exc:
        raise ConnectError(f"Could not reach the WooCommerce REST API at this address ({exc.message}).") from exc


def delivery_url(conn: Connection) -> str:
    """Where the shop's webhooks post (public base URL from the configuration)."""
    return webhook_delivery_url(current_app.config, conn.id)


def connect_with_keys(org: Organization, site: str, consumer_key: str, consumer_secret: str) -> Connection:
    """Check the keys with a call, store them encrypted on the organization's connection, create our webhooks."""
    try:
        site = normalize_site(site)
    except ValueError as exc:
        raise ConnectError(str(exc)) from exc
    consumer_key, consumer_secret = consumer_key.strip(), consumer_secret.strip()
    if not consumer_key.startswith("ck_") or not consumer_secret.startswith("cs_"):
        raise ConnectError("A WooCommerce consumer key starts with ck_ and its secret with cs_.")
    client = _client(site, consumer_key, consumer_secret)
    _check_keys(client)
    role = role_for(org)
    conn = db.session.execute(
        select(Connection).where(Connection.platform == "woocommerce", Connection.address == site)
    ).scalar_one_or_none()
    if conn is not None and conn.organization_id != org.id:
        raise ConnectError("This shop is already connected to another Wholesync account.")
    if conn is None:
        conn = db.session.execute(
            select(Connection).where(Connection.organization_id == org.id, Connection.role == role)
        ).scalar_one_or_none()
        if conn is not None and conn.platform != "woocommerce":
            raise ConnectError("This account already has a connected shop on another platform.")
    if conn is None:
        conn = Connection(organization_id=org.id, platform="woocommerce", role=role, address=site)
        db.session.add(conn)
    conn.address, conn.api_key, conn.access_token = site, consumer_key, consumer_secret
    conn.webhook_secret = conn.webhook_secret or "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(40)
    )  # alphanumeric: WooCommerce HTML-decodes the secret before signing
    conn.scopes, conn.status, conn.uninstalled_at = "read_write", "active", None
    conn.installed_at = conn.installed_at or utcnow()
    db.session.flush()
    topics = WHOLESALER_TOPICS if role == "system_of_record" else RETAILER_TOPICS
    try:
        ensure_webhooks(client, delivery_url(conn), conn.webhook_secret, topics)
    except WooAuthError as exc:
        db.session.rollback()
        raise ConnectError("These keys cannot write: create them with Read/Write permission.") from exc
    except WooError as exc:
        db.session.rollback()
        raise ConnectError(f"WooCommerce refused our webhooks ({exc.message}).") from exc
    db.session.commit()
    return conn


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STATE_SALT)


def start_authorization(org: Organization, site: str, return_url: str, callback_url: str) -> str:
    """The `/wc-auth/v1/authorize` URL to send the merchant to; `user_id` is our signed, single-use state."""
    try:
        site = normalize_site(site)
    except ValueError as exc:
        raise ConnectError(str(exc)) from exc
    state = _serializer().dumps({"org": org.id, "site": site, "nonce": secrets.token_urlsafe(12)})
    return authorize_url(site, APP_NAME, state, return_url, callback_url)


def receive_keys(payload: dict) -> Connection:
    """The callback: the state must be ours, recent and unused; the keys are checked with a call before storing."""
    try:
        posted = parse_callback(payload)
        state = _serializer().loads(posted["user_id"], max_age=STATE_MAX_AGE)
    except (ValueError, BadSignature) as exc:
        raise ConnectError("This authorization is not ours or has expired.") from exc
    if not get_redis().set(STATE_USED.format(state["nonce"]), "1", nx=True, ex=STATE_MAX_AGE):
        raise ConnectError("This authorization was already used.")
    org = db.session.get(Organization, state["org"])
    if org is None:
        raise ConnectError("The account that asked for this authorization no longer exists.")
    return connect_with_keys(org, state["site"], posted["consumer_key"], posted["consumer_secret"])


def state_organization(user_id: str) -> int | None:
    """The organization a state names (for the return page), or None if it is not ours."""
    try:
        return _serializer().loads(user_id, max_age=STATE_MAX_AGE)["org"]
    except (BadSignature, KeyError, TypeError):
        return None
