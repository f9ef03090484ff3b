"""A store that shuts us out ends the run once, failed, with the reason, in every flow (not one failed record per
order or product); a run on a connection that is no longer active does nothing and says it was skipped and why."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters

from __future__ import annotations

from sqlalchemy import func, select

from fakes.shopify.resolvers.orders import place_order
from integrations.base import AccessRevoked
from jobs.flows import orders as order_flow
from jobs.runtime import run_job
from portal.extensions import db
from portal.models import Order, RecordFailure, SyncRun
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture
from tests.sync.conftest import RT_SHOPS, WS_SHOP, world  # noqa: F401 - the fixture


def _sent_orders(world, count: int) -> list[Order]:
    world.sync_catalog()
    for n in range(count):
        place_order(world.sandbox.sandbox, RT_SHOPS[n % len(RT_SHOPS)], [("TOTE-1", 1)])
    world.ok("orders.pull")
    world.ok("orders.push")
    orders = list(db.session.execute(select(Order)).scalars())
    assert len(orders) == count and all(o.sor_remote_order_id for o in orders)
    return orders


def _record_failures() -> int:
    return db.session.execute(select(func.count()).select_from(RecordFailure)).scalar_one()


def test_a_wholesaler_store_that_shut_us_out_fails_the_shipment_pull_once_with_the_reason(world):
    _sent_orders(world, 3)
    world.sandbox.sandbox.revoke_tokens(WS_SHOP)

    result = run_job("order_updates.pull", f"connection:{world.sor.id}", "schedule")

    assert result["status"] == "failed", result
    assert "Reconnect your Shopify store" in result["message"]
    assert result["failed"] == 0 and result["failures"] == []  # no order is blamed for the store's refusal


def test_access_lost_inside_a_per_record_loop_fails_the_run_and_records_no_failed_record(world, monkeypatch):
    world.sync_catalog()
    for _ in range(3):
        place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    calls = []

    def shut_out(ctx, conn, remote, owners, *_):
        calls.append(remote.remote_id)
        raise AccessRevoked(f"Wholesync lost access to {conn.address}. Open the Wholesync app again.")

    monkeypatch.setattr(order_flow, "_take_order", shut_out)

    result = run_job("orders.pull", f"connection:{world.stores[0].id}", "schedule")

    assert result["status"] == "failed" and "lost access" in result["message"]
    assert len(calls) == 1  # the other orders are not tried against a store that shut us out
    assert result["failed"] == 0 and _record_failures() == 0


def test_a_scheduled_run_on_a_connection_needing_reauth_is_skipped_with_the_reason(world):
    conn = world.stores[0]
    conn.status = "needs_reauth"
    db.session.commit()

    result = run_job("orders.pull", f"connection:{conn.id}", "schedule")

    assert result["status"] == "skipped"
    assert result["message"].startswith(f"Skipped: the connection to {RT_SHOPS[0]} is not active")
    assert "reconnected" in result["message"] and result["api_calls"] == 0
    assert db.session.get(SyncRun, result["id"]).finished_at is not None


def test_a_scheduled_run_on_an_uninstalled_store_is_skipped_and_says_the_app_was_uninstalled(world):
    conn = world.stores[1]
    conn.status = "uninstalled"
    db.session.commit()

    result = run_job("orders.pull", f"connection:{conn.id}", "schedule")

    assert result["status"] == "skipped" and "the app was uninstalled" in result["message"]
    assert result["done"] == 0 and result["api_calls"] == 0
