"""The soak's sandbox routes (fakes/shopify/faults.py) a merchant's and a customer's actions go through."""

from __future__ import annotations

import argparse
import json

from werkzeug.test import Client

from fakes.serve import build, seed_demo
from fakes.shopify.faults import install
from portal.demo import WHOLESALER_SHOP


def _client():
    args = argparse.Namespace(app_url="http://localhost:5000", restore_rate=100.0, maximum_available=2000.0)
    sandbox, app = build(args)
    sandbox.outbox.auto_deliver = False
    install(sandbox)
    seed_demo(sandbox)
    return sandbox, Client(app)


def _post(client, path: str, body: dict):
    response = client.post(f"/_sandbox/shops/{WHOLESALER_SHOP}/{path}", json=body)
    return response.status_code, json.loads(response.data)


def _dump(client) -> dict:
    return json.loads(client.get(f"/_sandbox/shops/{WHOLESALER_SHOP}/dump").data)


def test_the_cancel_route_cancels_an_unshipped_order_restocks_it_and_refuses_a_second_cancel():
    _sandbox, client = _client()
    before = next(v for v in _dump(client)["variants"] if v["sku"] == "TEE-M")["primary_available"]
    status, placed = _post(client, "orders", {"lines": [["TEE-M", 2]]})
    assert status == 200
    order_id = placed["id"]
    assert _post(client, "cancel", {"order": order_id}) == (200, {"cancelled": True})
    dumped = _dump(client)
    order = next(o for o in dumped["orders"] if o["id"] == order_id)
    assert order["cancelled"] is True and order["cancellation_pending"] is False
    assert next(v for v in dumped["variants"] if v["sku"] == "TEE-M")["primary_available"] == before
    status, refused = _post(client, "cancel", {"order": order_id})
    assert status == 422 and "already been cancelled" in refused["error"]


def test_the_cancel_route_answers_404_for_an_unknown_order():
    _sandbox, client = _client()
    assert _post(client, "cancel", {"order": "gid://shopify/Order/999999"})[0] == 404


def test_the_edit_route_lowers_a_line_restocks_the_unit_and_refuses_an_unknown_sku():
    _sandbox, client = _client()
    before = next(v for v in _dump(client)["variants"] if v["sku"] == "TEE-M")["primary_available"]
    _status, placed = _post(client, "orders", {"lines": [["TEE-M", 3]]})
    assert _post(client, "edit", {"order": placed["id"], "lines": [["TEE-M", 1]]}) == (200, {"edited": True})
    dumped = _dump(client)
    order = next(o for o in dumped["orders"] if o["id"] == placed["id"])
    assert order["lines"] == [{"sku": "TEE-M", "quantity": 1}]
    assert next(v for v in dumped["variants"] if v["sku"] == "TEE-M")["primary_available"] == before - 1
    assert _post(client, "edit", {"order": placed["id"], "lines": [["NOPE", 1]]})[0] == 422
