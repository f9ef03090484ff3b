"""Webhook receipts run in the worker itself, without a forked work-horse (the fork cost more than the receipt's
work: the chaos soak queued hundreds of them); every other job still runs in a horse. A worker killed while it runs
a receipt leaves the receipt to another worker, as a killed horse would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from rq import Queue

from jobs import webhook_jobs
from jobs.runtime import connection
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import WebhookReceipt
from tests.reliability.conftest import worker_env
from tests.support.factories import queued_receipt
from tests.support.waiting import wait_for


def test_a_webhook_receipt_runs_in_the_worker_itself_and_other_jobs_in_a_forked_horse(app, monkeypatch):
    monkeypatch.setitem(webhook_jobs.HANDLERS, "app/scopes_update", lambda receipt: {"pid": os.getpid()})
    receipt = queued_receipt("evt-in-process", ("read_products",))
    other = Queue("sync", connection=connection()).enqueue("os.getpid")
    make_worker(app).work(burst=True)
    db.session.expire_all()
    assert db.session.get(WebhookReceipt, receipt.id).result == {"pid": os.getpid()}  # this process: the worker
    other.refresh()
    assert other.return_value() not in (None, os.getpid())  # a forked work-horse


def test_a_receipt_that_hangs_in_the_worker_is_cut_off_at_the_receipt_timeout_and_the_next_one_runs(app, monkeypatch):
    app.config.update(RQ_RECEIPT_TIMEOUT=1, RQ_RETRY_INTERVALS=[600])
    calls = []

    def handler(receipt):
        calls.append(receipt.event_id)
        if receipt.event_id == "evt-hangs":
            time.sleep(60)
        return {"handled": receipt.event_id}

    monkeypatch.setitem(webhook_jobs.HANDLERS, "app/scopes_update", handler)
    hung, next_one = queued_receipt("evt-hangs"), queued_receipt("evt-next")
    began = time.monotonic()
    make_worker(app).work(burst=True)
    assert time.monotonic() - began < 30
    assert calls == ["evt-hangs", "evt-next"]
    db.session.expire_all()
    assert db.session.get(WebhookReceipt, next_one.id).result == {"handled": "evt-next"}
    assert Queue("webhooks", connection=connection()).fetch_job(f"webhook-{hung.id}").get_status() == "scheduled"


def test_a_worker_killed_while_it_runs_a_receipt_leaves_it_to_another_worker_within_two_minutes(
    app, services, tmp_path
):
    receipt = queued_receipt("evt-killed", ("read_products",))
    env = worker_env(services, app, app.config["REDIS_URL"], TEST_MARKER_DIR=tmp_path)
    command = [sys.executable, "-m", "tests.reliability.receipt_worker_main"]
    first = subprocess.Popen(command, env=env, start_new_session=True)
    survivor = None
    try:
        assert wait_for(lambda: (tmp_path / "attempt-1").exists(), 60), "the receipt never started"
        assert int((tmp_path / "attempt-1").read_text()) == first.pid  # run by the worker, no horse
        survivor = subprocess.Popen(command, env=env, start_new_session=True)
        os.killpg(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_for(lambda: (tmp_path / "completed").exists(), 150), "the receipt was never run again"
        recovered = time.monotonic() - killed_at
        print(f"\nworker killed mid-receipt: the receipt ran again after {recovered:.0f} s")
        assert recovered < 120
        assert wait_for(lambda: _processed(receipt.id), 30)
    finally:
        for proc in (first, survivor):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert (tmp_path / "completed").read_text() == "2"


def _processed(receipt_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(WebhookReceipt, receipt_id).processed_at is not None
