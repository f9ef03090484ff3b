"""The embedded app trusts only Shopify session tokens: forged, expired or foreign tokens get 401 and no data."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.plan import get_job
from jobs.runtime import new_run
from portal.extensions import db
from portal.models import Listing, Partnership, utcnow
from tests.support import factories

RETRY = "X-Shopify-Retry-Invalid-Session-Request"


@pytest.fixture
def installed(app):
    """A retailer store with the app installed (a valid expiring token), one wholesaler and one incoming product."""
    _u, ws, _sor, _rt, store, p = factories.trading_pair()
    store.token_expires_at = utcnow() + timedelta(hours=1)
    prod = factories.product(ws, skus=("SKU-IN-1",))
    prod.title = "Incoming Widget"
    db.session.add(
        Listing(
            partnership_id=p.id,
            product_id=prod.id,
            retailer_connection_id=store.id,
            remote_product_id="gid://shopify/Product/9",
            created_unpublished=True,
        )
    )
    db.session.commit()
    return store


def bearer(token):
    return {"Authorization": f"Bearer {token}", "HX-Request": "true"}


def test_a_valid_session_token_sees_the_incoming_catalog(client, installed, token_for):
    resp = client.get("/shopify/catalog", headers=bearer(token_for(installed.address)))
    assert resp.status_code == 200
    assert "Incoming Widget" in resp.get_data(as_text=True)
    csp = resp.headers["Content-Security-Policy"]
    assert csp == f"frame-ancestors https://{installed.address} https://admin.shopify.com;"


def test_a_forged_session_token_gets_401_with_the_retry_header_and_no_data(client, installed, token_for):
    resp = client.get("/shopify/catalog", headers=bearer(token_for(installed.address, secret="attacker")))
    assert resp.status_code == 401 and resp.headers[RETRY] == "1"
    assert "Incoming Widget" not in resp.get_data(as_text=True)


def test_an_expired_session_token_gets_401_and_no_data(client, installed, token_for):
    stale = token_for(installed.address, exp_in=-60)  # expired a minute ago: beyond the 10 s leeway
    resp = client.get("/shopify/catalog", headers=bearer(stale))
    assert resp.status_code == 401 and resp.headers[RETRY] == "1"
    assert "Incoming Widget" not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-apps-client-id"},
        {"iss": "https://other-shop.myshopify.com/admin"},
        {"exp": None},
        {"dest": "https://evil.example.com"},
    ],
    ids=["wrong-audience", "iss-other-shop", "no-exp", "dest-not-myshopify"],
)
def test_tokens_with_wrong_claims_get_401(client, installed, token_for, claims):
    resp = client.get("/shopify/catalog", headers=bearer(token_for(installed.address, **claims)))
    assert resp.status_code == 401
    assert "Incoming Widget" not in resp.get_data(as_text=True)


def test_a_request_without_any_token_gets_no_data(client, installed):
    resp = client.get("/shopify/catalog")
    assert resp.status_code in (302, 401)
    assert "Incoming Widget" not in resp.get_data(as_text=True)
    if resp.status_code == 302:  # a document load goes to the patch-id-token page to fetch a token
        assert "/shopify/patch-id-token" in resp.headers["Location"]


def test_a_bearer_header_that_is_not_a_jwt_gets_401(client, installed):
    resp = client.get("/shopify/catalog", headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401 and resp.headers[RETRY] == "1"


def test_a_shop_without_the_app_installed_gets_401(client, app, token_for):
    resp = client.get("/shopify/catalog", headers=bearer(token_for("never-installed.myshopify.com")))
    assert resp.status_code == 401


def test_app_home_renders_app_bridge_and_the_per_shop_csp(client, installed, token_for):
    resp = client.get(f"/shopify?shop={installed.address}&id_token={token_for(installed.address)}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f'<meta name="shopify-api-key" content="{client.application.config["SHOPIFY_API_KEY"]}">' in html
    assert '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>' in html
    assert resp.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{installed.address} https://admin.shopify.com;"
    )


def test_app_home_without_id_token_redirects_to_the_patch_page_which_loads_app_bridge(client, installed):
    resp = client.get(f"/shopify?shop={installed.address}&embedded=1")
    assert resp.status_code == 302
    patch = client.get(resp.headers["Location"].split("localhost", 1)[1])
    assert patch.status_code == 200 and "app-bridge.js" in patch.get_data(as_text=True)
    assert installed.address in patch.headers["Content-Security-Policy"]


def test_dashboard_pages_still_may_not_be_framed(client):
    assert client.get("/login").headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_a_retailer_enters_an_invitation_code(client, installed, token_for):
    ws = factories.wholesaler().organization
    invite = Partnership(wholesaler_id=ws.id, invite_code="JOIN-ME-123", status="invited")
    db.session.add(invite)
    db.session.commit()
    resp = client.post(
        "/shopify/partners/accept", data={"code": "JOIN-ME-123"}, headers=bearer(token_for(installed.address))
    )
    assert resp.status_code == 200 and ws.name in resp.get_data(as_text=True)
    db.session.expire_all()
    accepted = db.session.get(Partnership, invite.id)
    assert accepted.retailer_id == installed.organization_id and accepted.status == "active"


def test_an_unknown_invitation_code_is_refused_with_a_message(client, installed, token_for):
    resp = client.post("/shopify/partners/accept", data={"code": "NOPE"}, headers=bearer(token_for(installed.address)))
    assert resp.status_code == 422 and "unknown" in resp.get_data(as_text=True)


def test_accepting_an_invitation_needs_a_session_token(client, installed):
    ws = factories.wholesaler().organization
    db.session.add(Partnership(wholesaler_id=ws.id, invite_code="JOIN-2", status="invited"))
    db.session.commit()
    resp = client.post("/shopify/partners/accept", data={"code": "JOIN-2"}, headers={"Authorization": "Bearer x"})
    assert resp.status_code == 401
    assert (
        db.session.execute(select(Partnership.status).where(Partnership.invite_code == "JOIN-2")).scalar_one()
        == "invited"
    )


def test_one_shop_cannot_read_another_retailers_run(client, installed, token_for):
    _u, _ws, _sor, _rt, other_store, _p = factories.trading_pair()
    foreign = new_run(get_job("orders.pull"), f"connection:{other_store.id}", "manual")
    resp = client.get(f"/shopify/runs/{foreign.id}", headers=bearer(token_for(installed.address)))
    assert resp.status_code == 404


def test_run_now_starts_orders_pull_on_this_store_and_polls_the_embedded_route(client, installed, token_for):
    resp = client.post("/shopify/sync/orders.pull/run", headers=bearer(token_for(installed.address)))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    from portal.models import SyncRun

    run = db.session.execute(select(SyncRun)).scalar_one()
    assert run.target_key == f"connection:{installed.id}" and run.trigger == "manual"
    assert f'hx-get="/shopify/runs/{run.id}"' in html and "/sync/runs/" not in html
    panel = client.get(f"/shopify/runs/{run.id}", headers=bearer(token_for(installed.address)))
    assert panel.status_code == 200 and "orders.pull" in panel.get_data(as_text=True)


def test_the_retailer_cannot_run_wholesaler_jobs_or_billing(client, installed, token_for):
    for job in ("products.push", "billing.run", "nope"):
        resp = client.post(f"/shopify/sync/{job}/run", headers=bearer(token_for(installed.address)))
        assert resp.status_code == 404, job
