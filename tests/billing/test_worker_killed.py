"""The work-horse is SIGKILLed after the gateway answered and before we recorded it: the retry does not recharge."""

import os
import signal
import subprocess
import sys

import pytest

from jobs.runtime import enqueue_scheduled
from portal.extensions import db
from portal.models import SyncRun
from tests.billing.helpers import at, billing_pair, charges, days_ago, invoices_of, shipped_order, stripe_invoices
from tests.support.waiting import wait_for


def _run_status() -> str | None:
    db.session.expire_all()
    run = db.session.query(SyncRun).filter_by(job_name="billing.run").one_or_none()
    return run.status if run else None


def _kill_after(app, services, tmp_path, step: str, extra_env: dict) -> None:
    env = (
        services.env()
        | extra_env
        | {
            "TEST_MARKER_DIR": str(tmp_path),
            "KILL_STEP": step,
            "RQ_RETRY_INTERVALS": "0,0",
            "SECRET_KEY": app.config["SECRET_KEY"],
            "TOKEN_ENCRYPTION_KEYS": app.config["TOKEN_ENCRYPTION_KEYS"],
        }
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.billing.kill_billing_worker"], env=env, start_new_session=True
    )
    try:
        assert wait_for(lambda: (tmp_path / "attempt-1").exists()), "the billing job never reached the gateway"
        os.kill(int((tmp_path / "attempt-1").read_text()), signal.SIGKILL)
        assert wait_for(lambda: _run_status() in ("done", "failed")), f"run ended as {_run_status()}"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


@pytest.mark.parametrize("step", ["invoice", "paid"])
def test_stripe_worker_killed_after_stripe_answered_is_retried_without_a_second_invoice_or_charge(
    app, services, fake_stripe, tmp_path, step
):
    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 2, "12.50")], at(days_ago(3), 9))
    enqueue_scheduled("billing.run", f"partnership:{p.id}", days_ago(2).isoformat())
    env = {"STRIPE_API_BASE": fake_stripe.url, "STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret}
    _kill_after(app, services, tmp_path, step, env)
    run = db.session.query(SyncRun).filter_by(job_name="billing.run").one()
    assert (run.status, run.attempts) == ("done", 2)
    (invoice,) = invoices_of(p)
    assert (invoice.billing_date, invoice.status) == (days_ago(2), "paid")
    assert len(stripe_invoices(fake_stripe)) == 1
    assert len(charges(fake_stripe)) == 1
    path = r"/v1/invoices" if step == "invoice" else r"/v1/invoices/in_\w+/pay"
    keys = fake_stripe.keys_sent("POST", path)
    assert len(keys) == 2 and len(set(keys)) == 1  # the retry replayed the same key; Stripe answered from its store


def test_apruve_worker_killed_after_apruve_created_the_invoice_is_retried_without_a_second_one(
    app, services, fake_apruve, tmp_path
):
    _, _, _, p = billing_pair(gateway="apruve", terms="net", gateway_customer_ref="corp-1")
    shipped_order(p, [("A", 1, "40.00")], at(days_ago(3), 9))
    enqueue_scheduled("billing.run", f"partnership:{p.id}", days_ago(2).isoformat())
    _kill_after(app, services, tmp_path, "invoice", {"APRUVE_API_BASE": fake_apruve.url + "/api/v4"})
    (invoice,) = invoices_of(p)
    assert invoice.status == "sent"
    assert len(fake_apruve.orders) == 1 and len(fake_apruve.invoices) == 1
    assert invoice.gateway_invoice_ref == next(iter(fake_apruve.invoices))
