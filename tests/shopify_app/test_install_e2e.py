"""End to end through the Shopify sandbox: install by token exchange, refresh, the code grant, webhooks back."""

from datetime import timedelta
from urllib.parse import urlparse

from sqlalchemy import func, select, text

from integrations.shopify.transport import build_http_client
from portal.extensions import db
from portal.models import Connection, Organization, Partnership, WebhookReceipt, utcnow
from portal.services.connections import fresh_access_token
from tests.shopify_app.conftest import session_token
from tests.support import factories

SHOP = "cozy-retail.myshopify.com"
SHOP_QUERY = "{ shop { name } }"


def _works(app, shop, token) -> bool:
    """The token is accepted by (the sandbox's) Shopify Admin GraphQL API."""
    with build_http_client(app.config) as http:
        resp = http.post(
            f"https://{shop}/admin/api/{app.config['SHOPIFY_API_VERSION']}/graphql.json",
            json={"query": SHOP_QUERY},
            headers={"X-Shopify-Access-Token": token},
        )
    return resp.status_code == 200 and "errors" not in resp.json()


def _connections():
    return db.session.execute(select(func.count()).select_from(Connection)).scalar_one()


def test_a_shop_installs_end_to_end_by_token_exchange(app, client, sandbox):
    sandbox.add_shop(SHOP)
    id_token = sandbox.session_token(SHOP)
    resp = client.get(f"/shopify?shop={SHOP}&host=YWRtaW4&embedded=1&id_token={id_token}")
    assert resp.status_code == 200
    assert resp.headers["Content-Security-Policy"] == f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    assert "app-bridge.js" in resp.get_data(as_text=True)
    conn = db.session.execute(select(Connection)).scalar_one()
    org = db.session.get(Organization, conn.organization_id)
    assert (org.kind, conn.role, conn.address, conn.status) == ("retailer", "store", SHOP, "active")
    # an expiring offline token: about an hour of access, a 90-day refresh token
    assert timedelta(minutes=55) < conn.token_expires_at - utcnow() <= timedelta(hours=1)
    assert conn.refresh_token and conn.refresh_token_expires_at - utcnow() > timedelta(days=89)
    raw = db.session.execute(text("SELECT access_token, refresh_token FROM connection")).one()
    assert conn.access_token not in raw[0] and conn.refresh_token not in raw[1]
    assert _works(app, SHOP, conn.access_token)
    # a second visit reuses the installation
    again = client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}")
    assert again.status_code == 200 and _connections() == 1
    assert db.session.execute(select(func.count()).select_from(Organization)).scalar_one() == 1


def test_an_expired_or_forged_id_token_installs_nothing(app, client, sandbox):
    sandbox.add_shop(SHOP)
    expired = sandbox.session_token(SHOP, exp_in=-120)
    forged = session_token(app, SHOP, secret="guess")
    for token in (expired, forged):
        resp = client.get(f"/shopify?shop={SHOP}&id_token={token}")
        assert resp.status_code == 302 and "/shopify/patch-id-token" in resp.headers["Location"]
        assert "Wholesync" not in resp.get_data(as_text=True)
    assert _connections() == 0


def test_the_token_is_refreshed_through_shopify_before_it_expires(app, client, sandbox):
    sandbox.add_shop(SHOP)
    client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}")
    conn = db.session.execute(select(Connection)).scalar_one()
    old_access, old_refresh = conn.access_token, conn.refresh_token
    conn.token_expires_at = utcnow() + timedelta(minutes=2)  # inside the refresh margin
    db.session.commit()
    new_access = fresh_access_token(conn)
    assert new_access != old_access and _works(app, SHOP, new_access)
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.refresh_token != old_refresh and conn.token_expires_at - utcnow() > timedelta(minutes=55)
    assert conn.status == "active"


def test_a_refresh_shopify_refuses_asks_the_merchant_to_reopen_the_app(app, client, sandbox):
    sandbox.add_shop(SHOP)
    client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}")
    conn = db.session.execute(select(Connection)).scalar_one()
    conn.refresh_token = "shprt_revoked"
    conn.token_expires_at = utcnow() + timedelta(seconds=30)
    db.session.commit()
    try:
        fresh_access_token(conn)
        raise AssertionError("the refresh should have failed")
    except Exception as exc:
        assert "Open the Wholesync app" in str(exc)
    db.session.expire_all()
    assert db.session.get(Connection, conn.id).status == "needs_reauth"
    # reopening the app exchanges a new token
    assert client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}").status_code == 200
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.status == "active" and _works(app, SHOP, conn.access_token)


