"""A burst of webhooks through the real endpoint while the outbox holds a backlog: every receipt processed once.

Workers drain the outbox between jobs; a drain that cost a query per queued row, run again as soon as it ended,
once kept two workers on one job per pass while hundreds of accepted webhooks waited in the queue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from rq.job import Job
from sqlalchemy import event, func, select

from integrations.shopify.webhooks import webhook_hmac
from jobs import outbox
from jobs.runtime import drain_outbox, queue
from jobs.worker import DRAIN_KEY, make_worker
from portal.extensions import db
from portal.models import OutboxMessage, WebhookReceipt
from tests.reliability.conftest import worker_env
from tests.support.waiting import wait_for


def _deliver(client, app, n: int):
    body = json.dumps({"id": n, "current": ["read_products"]}).encode()
    headers = {
        "X-Shopify-Topic": "app/scopes_update",
        "X-Shopify-Shop-Domain": "burst.myshopify.com",
        "X-Shopify-Event-Id": f"burst-event-{n}",
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, app.config["SHOPIFY_API_SECRET"]),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/shopify", data=body, headers=headers)


def _processed() -> int:
    db.session.expire_all()
    return db.session.execute(
        select(func.count()).select_from(WebhookReceipt).where(WebhookReceipt.processed_at.is_not(None))
    ).scalar()


def _open_outbox() -> int:
    return db.session.execute(select(func.count()).where(OutboxMessage.done_at.is_(None))).scalar()


def test_two_hundred_webhooks_through_the_endpoint_with_two_real_workers_are_all_processed_exactly_once(app, services):
    client = app.test_client()
    answers = [_deliver(client, app, n) for n in range(200)]
    assert [r.get_json()["status"] for r in answers] == ["accepted"] * 200
    assert queue("webhooks").count == 200
    # Maintenance (and so the outbox drain) every second: the drain must not crowd out the jobs it queued.
    env = worker_env(services, app, app.config["REDIS_URL"], RQ_MAINTENANCE_INTERVAL=1)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", f"burst-{n}"],
            env=env,
            start_new_session=True,
        )
        for n in range(2)
    ]
    started = time.monotonic()
    try:
        assert wait_for(lambda: _processed() == 200, 150), f"only {_processed()} of 200 processed"
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    print(f"\n200 webhooks processed by 2 workers in {elapsed:.1f} s")
    receipts = db.session.execute(select(WebhookReceipt)).scalars().all()
    assert len({r.event_id for r in receipts}) == 200
    webhooks = queue("webhooks")
    finished = webhooks.finished_job_registry.get_job_ids()
    assert sorted(finished) == sorted(f"webhook-{r.id}" for r in receipts)
    assert webhooks.failed_job_registry.count == 0 and webhooks.count == 0
    # Exactly once: each job ran one time, and that time did the work (a second run would report "skipped").
    for job_id in finished:
        results = Job.fetch(job_id, connection=outbox.connection()).results()
        assert len(results) == 1 and results[0].return_value == {"scopes": "read_products"}
    drain_outbox()
    assert _open_outbox() == 0


def test_a_drain_over_a_backlog_of_queued_webhooks_costs_a_fixed_number_of_queries(app):
    client = app.test_client()
    for n in range(300):
        assert _deliver(client, app, n).status_code == 200
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = drain_outbox()
        second = drain_outbox()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert first == {"published": 300, "republished": 0, "done": 0, "failed": 0}  # RQ had them: marked sent
    assert second == {"published": 0, "republished": 0, "done": 0, "failed": 0}
    assert queue("webhooks").count == 300  # nothing enqueued twice
    assert len(statements) < 30, f"{len(statements)} statements for two drains of 300 rows"


def test_a_drain_slower_than_the_maintenance_interval_still_leaves_the_worker_time_for_jobs(app, monkeypatch):
    drains = []

    def slow_drain():
        drains.append(time.monotonic())
        time.sleep(1.2)
        return {}

    monkeypatch.setattr("jobs.runtime.drain_outbox", slow_drain)
    outbox.connection().delete(DRAIN_KEY)  # a worker of an earlier test may have drained less than 5 s ago
    first, second = make_worker(app, name="maint-1"), make_worker(app, name="maint-2")
    first.maintenance_interval = second.maintenance_interval = 1
    first.run_maintenance_tasks()
    assert not first.should_run_maintenance_tasks  # the interval counts from the end of the drain
    second.run_maintenance_tasks()
    assert len(drains) == 1  # one drain per interval for the whole fleet
    outbox.connection().delete(DRAIN_KEY)
    second.run_maintenance_tasks()
    assert len(drains) == 2
