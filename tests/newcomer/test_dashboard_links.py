"""What a newcomer sees around the dashboard: a link to the local sandbox's shop pages only where the product talks
to the sandbox, and a favicon the pages link to (no 404 in the browser console)."""

from __future__ import annotations

from tests.support import factories


def _dashboard(app, client, auth) -> str:
    user = factories.wholesaler(name="Acme Wholesale")
    auth.login(user.email)
    return client.get("/dashboard/overview").get_data(as_text=True)


def test_the_dashboard_links_the_sandbox_shop_pages_when_the_sandbox_is_configured(app, client, auth):
    app.config["SHOPIFY_ADMIN_BASE_URL"] = "http://127.0.0.1:5001/"
    html = _dashboard(app, client, auth)
    assert 'href="http://127.0.0.1:5001/_sandbox/admin/"' in html
    assert "Local sandbox shops" in html


def test_the_dashboard_has_no_sandbox_link_against_real_shopify(app, client, auth):
    app.config["SHOPIFY_ADMIN_BASE_URL"] = ""
    html = _dashboard(app, client, auth)
    assert "Local sandbox shops" not in html and "/_sandbox/" not in html


def test_every_page_links_a_favicon_that_is_served(app, client, auth):
    html = _dashboard(app, client, auth)
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
