"""The retailer's side without Shopify: the sandbox admin's app page frames the embedded app with a session token
it minted, the app installs the store by the real token exchange, and its htmx tabs get fresh tokens from the
sandbox's App Bridge stand-in. Polaris's script (Shopify's CDN) is stubbed: the markup must stand on its own."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection

pytestmark = pytest.mark.browser

POLARIS = "https://cdn.shopify.com/shopifycloud/polaris-1.js"


@pytest.fixture
def framed(app, sandbox, live_server, page):
    """The app told to trust the sandbox admin as a frame and to load App Bridge from the sandbox (as `make run`)."""
    sandbox.sandbox.config.app_url = live_server
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(sandbox.base_url))
    app.config.update(SHOPIFY_EXTRA_FRAME_ANCESTORS=origin, SHOPIFY_APP_BRIDGE_URL=f"{origin}/_sandbox/app-bridge.js")
    polaris = []
    page.route(POLARIS, lambda r: (polaris.append(1), r.fulfill(body="", content_type="application/javascript")))
    return sandbox, page, polaris


def test_a_retailer_opens_the_app_in_the_sandbox_admin_and_its_tabs_carry_session_tokens(app, framed):
    sandbox, page, polaris = framed
    shop = "corner-shop.myshopify.com"
    sandbox.add_shop(shop)
    authorizations = []
    page.on("request", lambda r: "/shopify/" in r.url and authorizations.append(r.headers.get("authorization")))

    page.goto(f"{sandbox.base_url}/_sandbox/admin/{shop}/apps/wholesync")
    assert "Local sandbox" in page.locator(".banner").inner_text()
    frame = page.frame_locator("iframe[name=app-iframe]")
    frame.get_by_role("heading", name="Wholesync").wait_for(timeout=15_000)
    store = db.session.execute(select(Connection).where(Connection.address == shop)).scalar_one()
    assert store.role == "store" and store.token_expires_at is not None  # installed by the token exchange

    frame.get_by_role("button", name="Orders").click()
    frame.get_by_role("heading", name="Orders sent to wholesalers").wait_for(timeout=10_000)
    assert authorizations and all(a and a.startswith("Bearer ey") for a in authorizations)
    assert polaris, "the page asks for Polaris's script"


def test_the_app_pages_are_polaris_components_with_meaning_without_the_script(app, framed):
    sandbox, page, _ = framed
    shop = "corner-shop.myshopify.com"
    sandbox.add_shop(shop)
    page.goto(f"{sandbox.base_url}/_sandbox/admin/{shop}/apps/wholesync?tab=sync")
    frame = page.frame_locator("iframe[name=app-iframe]")
    frame.get_by_role("heading", name="Sync", exact=True).wait_for(timeout=15_000)
    assert frame.locator("s-page s-section#sync").count() == 1
    assert frame.locator("ui-nav-menu a[rel=home]").count() == 1  # App Bridge's navigation menu
    nav = frame.locator("ui-nav-menu a", has_text="Incoming catalog")
    assert "tab=catalog" in nav.get_attribute("href")
    assert frame.get_by_role("button", name="Run now").count() >= 1  # <s-button role="button">
    frame.get_by_role("button", name="Partners").click()
    frame.get_by_role("table", name="Your wholesalers").or_(frame.get_by_text("No wholesaler yet")).wait_for()


def test_a_foreign_origin_gets_no_session_token_from_the_sandbox_admin(app, sandbox):
    shop = "corner-shop.myshopify.com"
    sandbox.add_shop(shop)
    url = f"{sandbox.base_url}/_sandbox/admin/{shop}/apps/wholesync/session_token"
    refused = httpx.post(url, headers={"Origin": "https://evil.example.com"})
    allowed = httpx.post(url, headers={"Origin": sandbox.base_url})
    assert refused.status_code == 403
    assert allowed.status_code == 200 and allowed.text.startswith("ey")
