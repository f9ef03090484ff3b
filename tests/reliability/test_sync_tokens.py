"""Tokens under injected faults: a refresh that dies after Shopify's answer never strands the shop in a retry loop,
`flask tokens rotate` never overwrites a refresh that lands in between, and key rotation keeps every secret readable
after the old key is dropped."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from integrations.shopify import auth
from portal.extensions import db
from portal.models import Connection, GatewayAccount, utcnow
from portal.services import connections, token_rotation
from portal.services.connections import fresh_access_token
from portal.services.token_rotation import rotate_all
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture

SHOP = "crash-refresh.myshopify.com"
REAL_REFRESH = auth.refresh


class Killed(BaseException):
    """The process dies here (a BaseException: no `except Exception` in the product may swallow it)."""


def _installed(client, sandbox, expires_in=timedelta(seconds=30)) -> Connection:
    sandbox.add_shop(SHOP)
    assert client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}").status_code == 200
    conn = db.session.execute(select(Connection).where(Connection.address == SHOP)).scalar_one()
    conn.token_expires_at = utcnow() + expires_in  # inside the refresh margin
    db.session.commit()
    return conn


def _reload(conn_id: int) -> Connection:
    db.session.expire_all()
    return db.session.get(Connection, conn_id)


def _raw(conn_id: int, column: str) -> str:
    return db.session.execute(text(f"SELECT {column} FROM connection WHERE id = :i"), {"i": conn_id}).scalar_one()


def _refresh_then(monkeypatch, after):
    """Wrap the real refresh: Shopify answers (the refresh token is spent there), then `after(tokens)` runs."""
    real, answers = auth.refresh, []

    def refresh(*args, **kwargs):
        tokens = real(*args, **kwargs)
        answers.append(tokens)
        after(tokens)
        return tokens

    monkeypatch.setattr(connections.auth, "refresh", refresh)
    return answers


def test_a_refresh_killed_after_shopifys_answer_asks_the_merchant_to_reopen_once_and_does_not_loop(
    app,
    client,
    sandbox,
    monkeypatch,
):
    conn = _installed(client, sandbox)
    conn_id, old_access, old_refresh = conn.id, conn.access_token, conn.refresh_token

    def die(tokens):
        raise Killed()

    answers = _refresh_then(monkeypatch, die)
    with pytest.raises(Killed):
        fresh_access_token(conn)
    db.session.rollback()
    assert len(answers) == 1  # Shopify answered: the old refresh token is spent there
    conn = _reload(conn_id)
    assert conn.refresh_started_at is not None  # committed before the token was spent
    assert (conn.access_token, conn.refresh_token, conn.status) == (old_access, old_refresh, "active")

    monkeypatch.setattr(connections.auth, "refresh", REAL_REFRESH)
    with pytest.raises(auth.ShopifyAuthError, match=r"interrupted.*Open the Wholesync app"):
        fresh_access_token(conn)
    conn = _reload(conn_id)
    assert conn.status == "needs_reauth" and conn.refresh_started_at is None
    calls = []
    monkeypatch.setattr(connections.auth, "refresh", lambda *a, **k: calls.append(a))
    with pytest.raises(auth.ShopifyAuthError, match="must be reconnected"):
        fresh_access_token(conn)
    assert calls == []  # no loop: the spent token is never sent again
    # Reopening the app runs token exchange: the shop works again without anyone touching the database.
    assert client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}").status_code == 200
    conn = _reload(conn_id)
    assert conn.status == "active" and conn.refresh_started_at is None and conn.access_token != old_access


def test_a_refresh_killed_before_it_reached_shopify_is_finished_by_the_next_attempt(app, client, sandbox, monkeypatch):
    conn = _installed(client, sandbox)
    conn_id, old_refresh = conn.id, conn.refresh_token

    def die_before(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(connections.auth, "refresh", die_before)
    with pytest.raises(Killed):
        fresh_access_token(conn)
    db.session.rollback()
    assert _reload(conn_id).refresh_started_at is not None
    monkeypatch.setattr(connections.auth, "refresh", REAL_REFRESH)
    new_access = fresh_access_token(_reload(conn_id))  # the unspent refresh token still works
    conn = _reload(conn_id)
    assert conn.access_token == new_access and conn.refresh_token != old_refresh
    assert conn.status == "active" and conn.refresh_started_at is None


def test_the_callers_pending_writes_are_committed_before_the_refresh_token_is_spent(app, client, sandbox, monkeypatch):
    conn = _installed(client, sandbox)
    conn.scopes = "read_products,write_orders,caller-edit"  # the caller's unflushed work

    def die(tokens):
        raise Killed()

    _refresh_then(monkeypatch, die)
    with pytest.raises(Killed):
        fresh_access_token(conn)
    db.session.rollback()
    assert _reload(conn.id).scopes.endswith("caller-edit")


def test_a_rotation_between_the_refresh_answer_and_its_store_keeps_the_new_pair(app, client, sandbox, monkeypatch):
    conn = _installed(client, sandbox)
    old_key = app.config["TOKEN_ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()

    def rotate_meanwhile(tokens):
        app.config["TOKEN_ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
        assert rotate_all() >= 2  # re-encrypts the old pair's ciphertexts under our feet

    answers = _refresh_then(monkeypatch, rotate_meanwhile)
    token = fresh_access_token(conn)
    conn = _reload(conn.id)
    assert (
        (conn.access_token, conn.refresh_token)
        == (answers[0].access_token, answers[0].refresh_token)
        == (
            token,
            conn.refresh_token,
        )
    )
    assert conn.refresh_started_at is None
    app.config["TOKEN_ENCRYPTION_KEYS"] = new_key  # the stored pair is readable with the new key alone
    assert _reload(conn.id).refresh_token == answers[0].refresh_token


def test_tokens_rotate_never_overwrites_a_refresh_stored_between_its_read_and_its_write(
    app,
    client,
    sandbox,
    monkeypatch,
):
    conn = _installed(client, sandbox)
    conn_id = conn.id
    old_key = app.config["TOKEN_ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    app.config["TOKEN_ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
    real_rotate, interleaved = token_rotation.rotate_token, []

    def rotate_token(ciphertext: str) -> str:
        rotated = real_rotate(ciphertext)
        if not interleaved and ciphertext == _raw(conn_id, "refresh_token"):
            # A worker refreshes (through Shopify, on its own database connection) after rotate read the value.
            interleaved.append(_refresh_in_another_connection(app, conn_id))
        return rotated

    monkeypatch.setattr(token_rotation, "rotate_token", rotate_token)
    result = app.test_cli_runner().invoke(args=["tokens", "rotate"])
    assert result.exit_code == 0, result.output
    assert interleaved, "the interleaving did not happen"
    app.config["TOKEN_ENCRYPTION_KEYS"] = new_key  # the old key is dropped
    conn = _reload(conn_id)
    assert (conn.access_token, conn.refresh_token) == interleaved[0]  # the refresh won, under the new key
    assert fresh_access_token(conn, margin=timedelta(days=365)) != interleaved[0][0]  # its refresh token is live


def _refresh_in_another_connection(app, conn_id: int) -> tuple[str, str]:
    """Refresh the connection through Shopify and store the pair on a separate database connection."""
    with db.engine.connect() as other:
        raw = other.execute(text("SELECT refresh_token FROM connection WHERE id = :i"), {"i": conn_id}).scalar_one()
        from portal.crypto import fernet

        tokens = REAL_REFRESH(app.config, SHOP, fernet().decrypt(raw.encode()).decode(), None, now=utcnow())
        other.execute(
            text("UPDATE connection SET access_token = :a, refresh_token = :r WHERE id = :i"),
            {"a": fernet().encrypt(tokens.access_token.encode()).decode(),
             "r": fernet().encrypt(tokens.refresh_token.encode()).decode(), "i": conn_id},
        )  # fmt: skip
        other.commit()
    return tokens.access_token, tokens.refresh_token


def test_key_rotation_keeps_every_secret_readable_after_the_old_key_is_dropped(app, client, sandbox):
    conn = _installed(client, sandbox, expires_in=timedelta(hours=1))
    conn.api_key, conn.webhook_secret = "ck_woo", "whsec_woo"
    db.session.add(GatewayAccount(organization_id=conn.organization_id, gateway="stripe", secret="rk_live_1"))
    db.session.commit()
    plain = (conn.access_token, conn.refresh_token, "ck_woo", "whsec_woo")
    old_key = app.config["TOKEN_ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()

    app.config["TOKEN_ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
    conn = _reload(conn.id)
    assert (conn.access_token, conn.refresh_token, conn.api_key, conn.webhook_secret) == plain  # old still readable
    conn.webhook_secret = "whsec_new"  # a new write uses the new key
    db.session.commit()
    assert Fernet(new_key).decrypt(_raw(conn.id, "webhook_secret").encode()) == b"whsec_new"
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(_raw(conn.id, "webhook_secret").encode())

    result = app.test_cli_runner().invoke(args=["tokens", "rotate"])
    assert result.exit_code == 0 and "re-encrypted 5 secrets" in result.output, result.output
    app.config["TOKEN_ENCRYPTION_KEYS"] = new_key  # the old key is dropped
    conn = _reload(conn.id)
    assert (conn.access_token, conn.refresh_token, conn.api_key, conn.webhook_secret) == (*plain[:3], "whsec_new")
    assert db.session.execute(select(GatewayAccount)).scalar_one().secret == "rk_live_1"
    for column in ("access_token", "refresh_token", "api_key", "webhook_secret"):
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(_raw(conn.id, column).encode())