def test_the_wholesaler_connects_a_shopify_store_through_the_grant_screen(app, client, auth, sandbox):
    shop = "wholesale-hq.myshopify.com"
    sandbox.add_shop(shop)
    user = factories.wholesaler()
    auth.login(user.email)
    start = client.get(f"/shopify/auth?shop={shop}")
    assert start.status_code == 302
    with build_http_client(app.config) as http:  # the merchant's browser at Shopify's grant screen
        grant = http.get(start.headers["Location"])
    assert grant.status_code == 302
    back = urlparse(grant.headers["Location"])
    assert back.path == "/shopify/auth/callback"
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302
    conn = db.session.execute(select(Connection)).scalar_one()
    assert (conn.organization_id, conn.role, conn.address) == (user.organization_id, "system_of_record", shop)
    raw = db.session.execute(text("SELECT access_token FROM connection")).scalar_one()
    assert conn.access_token not in raw and _works(app, shop, conn.access_token)
    # the same code replayed (or a second callback) does not create anything more
    assert client.get(f"{back.path}?{back.query}").status_code in (400, 403)
    assert _connections() == 1


def test_uninstalling_in_shopify_revokes_our_tokens_and_pauses_partnerships(app, client, sandbox, work_webhooks):
    sandbox.add_shop(SHOP)
    client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}")
    conn = db.session.execute(select(Connection)).scalar_one()
    ws = factories.wholesaler().organization
    p = factories.partnership(ws, db.session.get(Organization, conn.organization_id))
    sandbox.sandbox.uninstall(SHOP)
    [delivery] = [d for d in sandbox.deliver_webhooks() if d.topic == "app/uninstalled"]
    assert delivery.status == 200
    work_webhooks()
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.status == "uninstalled" and conn.access_token is None and conn.refresh_token is None
    assert db.session.get(Partnership, p.id).status == "paused"
    receipt = db.session.execute(select(WebhookReceipt)).scalar_one()
    assert receipt.topic == "app/uninstalled" and receipt.processed_at is not None
    # the embedded app no longer serves this shop's data
    bearer = {"Authorization": f"Bearer {sandbox.session_token(SHOP)}"}
    assert client.get("/shopify/catalog", headers=bearer).status_code == 401


def test_a_periodic_sweep_refreshes_tokens_about_to_expire(app, client, sandbox):
    from portal.services.connections import refresh_expiring_tokens

    sandbox.add_shop(SHOP)
    client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}")
    soon = db.session.execute(select(Connection)).scalar_one()
    other = factories.connection(factories.retailer(), "store", "later.myshopify.com")
    other.token_expires_at = utcnow() + timedelta(hours=1)
    soon.token_expires_at = utcnow() + timedelta(minutes=10)
    db.session.commit()
    old = soon.access_token
    assert refresh_expiring_tokens() == {"refreshed": [soon.id], "needs_reauth": []}
    db.session.expire_all()
    assert db.session.get(Connection, soon.id).access_token != old
    assert _works(app, SHOP, db.session.get(Connection, soon.id).access_token)
    assert db.session.get(Connection, other.id).access_token == "shpat_test"


def test_a_job_building_its_client_refreshes_an_expiring_store_token_first(app, client, sandbox):
    from portal.services.platforms import retailer_store

    sandbox.add_shop(SHOP)
    client.get(f"/shopify?shop={SHOP}&id_token={sandbox.session_token(SHOP)}")
    conn = db.session.execute(select(Connection)).scalar_one()
    stale = conn.access_token
    conn.token_expires_at = utcnow() + timedelta(seconds=20)  # about to lapse: a job must not use it
    db.session.commit()
    data = retailer_store(conn).client.query("{ shop { name } }")
    assert data["shop"]["name"]
    db.session.expire_all()
    assert db.session.get(Connection, conn.id).access_token != stale
