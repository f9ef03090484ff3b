"""Stock events behind a busy queue: at most one push per partnership waits, whatever number of windows pass before
a worker gets to it, and it takes every change noted meanwhile; once it starts, the next event schedules the next
push (the chaos soak found 180 pushes on the event queue starving every order pull on two workers)."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters

from __future__ import annotations

import time

from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from fakes.shopify.state import gid
from jobs.flows.stock_events import EVENT_QUEUE, PENDING, request_push
from jobs.plan import get_job
from jobs.runtime import connection, new_run, run_job
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import SyncRun, Variant, WebhookReceipt
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture
from tests.sync.conftest import WS_SHOP, world  # noqa: F401 - the fixture
from tests.sync.test_events_catalog import PRICES
from tests.sync.test_events_stock import placed_and_subscribed, settle

WINDOW = 0.05


def _waiting(partnership_id: int) -> list[str]:
    """The partnership's pushes scheduled or queued on the event queue and not started."""
    q = Queue(EVENT_QUEUE, connection=connection())
    ids = ScheduledJobRegistry(queue=q).get_job_ids() + q.get_job_ids()
    return [i for i in ids if i.startswith(f"events-{partnership_id}-")]


def test_windows_passing_behind_a_busy_queue_leave_one_waiting_push_that_takes_every_change(world, app):
    app.config["STOCK_EVENT_WINDOW_SECONDS"] = WINDOW
    world.sync_catalog()
    partnership = world.partnerships[0]
    variants = list(db.session.execute(select(Variant.id).order_by(Variant.id)).scalars())[:5]

    scheduled = []
    for variant_id in variants:  # five events, each in a later window, while no worker runs
        scheduled += request_push([partnership.id], variant_ids=[variant_id])
        time.sleep(WINDOW * 1.5)

    assert len(scheduled) == 1 and _waiting(partnership.id) == scheduled

    time.sleep(WINDOW * 2)
    make_worker(app).work(burst=True, with_scheduler=True)
    db.session.expire_all()
    pushes = list(
        db.session.execute(
            select(SyncRun).where(SyncRun.trigger == "event", SyncRun.target_key == f"partnership:{partnership.id}")
        ).scalars()
    )
    assert [r.status for r in pushes] == ["done"]  # one push ran, and it took every noted change
    assert connection().scard(PENDING.format(kind="variants", partnership=partnership.id)) == 0

    assert request_push([partnership.id], variant_ids=[variants[0]]) != []  # the next change schedules again


def test_changes_noted_while_another_stock_push_is_open_wait_for_the_next_window_instead_of_failing(world, app):
    app.config["STOCK_EVENT_WINDOW_SECONDS"] = WINDOW
    world.sync_catalog()
    partnership = world.partnerships[0]
    target = f"partnership:{partnership.id}"
    swept = new_run(get_job("inventory.push"), target, "schedule")  # e.g. a run the sweeper queued again
    variant = db.session.execute(select(Variant.id).order_by(Variant.id)).scalars().first()
    request_push([partnership.id], variant_ids=[variant])

    time.sleep(WINDOW * 2)
    make_worker(app).work(burst=True, with_scheduler=True)

    q = Queue(EVENT_QUEUE, connection=connection())
    assert FailedJobRegistry(queue=q).get_job_ids() == []  # the event push did not fail
    pending = connection().smembers(PENDING.format(kind="variants", partnership=partnership.id))
    assert pending == {str(variant).encode()}  # kept for the next window's push
    assert len(_waiting(partnership.id)) == 1

    db.session.expire_all()
    swept = db.session.get(SyncRun, swept.id)
    swept.status = "done"
    db.session.commit()
    time.sleep(WINDOW * 2)
    make_worker(app).work(burst=True, with_scheduler=True)
    db.session.expire_all()
    events = db.session.execute(select(SyncRun).where(SyncRun.trigger == "event", SyncRun.target_key == target))
    assert [r.status for r in events.scalars()] == ["done"]
    assert connection().scard(PENDING.format(kind="variants", partnership=partnership.id)) == 0


def test_a_product_event_while_a_catalog_pull_waits_in_the_queue_is_left_to_that_pull(world, app):
    events = placed_and_subscribed(world, app)
    sor_target = f"connection:{events.sor.id}"
    waiting = new_run(get_job("products.pull"), sor_target, "schedule")  # queued, not started
    shop = events.sor_shop()
    tote = shop.variant_by_sku("TOTE-1")
    old_price = events.store_shop(0).variant_by_sku("TOTE-1").price
    prices_in = [{"id": gid("ProductVariant", tote.id), "price": "12.00"}]
    events.sandbox.graphql(WS_SHOP, PRICES, {"p": gid("Product", tote.product_id), "v": prices_in})

    settle(events, app)

    receipts = db.session.execute(select(WebhookReceipt).where(WebhookReceipt.topic == "products/update"))
    assert [(r.processed_at is not None, r.error) for r in receipts.scalars()] == [(True, None)]
    q = Queue("webhooks", connection=connection())
    assert FailedJobRegistry(queue=q).get_job_ids() == [] and ScheduledJobRegistry(queue=q).get_job_ids() == []

    pulled = run_job("products.pull", sor_target, "schedule", waiting.id)  # the pull the event was left to
    assert pulled["status"] == "done"
    events.ok("products.push")
    assert events.store_shop(0).variant_by_sku("TOTE-1").price != old_price  # the new price reached the retailer
