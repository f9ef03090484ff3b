"""The job machinery: deterministic ids, SyncRun bookkeeping, the per-target lock, retries and chaining."""

import pytest
from sqlalchemy import select

import jobs.flows.orders as orders_flow
import jobs.flows.products as products_flow
from jobs.plan import ManualRunRefused
from jobs.runtime import LOCK_PREFIX, Lease, connection, dispatch, queue, request_run, run_job
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import ActivityLog, SyncRun
from tests.support import factories


def test_a_double_scheduler_fire_in_one_slot_enqueues_each_target_once(app):
    factories.trading_pair()
    factories.trading_pair()
    first = dispatch("products.push", slot=42)
    second = dispatch("products.push", slot=42)
    assert len(first) == 2 and second == []
    assert queue("sync").count == 2


def test_the_next_slot_enqueues_again(app):
    factories.trading_pair()
    assert len(dispatch("inventory.push", slot=1)) == 1
    assert len(dispatch("inventory.push", slot=2)) == 1


def test_dispatch_skips_partnerships_whose_toggle_is_off_or_that_are_paused(app):
    _, ws, _, _, _, p = factories.trading_pair()
    factories.partnership(ws, factories.retailer(), status="paused")
    p.sync_products_to_retailer = False
    db.session.commit()
    assert dispatch("products.push", slot=7) == []


def test_a_scheduled_run_records_a_done_sync_run_with_counts(app, monkeypatch):
    _, ws, _, _, _, p = factories.trading_pair()

    def flow(ctx):
        ctx.set_total(2)
        ctx.count("created")
        ctx.count("unchanged")
        ctx.log("add", "listing", 1, "created a draft product")

    monkeypatch.setattr(products_flow, "push", flow)
    dispatch("products.push", slot=1)
    make_worker(app).work(burst=True)
    run = db.session.execute(select(SyncRun)).scalar_one()
    assert (run.status, run.trigger, run.total, run.done, run.created, run.skipped) == ("done", "schedule", 2, 2, 1, 1)
    assert run.organization_id == ws.id and run.partnership_id == p.id and run.attempts == 1
    assert db.session.execute(select(ActivityLog.sync_run_id)).scalar_one() == run.id


def test_a_run_waiting_for_its_shops_holds_no_open_transaction(app, monkeypatch, tmp_path):
    """A run row locked while waiting for shop slots blocked the run holding those slots: both workers hung."""
    factories.trading_pair()
    seen, take = tmp_path / "in_transaction", Lease.take_shop_slots

    def spy(lease, shops, limit):
        seen.write_text(f"{db.session().in_transaction()} {len(shops)}")
        return take(lease, shops, limit)

    monkeypatch.setattr(Lease, "take_shop_slots", spy)
    monkeypatch.setattr(products_flow, "push", lambda ctx: None)
    dispatch("products.push", slot=1)
    make_worker(app).work(burst=True)
    assert seen.read_text() == "False 2"  # both shops of the partnership, looked up before the transaction ended
    assert db.session.execute(select(SyncRun.status)).scalar_one() == "done"


def test_a_failing_flow_is_retried_and_the_run_tells_how_many_attempts_it_took(app, monkeypatch, tmp_path):
    factories.trading_pair()
    attempts = tmp_path / "attempts"

    def flaky(ctx):
        attempts.write_text(attempts.read_text() + "x" if attempts.exists() else "x")
        if len(attempts.read_text()) == 1:
            raise ConnectionError("system of record timed out")
        ctx.set_total(1)
        ctx.count("created")

    monkeypatch.setattr(orders_flow, "push", flaky)
    dispatch("orders.push", slot=1)
    make_worker(app).work(burst=True)
    run = db.session.execute(select(SyncRun)).scalar_one()
    assert run.status == "done" and run.attempts == 2 and run.created == 1
    assert run.message == "Resumed after an interrupted attempt."


def test_a_flow_that_keeps_failing_ends_failed_with_the_reason(app, monkeypatch):
    factories.trading_pair()
    monkeypatch.setattr(orders_flow, "push", lambda ctx: 1 / 0)
    dispatch("orders.push", slot=1)
    make_worker(app).work(burst=True)
    run = db.session.execute(select(SyncRun)).scalar_one()
    assert run.status == "failed" and run.attempts == 3  # first try + two retries (RQ_RETRY_INTERVALS)
    assert "ZeroDivisionError" in run.message and run.finished_at is not None


def test_a_run_whose_target_is_locked_by_another_run_is_merged_not_run_twice(app, monkeypatch):
    _, _, _, _, _, p = factories.trading_pair()
    target = f"partnership:{p.id}"
    connection().set(f"{LOCK_PREFIX}products.push:{target}", "another-job")
    calls = []
    monkeypatch.setattr(products_flow, "push", calls.append)
    result = run_job("products.push", target, "manual")
    assert result["status"] == "skipped" and "in progress" in result["message"] and calls == []


def test_manual_requests_coalesce_while_a_run_is_open(app):
    _, _, _, _, _, p = factories.trading_pair()
    first = request_run("products.push", f"partnership:{p.id}")
    second = request_run("products.push", f"partnership:{p.id}")
    assert first.id == second.id and first.status == "queued"
    assert queue("sync").count == 1


def test_request_run_refuses_billing(app):
    _, _, _, _, _, p = factories.trading_pair()
    with pytest.raises(ManualRunRefused):
        request_run("billing.run", f"partnership:{p.id}")
    assert queue("billing").count == 0


def test_a_flow_can_chain_a_follow_up_job_that_runs_after_it_commits(app, monkeypatch, tmp_path):
    _, _, sor, _, _, p = factories.trading_pair()
    monkeypatch.setattr(products_flow, "pull", lambda ctx: ctx.chain("products.push", f"partnership:{p.id}"))
    pushed = tmp_path / "pushed"  # jobs run in a forked work-horse: a file is how they report back
    monkeypatch.setattr(products_flow, "push", lambda ctx: pushed.write_text(str(ctx.target.id)))
    request_run("products.pull", f"connection:{sor.id}")
    make_worker(app).work(burst=True)
    runs = {r.job_name: r for r in db.session.execute(select(SyncRun)).scalars()}
    assert runs["products.pull"].status == "done" and runs["products.push"].trigger == "chain"
    assert runs["products.push"].status == "done" and pushed.read_text() == str(p.id)
