"""Every POST of the portal's areas refuses a missing CSRF token, and every page needs a signed-in user."""

import pytest

AREAS = ("sync.", "partners.", "pricing.", "catalog.", "orders.", "activity.", "ops.", "dashboard.")


def _rules(app, method):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(AREAS) and method in rule.methods:
            yield rule


def _url(rule, world):
    ids = {
        "partnership_id": world.partnership.id,
        "sync_run_id": 1,
        "order_id": world.orders[0].id,
        "product_id": world.products[0].id,
        "price_list_id": 1,
    }
    path = rule.rule
    for arg in rule.arguments:
        path = path.replace(f"<int:{arg}>", str(ids[arg]))
    return path


def test_every_post_route_refuses_a_missing_csrf_token(app, client, signed_in):
    from tests.support import factories

    factories.price_list(signed_in.org)
    posts = list(_rules(app, "POST"))
    assert len(posts) >= 8
    for rule in posts:
        response = client.post(_url(rule, signed_in), data={"job": "products.push", "email": "a@example.com"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without a CSRF token"
        assert "form expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_page_requires_signing_in(app, client, world, method):
    for rule in _rules(app, method):
        if rule.endpoint == "dashboard.index":
            continue
        response = client.open(_url(rule, world), method=method)
        assert response.status_code in (302, 400, 401), f"{method} {rule.rule} answered {response.status_code}"
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_run_history_and_price_lists_show_only_this_organizations_rows(client, signed_in, other):
    from portal.extensions import db
    from portal.models import SyncRun
    from tests.support import factories

    factories.price_list(signed_in.org, name="Ours")
    factories.price_list(other.org, name="Theirs")
    theirs = db.session.query(SyncRun.id).filter_by(organization_id=other.org.id).scalar()
    history = client.get("/sync/runs").get_data(as_text=True)
    assert f'href="/sync/runs/{theirs}"' not in history and "products.push" in history
    lists = client.get("/price-lists/").get_data(as_text=True)
    assert "Ours" in lists and "Theirs" not in lists
    assert client.get(f"/sync/runs/{theirs}").status_code == 404
