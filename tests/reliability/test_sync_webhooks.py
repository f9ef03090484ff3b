"""Shopify deliveries out of order: an older orders/updated that arrives after a newer one, through the real
endpoint with real HMACs, is recorded and never acts again on the order (newer state wins)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fakes.shopify.oauth import webhook_hmac
from jobs.webhook_jobs import process_receipt
from portal.extensions import db
from portal.models import SyncRun, WebhookReceipt
from tests.support import factories

ORDER_ID = 820982911946154508


def _deliver(client, app, shop: str, updated_at: datetime, triggered_at: datetime, event: str):
    """POST one signed orders/updated delivery to /webhooks/shopify; returns the stored receipt."""
    payload = {
        "id": ORDER_ID,
        "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}",
        "updated_at": _iso(updated_at),
    }
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, app.config["SHOPIFY_API_SECRET"]),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": app.config["SHOPIFY_API_VERSION"],
        "X-Shopify-Webhook-Id": f"wh-{event}",
        "X-Shopify-Event-Id": event,
        "X-Shopify-Triggered-At": _iso(triggered_at),
    }
    resp = client.post("/webhooks/shopify", data=body, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "accepted", resp.get_data(as_text=True)
    return db.session.get(WebhookReceipt, resp.get_json()["receipt"])


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pull_runs() -> int:
    return db.session.execute(
        select(func.count()).select_from(SyncRun).where(SyncRun.job_name == "orders.pull")
    ).scalar_one()


def test_an_older_order_delivery_arriving_after_a_newer_one_is_recorded_as_stale_and_does_not_act(app, client):
    *_rest, store, _partnership = factories.trading_pair()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    newer = _deliver(client, app, store.address, t0 + timedelta(minutes=2), t0 + timedelta(minutes=2), "evt-new")
    older = _deliver(client, app, store.address, t0, t0, "evt-old")  # Shopify's retry of an earlier change, late

    first = process_receipt(newer.id)
    assert "sync_run_id" in first and _pull_runs() == 1
    second = process_receipt(older.id)
    assert second == {
        "stale": f"receipt {newer.id} already carried a newer state of this order",
        "newer_receipt": newer.id,
    }
    assert _pull_runs() == 1  # the stale state did not ask for anything
    db.session.expire_all()
    assert db.session.get(WebhookReceipt, older.id).result["newer_receipt"] == newer.id  # recorded, not dropped


def test_deliveries_in_order_each_act(app, client):
    *_rest, store, _partnership = factories.trading_pair()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    older = _deliver(client, app, store.address, t0, t0, "evt-1")
    assert "sync_run_id" in process_receipt(older.id)
    newer = _deliver(client, app, store.address, t0 + timedelta(minutes=1), t0 + timedelta(minutes=1), "evt-2")
    assert "sync_run_id" in process_receipt(newer.id)  # newer than everything seen: it acts
