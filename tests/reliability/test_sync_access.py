"""Store access lost and recovered: a token Shopify rejects is refreshed once or the connection is marked
needs_reauth and the run fails at once with a clear message; reopening the app restores it and every order placed
meanwhile reaches the wholesaler exactly once; a wholesaler is asked to reconnect from the dashboard."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from fakes.shopify.resolvers.orders import place_order
from integrations.base import AccessRevoked
from integrations.shopify.client import ShopifyClient
from integrations.shopify.errors import ShopifyAccessRevoked
from jobs.runtime import run_job
from portal.extensions import db
from portal.models import Connection, Order
from portal.redis_conn import get_redis
from portal.services import connections
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture
from tests.sync.conftest import RT_SHOPS, WS_SHOP, world  # noqa: F401 - the fixture

STORE = RT_SHOPS[0]


def _reload(conn_id: int) -> Connection:
    db.session.expire_all()
    return db.session.get(Connection, conn_id)


def _open_app(client, world, shop: str = STORE):
    """The merchant opens the embedded app from the Shopify admin (the document load carries a session token)."""
    return client.get(f"/shopify?shop={shop}&id_token={world.sandbox.session_token(shop)}")


def _install_by_token_exchange(client, world) -> Connection:
    """Store 0 gets an expiring offline token with a refresh token, the way a managed install gives it."""
    conn = world.stores[0]
    conn.access_token, conn.status = None, "uninstalled"
    db.session.commit()
    assert _open_app(client, world).status_code == 200
    conn = _reload(conn.id)
    assert conn.status == "active" and conn.refresh_token and conn.token_expires_at
    return conn


def _count_refreshes(monkeypatch) -> list:
    real, calls = connections.auth.refresh, []

    def refresh(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(connections.auth, "refresh", refresh)
    return calls


def _expire_access_tokens(world, shop: str) -> None:
    """What the sandbox's expire_tokens fault does: Shopify expires the access tokens early, refresh tokens stay."""
    for token in list(world.sandbox.sandbox.tokens.values()):
        if token.shop == shop:
            token.expires_at = time.time() - 1


def _store_orders(conn_id: int) -> list[Order]:
    return list(db.session.execute(select(Order).where(Order.retailer_connection_id == conn_id)).scalars())


def test_an_access_token_expired_early_is_refreshed_once_and_the_pull_goes_on(client, world, monkeypatch):
    world.sync_catalog()
    conn = _install_by_token_exchange(client, world)
    old_access = conn.access_token
    place_order(world.sandbox.sandbox, STORE, [("TOTE-1", 1)])
    _expire_access_tokens(world, STORE)  # our stored expiry still says the token is good for an hour
    refreshes = _count_refreshes(monkeypatch)
    result = run_job("orders.pull", f"connection:{conn.id}", "schedule")
    assert result["status"] == "done" and result["created"] == 1, result["message"]
    assert refreshes == [STORE]
    conn = _reload(conn.id)
    assert conn.status == "active" and conn.access_token != old_access


def test_revoked_store_tokens_fail_the_run_once_and_reopening_the_app_brings_every_order_in_once(
    client, world, monkeypatch
):
    world.sync_catalog()
    conn = _install_by_token_exchange(client, world)
    sb = world.sandbox.sandbox
    place_order(sb, STORE, [("TOTE-1", 1)])
    world.ok("orders.pull")
    world.ok("orders.push")
    sb.revoke_tokens(STORE)  # access and refresh tokens alike
    place_order(sb, STORE, [("TOTE-1", 2)])
    refreshes = _count_refreshes(monkeypatch)

    result = run_job("orders.pull", f"connection:{conn.id}", "schedule")  # returns: RQ does not retry it

    assert refreshes == [STORE]  # at most one refresh attempt, and Shopify refused it
    assert result["status"] == "failed"
    assert f"Wholesync lost access to {STORE}" in result["message"]
    assert "Open the Wholesync app in the Shopify admin again" in result["message"]
    assert _reload(conn.id).status == "needs_reauth"
    place_order(sb, STORE, [("SCARF-1", 1)])  # the store keeps selling during the outage
    later = run_job("orders.pull", f"connection:{conn.id}", "schedule")
    assert later["api_calls"] == 0 and refreshes == [STORE]  # nothing hammers a store that shut us out

    page = _open_app(client, world)
    assert page.status_code == 200 and "lost access to your store and reconnected it" in page.get_data(as_text=True)
    conn = _reload(conn.id)
    assert conn.status == "active" and conn.refresh_token

    world.ok("orders.pull")
    world.ok("orders.push")
    world.ok("orders.pull")  # a second pass finds nothing new
    world.ok("orders.push")
    assert len(_store_orders(conn.id)) == 3
    remote = world.sor_shop().orders.values()
    assert sorted(sum(li["quantity"] for li in o.data["line_items"]) for o in remote) == [1, 1, 2]


def test_a_wholesalers_non_expiring_token_rejected_asks_to_reconnect_from_the_dashboard(
    client, auth, world, monkeypatch
):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, STORE, [("TOTE-1", 1)])
    world.ok("orders.pull")
    world.sandbox.sandbox.revoke_tokens(WS_SHOP)
    refreshes = _count_refreshes(monkeypatch)

    [result] = world.run("orders.push")  # the run the pull chained

    assert refreshes == []  # an authorization-code grant token has nothing to refresh with
    assert result["status"] == "failed" and "Reconnect your Shopify store" in result["message"]
    assert _reload(world.sor.id).status == "needs_reauth"
    assert db.session.execute(select(Order)).scalar_one().status != "sent"  # kept for after the reconnection
    auth.login(world.user.email)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Reconnect your Shopify store" in html
    assert f'href="/shopify/auth?shop={WS_SHOP}"' in html


def _client(handler, token, shop="access.myshopify.com") -> ShopifyClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return ShopifyClient(shop, token, api_version="2026-07", redis=get_redis(), http=http, sleep=lambda s: None)


class _Source:
    def __init__(self, renewed: str | None):
        self.token, self.renewed, self.told = "old", renewed, []

    def __call__(self) -> str:
        return self.token

    def rejected(self, token: str) -> str:
        self.told.append(token)
        if self.renewed is None or len(self.told) > 1:
            raise AccessRevoked("Wholesync lost access to access.myshopify.com (refused).")
        self.token = self.renewed
        return self.token


def _accepting(good: str, calls: list):
    def handler(request):
        calls.append(request.headers["X-Shopify-Access-Token"])
        if request.headers["X-Shopify-Access-Token"] != good:
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})
        return httpx.Response(200, json={"data": {"shop": {"id": "1"}}})

    return handler


def test_a_401_is_sent_once_more_with_the_renewed_token_and_never_retried_blindly(app):
    calls, source = [], _Source("new")
    assert _client(_accepting("new", calls), source).query("{ shop { id } }") == {"shop": {"id": "1"}}
    assert calls == ["old", "new"] and source.told == ["old"]

    calls, source = [], _Source("also-bad")
    with pytest.raises(ShopifyAccessRevoked, match="lost access"):
        _client(_accepting("good", calls), source, "b.myshopify.com").query("{ shop { id } }")
    assert calls == ["old", "also-bad"] and source.told == ["old", "also-bad"]

    calls = []
    with pytest.raises(ShopifyAccessRevoked, match="401"):
        _client(_accepting("good", calls), "fixed", "c.myshopify.com").query("{ shop { id } }")
    assert calls == ["fixed"]  # a fixed token has nothing to renew: one request, no retries
