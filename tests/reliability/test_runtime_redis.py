"""Redis faults against a real redis-server: paused (SIGSTOP), crashed with and without an append-only file.

Rows 6 and 7 of the fault table, and a Redis that lost its data no longer stops the schedule or loses webhooks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from sqlalchemy import func, select

from integrations.shopify.webhooks import webhook_hmac
from jobs.plan import SYNC_PLAN
from jobs.runtime import drain_outbox, queue
from jobs.scheduler import make_scheduler
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import OutboxMessage, WebhookReceipt
from tests.reliability.conftest import worker_env
from tests.support.waiting import wait_for


def _deliver(client, app, topic: str = "app/scopes_update", shop: str = "acme.myshopify.com"):
    body = json.dumps({"id": 1}).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, app.config["SHOPIFY_API_SECRET"]),
        "Content-Type": "application/json",
    }
    started = time.monotonic()
    response = client.post("/webhooks/shopify", data=body, headers=headers)
    return response, time.monotonic() - started


def _processed() -> int:
    db.session.expire_all()
    return db.session.execute(
        select(func.count()).select_from(WebhookReceipt).where(WebhookReceipt.processed_at.is_not(None))
    ).scalar()


def test_a_paused_redis_costs_healthz_and_webhooks_under_two_seconds_and_the_webhook_is_processed_after_resume(
    make_redis, private_app, services, tmp_path
):
    server = make_redis(appendonly=True)
    app = private_app(server.url)
    client = app.test_client()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        env=worker_env(services, app, server.url),
        start_new_session=True,
    )
    try:
        assert client.get("/healthz").status_code == 200
        server.pause()
        paused_at = time.monotonic()
        started = time.monotonic()
        health = client.get("/healthz")
        health_seconds = time.monotonic() - started
        response, webhook_seconds = _deliver(client, app)
        print(f"\nRedis paused: /healthz {health_seconds:.2f} s, webhook {webhook_seconds:.2f} s")
        assert health.status_code == 503 and health.get_json()["redis"].startswith("down")
        assert health_seconds < 2
        assert response.status_code == 200 and response.get_json()["status"] == "accepted"
        assert webhook_seconds < 2
        msg = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (msg.kind, msg.sent_at) == ("webhook", None)  # the outbox holds it until Redis answers
        time.sleep(max(0.0, 10 - (time.monotonic() - paused_at)))
        server.resume()
        assert wait_for(lambda: _processed() == 1, 90), "the webhook held by the outbox was never processed"
        assert client.get("/healthz").status_code == 200
    finally:
        server.resume()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def _deliver_many(client, app, n: int) -> None:
    for _ in range(n):
        response, _ = _deliver(client, app)
        assert response.status_code == 200


def test_queued_jobs_survive_a_redis_crash_when_it_keeps_an_append_only_file(make_redis, private_app):
    server = make_redis(appendonly=True)
    app = private_app(server.url)
    _deliver_many(app.test_client(), app, 50)
    assert queue("webhooks").count == 50
    time.sleep(1.5)  # appendfsync everysec: what was acknowledged a second ago is on disk
    server.kill()
    server.start()
    assert queue("webhooks").count == 50  # before any drain: Redis itself kept them
    make_worker(app).work(burst=True)
    assert _processed() == 50


def test_after_a_redis_crash_without_persistence_the_outbox_publishes_every_lost_job_again_and_each_runs_once(
    make_redis, private_app
):
    server = make_redis(appendonly=False)
    app = private_app(server.url)
    _deliver_many(app.test_client(), app, 50)
    assert queue("webhooks").count == 50
    server.kill()
    server.start()
    assert queue("webhooks").count == 0  # Redis lost every queued job
    counts = drain_outbox()
    # The endpoint does not write again after its enqueue, so the rows are unsent: the drain publishes all 50.
    assert counts["published"] + counts["republished"] == 50 and queue("webhooks").count == 50
    again = drain_outbox()
    assert again["published"] + again["republished"] == 0  # published once: the jobs exist again
    make_worker(app).work(burst=True)
    assert _processed() == 50
    drain_outbox()
    assert db.session.execute(select(func.count()).where(OutboxMessage.done_at.is_(None))).scalar() == 0


def test_a_scheduler_pass_after_redis_lost_its_data_puts_every_plan_entry_back(make_redis, private_app):
    server = make_redis(appendonly=False)
    app = private_app(server.url)
    scheduler = make_scheduler(app)
    scheduler.enqueue_jobs()
    assert len(list(scheduler.get_jobs())) == len(SYNC_PLAN)
    server.kill()
    server.start()
    assert list(scheduler.get_jobs()) == []
    scheduler.enqueue_jobs()  # the next pass of the running scheduler, no restart
    assert len(list(scheduler.get_jobs())) == len(SYNC_PLAN)


def test_in_production_a_redis_without_an_append_only_file_is_reported_degraded_and_warned_about_at_start(
    make_redis, private_app, caplog
):
    lossy, durable = make_redis(appendonly=False, name="lossy"), make_redis(appendonly=True, name="durable")
    with caplog.at_level("WARNING", logger="portal.redis_conn"):
        app = private_app(lossy.url, WHOLESYNC_ENV="production")
    assert "REDIS IS NOT SAFE FOR PRODUCTION: appendonly is off" in caplog.text
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "degraded" and "appendonly is off" in body["redis_durability"]
    durable_app = private_app(durable.url, WHOLESYNC_ENV="production")
    assert durable_app.test_client().get("/healthz").get_json()["status"] == "ok"
