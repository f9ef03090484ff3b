"""Tenant isolation: every dashboard route, called by another wholesaler with the first one's ids, is 403/404.

Routes name their id parameters `<table>_id` (e.g. `partnership_id`); this test resolves each to its table, so
a new route is covered the moment it is added.
"""

from sqlalchemy import select

from jobs.plan import get_job
from jobs.runtime import new_run
from portal.extensions import db
from portal.models import Order
from portal.models.base import Base
from tests.conftest import csrf_token
from tests.support import factories

# /join/<code>: the public page an invited retailer opens from the e-mail (the invitation code is its secret).
PUBLIC_PREFIXES = ("/static", "/healthz", "/login", "/signup", "/logout", "/webhooks", "/shopify", "/embedded", "/join")


def _model_for(param: str):
    table = param.removesuffix("_id")
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table:
            return mapper.class_
    raise AssertionError(f"route parameter {param!r} does not name a table; name id parameters <table>_id")


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PUBLIC_PREFIXES) or not rule.arguments:
            continue
        yield rule


def test_every_id_route_refuses_another_wholesalers_ids(app, client, auth):
    _owner, ws, _sor, _rt, _store, p = factories.trading_pair()
    factories.product(ws)
    factories.price_list(ws)
    db.session.add(Order(wholesaler_id=ws.id, retailer_id=_rt.id, partnership_id=p.id, remote_order_id="victim-1"))
    db.session.commit()
    new_run(get_job("products.push"), f"partnership:{p.id}", "manual")
    intruder = factories.wholesaler()
    factories.trading_pair()  # the intruder's world has rows too, with other ids
    auth.login(intruder.email)
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    checked = 0
    for rule in _id_routes(app):
        values = {}
        for arg in rule.arguments:
            model = _model_for(arg)
            values[arg] = _first_owned_id(model, ws.id)
        url = _build(app, rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            assert response.status_code in (403, 404), f"{method} {url} answered {response.status_code}"
            checked += 1
    assert checked > 0, "no id routes were found to check"


def _first_owned_id(model, org_id: int) -> int:
    """An id of the victim's row in `model` (via its tenant column, or its partnership's)."""
    if hasattr(model, "owned_by"):
        query = select(model.id).where(model.owned_by(org_id))
    else:
        from portal.models import Partnership

        query = (
            select(model.id)
            .join(Partnership, model.partnership_id == Partnership.id)
            .where(Partnership.owned_by(org_id))
        )
    row_id = db.session.execute(query.order_by(model.id)).scalars().first()
    assert row_id is not None, f"the victim has no {model.__tablename__} row to probe with; add one to the test"
    return row_id


def _build(app, rule, values):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_malformed_ids_are_404_not_500(app, client, auth):
    user = factories.wholesaler()
    auth.login(user.email)
    for rule in _id_routes(app):
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "not-a-number").replace(f"<{arg}>", "not-a-number")
        assert client.get(path).status_code in (404, 405), path
