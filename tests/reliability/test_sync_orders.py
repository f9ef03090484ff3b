"""Orders under injected faults: a create answered after our timeout makes one order, a failing record is retried
and never skipped by the cursor, equal timestamps and late commits at the cursor boundary are all read, and two
untracked shipments of the same lines are two fulfillments at the retailer."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from fakes.shopify.resolvers.fulfillments import ship
from fakes.shopify.resolvers.orders import place_order
from integrations.shopify.client import ShopifyClient, resend_safe
from integrations.shopify.errors import ShopifyOutcomeUnknown
from jobs.flows import orders as order_flow
from portal.extensions import db
from portal.models import Order, RecordFailure, SyncCursor
from portal.redis_conn import get_redis
from portal.services import dashboard
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture
from tests.sync.conftest import RT_SHOPS, WS_SHOP, world  # noqa: F401 - the fixture


def _late_answers_to(world, mutation: str, seconds: float) -> list[str]:  # noqa: F811
    """The sandbox runs and commits every `mutation` request, then answers it only after `seconds`."""
    sb = world.sandbox.sandbox
    inner, seen = sb.wsgi_app, []

    def wsgi_app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        chunks = list(inner(environ, start_response))  # runs and commits the document
        if mutation.encode() in body:
            seen.append(mutation)
            time.sleep(seconds)  # the answer arrives after the client gave up
        return chunks

    sb.wsgi_app = wsgi_app
    return seen


def _short_timeout(world, seconds: float) -> None:  # noqa: F811
    world.sandbox.app.config["SHOPIFY_HTTP_TIMEOUT"] = seconds
    world.sandbox.app.extensions.pop("wholesync_shopify_http", None)


def test_order_create_answered_after_our_timeout_makes_exactly_one_order(world):  # noqa: F811
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 2)])
    world.ok("orders.pull")
    _short_timeout(world, 1.0)
    seen = _late_answers_to(world, "orderCreate", 2.5)
    first = world.run("orders.push")
    second = world.run("orders.push")
    assert seen == ["orderCreate"]  # sent once, never resent after the lost answer
    assert len(world.sor_shop().orders) == 1
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "sent" and order.sor_remote_order_id
    assert [r["created"] for r in first + second] == [1, 0]  # the lost answer was recovered by our marker
    assert second[0]["status"] == "done" and second[0]["total"] == 0


def _client(handler, shop="a.myshopify.com", sleep=lambda s: None):
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return ShopifyClient(shop, "tok", api_version="2026-07", redis=get_redis(), http=http, sleep=sleep)


def test_a_5xx_or_timeout_on_a_non_idempotent_create_is_not_resent(app):
    calls = []

    def failing(request):
        calls.append(request)
        raise httpx.ReadTimeout("late", request=request)

    with pytest.raises(ShopifyOutcomeUnknown):
        _client(failing).query("mutation M { orderCreate(order: {}) { order { id } } }")
    assert len(calls) == 1
    calls.clear()

    def bad_gateway(request):
        calls.append(request)
        return httpx.Response(502, json={"errors": "Bad Gateway"})

    with pytest.raises(ShopifyOutcomeUnknown):
        _client(bad_gateway, "b.myshopify.com").query(
            "mutation { fulfillmentCreate(fulfillment: {}) { userErrors { message } } }"
        )
    assert len(calls) == 1


def test_queries_and_idempotent_mutations_are_still_resent_after_a_5xx(app):
    answers = [httpx.Response(503, json={}), httpx.Response(200, json={"data": {"ok": True}})]
    calls = []

    def handler(request):
        calls.append(request)
        return answers[len(calls) - 1] if len(calls) <= len(answers) else answers[-1]

    doc = (
        "mutation S($k: String!) { inventorySetQuantities(input: {}) @idempotent(key: $k) { userErrors { message } } }"
    )
    assert resend_safe(doc) and resend_safe("query { shop { id } }") and not resend_safe("mutation { orderCreate }")
    assert _client(handler, "c.myshopify.com").query(doc, {"k": "x"}) == {"ok": True}
    assert len(calls) == 2


def test_a_retailer_order_that_fails_is_retried_and_the_cursor_never_passes_it(world, monkeypatch):  # noqa: F811
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    real_new_order, failing = order_flow._new_order, {"on": True}

    def flaky(conn, partnership, remote, lines):
        if failing["on"] and remote.lines[0].sku == "TOTE-1":
            raise RuntimeError("database hiccup")
        return real_new_order(conn, partnership, remote, lines)

    monkeypatch.setattr(order_flow, "_new_order", flaky)
    for _ in range(3):
        # A later order that syncs fine would have moved the cursor past the failed one before.
        place_order(world.sandbox.sandbox, RT_SHOPS[0], [("SCARF-1", 1)])
        result = world.run("orders.pull")[0]
        assert result["status"] == "done_with_failures" and result["failed"] == 1, result
        assert "1 record(s) failed" in result["message"]
    failure = db.session.execute(select(RecordFailure)).scalar_one()
    assert failure.attempts == 3 and failure.resolved_at is None
    cursor = db.session.execute(select(SyncCursor.high_water_mark).where(SyncCursor.stream == "orders")).scalar_one()
    assert cursor <= failure.record_updated_at
    shown, rows = dashboard.failed_records(world.retailers[0].id)  # what the overview and operator view list
    assert shown == 1 and "database hiccup" in rows[0].last_error
    assert dashboard.failed_records()[0] == 1

    failing["on"] = False
    result = world.run("orders.pull")[0]
    assert result["status"] == "done" and result["failed"] == 0
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 4  # 1 tote + 3 scarf orders
    db.session.refresh(failure)
    assert failure.resolved_at is not None
    world.run("orders.pull")  # replay: nothing twice
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 4


def test_equal_timestamps_and_late_commits_at_the_cursor_boundary_are_all_read_after_two_runs(world):  # noqa: F811
    world.sync_catalog()
    shop = world.store_shop(0)
    first = [place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)]) for _ in range(2)]
    boundary = max(o.updated_at for o in shop.orders.values())
    for o in shop.orders.values():
        o.updated_at = boundary  # equal timestamps
    world.ok("orders.pull")
    # Committed late: one with exactly the boundary's timestamp, one five minutes before it (inside the overlap).
    late = [place_order(world.sandbox.sandbox, RT_SHOPS[0], [("SCARF-1", 1)]) for _ in range(2)]
    ids = {int(p["id"].rsplit("/", 1)[1]) for p in late}
    shop.orders[min(ids)].updated_at = boundary
    shop.orders[max(ids)].updated_at = boundary - timedelta(minutes=5)
    world.ok("orders.pull")
    world.ok("orders.pull")
    names = sorted(db.session.execute(select(Order.retailer_order_name)).scalars())
    assert names == sorted(p["name"] for p in first + late)  # all present, none twice


def test_two_untracked_shipments_of_the_same_lines_are_two_fulfillments_at_the_retailer(world):  # noqa: F811
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 2)])
    world.ok("orders.pull")
    world.ok("orders.push")
    order = db.session.execute(select(Order)).scalar_one()
    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, [("TOTE-1", 1)])
    world.ok("order_updates.pull")
    world.ok("order_updates.push")
    ship(world.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, [("TOTE-1", 1)])
    world.ok("order_updates.pull")
    world.ok("order_updates.push")
    world.ok("order_updates.push")  # replay
    assert len(world.store_shop(0).fulfillments) == 2
    db.session.refresh(order)
    assert order.status == "completed"
    assert len({f.retailer_remote_fulfillment_id for f in order.fulfillments}) == 2
