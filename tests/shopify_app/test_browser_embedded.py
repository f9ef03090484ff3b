"""The embedded app in a real browser, framed the way the Shopify admin frames it.

Playwright plays Shopify's side: it serves the admin page at https://admin.shopify.com (which iframes our App URL
with an `id_token`, as Shopify does) and App Bridge's script, whose `shopify.idToken()` asks the admin for a fresh
session token signed with the app secret. Our app runs as a real server (werkzeug in a thread).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.extensions import db
from portal.models import Listing, utcnow
from tests.shopify_app.conftest import session_token
from tests.support import factories

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")) and not os.environ.get("REQUIRE_BROWSER"),
        reason="Chromium is not installed (set REQUIRE_BROWSER=1 to make this a failure)",
    ),
]

# The app is reached at a public https origin, as in production; Playwright forwards it to the local server
# (Chromium's local-network-access checks forbid a public page from framing 127.0.0.1 directly).
APP_ORIGIN = "https://wholesync-app.example"
APP_BRIDGE_STUB = """
window.shopify = { idToken: function () {
  return fetch("https://admin.shopify.com/__session_token").then(function (r) { return r.text(); });
} };
"""


@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def store_with_catalog(app):
    _u, ws, _sor, _rt, store, p = factories.trading_pair()
    store.token_expires_at = utcnow() + timedelta(hours=1)
    prod = factories.product(ws, skus=("SKU-B-1", "SKU-B-2"))
    prod.title = "Browser Test Lamp"
    db.session.add(
        Listing(
            partnership_id=p.id,
            product_id=prod.id,
            retailer_connection_id=store.id,
            remote_product_id="gid://shopify/Product/77",
            created_unpublished=True,
        )
    )
    db.session.commit()
    return store


def _admin(context, app, server, shop, *, token_secret=None, frame_origin="https://admin.shopify.com"):
    """Route Shopify's hosts: the admin page framing the app, App Bridge, and the admin's token endpoint."""
    name = shop.split(".")[0]
    sent = []

    def mint():
        return session_token(app, shop, secret=token_secret) if token_secret else session_token(app, shop)

    def admin_page(route):
        url = f"{APP_ORIGIN}/shopify?shop={shop}&host=YWRtaW4&embedded=1&id_token={session_token(app, shop)}"
        route.fulfill(
            content_type="text/html",
            body=f'<!doctype html><title>Shopify admin</title><iframe name="app-iframe" src="{url}" '
            f'style="width:100%;height:900px"></iframe>',
        )

    def token(route):
        sent.append(1)
        route.fulfill(body=mint(), headers={"Access-Control-Allow-Origin": "*"})

    def app_server(route):
        local = route.request.url.replace(APP_ORIGIN, server, 1)
        route.fulfill(response=route.fetch(url=local, max_redirects=0))

    context.route(re.compile("^" + re.escape(APP_ORIGIN) + "/"), app_server)
    context.route(
        "https://cdn.shopify.com/shopifycloud/app-bridge.js",
        lambda r: r.fulfill(body=APP_BRIDGE_STUB, content_type="application/javascript"),
    )
    context.route("https://admin.shopify.com/__session_token", token)
    context.route(f"{frame_origin}/store/{name}/apps/wholesync", admin_page)
    return f"{frame_origin}/store/{name}/apps/wholesync", sent


def test_the_admin_iframe_shows_the_incoming_catalog_with_session_tokens(app, server, browser, store_with_catalog):
    context = browser.new_context()
    page = context.new_page()
    url, minted = _admin(context, app, server, store_with_catalog.address)
    seen = []
    page.on("request", lambda r: seen.append((r.url, r.headers.get("authorization"))) if "/shopify/" in r.url else None)
    page.goto(url)
    frame = page.frame_locator("iframe[name=app-iframe]")
    frame.get_by_role("heading", name="Wholesync").wait_for()
    frame.get_by_role("button", name="Incoming catalog").click()
    frame.get_by_text("Browser Test Lamp").wait_for(timeout=10_000)
    assert "arrived unpublished" in frame.locator("#catalog").inner_text()
    catalog_calls = [auth for u, auth in seen if u.startswith(f"{APP_ORIGIN}/shopify/catalog")]
    assert catalog_calls and all(a and a.startswith("Bearer ey") for a in catalog_calls)
    assert minted, "the app asked App Bridge for a fresh session token"
    context.close()


def test_a_forged_session_token_gets_no_catalog_in_the_browser(app, server, browser, store_with_catalog):
    context = browser.new_context()
    page = context.new_page()
    url, _ = _admin(context, app, server, store_with_catalog.address, token_secret="not-the-app-secret")
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if "/shopify/catalog" in r.url else None)
    page.goto(url)
    frame = page.frame_locator("iframe[name=app-iframe]")
    frame.get_by_role("heading", name="Wholesync").wait_for()
    frame.get_by_role("button", name="Incoming catalog").click()
    page.wait_for_timeout(1500)
    assert statuses and set(statuses) == {401}  # the first try and the one retry App Bridge's header asks for
    assert "Browser Test Lamp" not in frame.locator("body").inner_text()
    context.close()


def test_a_request_without_a_token_gets_no_data(app, server, browser, store_with_catalog):
    context = browser.new_context()
    resp = context.request.get(f"{server}/shopify/catalog", max_redirects=0)
    assert resp.status in (302, 401) and "Browser Test Lamp" not in resp.text()
    context.close()


def test_a_foreign_site_cannot_frame_the_app(app, server, browser, store_with_catalog):
    context = browser.new_context()
    page = context.new_page()
    url, _ = _admin(context, app, server, store_with_catalog.address, frame_origin="https://evil.example.com")
    served = []
    page.on("response", lambda r: served.append(r.status) if r.url.startswith(f"{APP_ORIGIN}/shopify?") else None)
    page.goto(url)
    page.wait_for_timeout(1500)
    assert served == [200]  # the app did answer; it is the browser that refuses to show it in this frame
    frame = page.frame(name="app-iframe")
    body = frame.evaluate("document.body ? document.body.innerText : ''") if frame else ""
    assert "Wholesync" not in body  # Chromium enforced frame-ancestors: only the shop and admin.shopify.com
    context.close()


def test_a_retailer_installs_accepts_an_invite_and_sees_the_pushed_catalog(app, server, browser, sandbox):
    """The whole retailer journey in the browser, every Shopify call going to the sandbox."""
    from jobs.runtime import run_now
    from portal.models import Connection, Partnership

    ws_shop, rt_shop = "acme-hq.myshopify.com", "corner-shop.myshopify.com"
    user = factories.wholesaler(name="Acme Wholesale")
    factories.connection(user.organization, "system_of_record", ws_shop, access_token=sandbox.add_shop(ws_shop))
    sandbox.add_product(ws_shop, "Ceramic Mug", [{"sku": "MUG-1", "price": "8.00", "available": 12}])
    invite = Partnership(wholesaler_id=user.organization_id, invite_code="ACME-JOIN-7", status="invited")
    db.session.add(invite)
    db.session.commit()
    sandbox.add_shop(rt_shop)

    context = browser.new_context()
    page = context.new_page()
    url, _ = _admin(context, app, server, rt_shop)
    page.goto(url)  # first open: token exchange with the sandbox creates the retailer and its store connection
    frame = page.frame_locator("iframe[name=app-iframe]")
    frame.get_by_role("heading", name="Wholesync").wait_for()
    store = db.session.execute(select(Connection).where(Connection.address == rt_shop)).scalar_one()
    assert store.role == "store" and store.token_expires_at is not None

    frame.get_by_label("Invitation code").fill("ACME-JOIN-7")
    frame.get_by_role("button", name="Accept invitation").click()
    frame.get_by_text("Invitation accepted").wait_for()
    db.session.expire_all()
    assert db.session.get(Partnership, invite.id).retailer_id == store.organization_id

    for job in ("products.pull", "products.push"):
        [result] = run_now(job)
        assert result["status"] == "done" and not result["failed"], result
    frame.get_by_role("button", name="Incoming catalog").click()
    frame.get_by_text("Ceramic Mug").wait_for(timeout=10_000)
    assert "arrived unpublished" in frame.locator("#catalog").inner_text()
    [product] = sandbox.shop(rt_shop).products.values()
    assert product.title == "Ceramic Mug" and product.status == "DRAFT"
    context.close()
