"""The outbox and one open run per (job, target): rows 5 and 19 of the fault table, and chained follow-ups.

A drainer killed between publishing and marking publishes again harmlessly; a run delivered twice runs once; a
scheduled tick while another run is open coalesces instead of leaving two open runs behind.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import jobs.flows.products as products_flow
from jobs import outbox
from jobs.plan import get_job
from jobs.runtime import drain_outbox, new_run, queue, request_run, run_job
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import OutboxMessage, SyncRun
from tests.reliability.conftest import worker_env
from tests.support import factories


@pytest.fixture
def counted_push(monkeypatch, tmp_path):
    """products.push replaced by a flow that counts its executions in a file (work-horses are forked)."""
    executions = tmp_path / "executions"
    executions.write_text("")

    def push(ctx):
        with open(executions, "a") as f:
            f.write(f"{ctx.run.id}\n")
        ctx.set_total(1)
        ctx.count("created")

    monkeypatch.setattr(products_flow, "push", push)
    return lambda: executions.read_text().split()


def test_a_drainer_killed_between_publish_and_mark_publishes_again_and_the_run_happens_once(
    app, services, counted_push
):
    _, _, _, _, _, p = factories.trading_pair()
    spec, target = get_job("products.push"), f"partnership:{p.id}"
    run = new_run(spec, target, "manual")
    run.rq_job_id = f"products_push-{p.id}-run-{run.id}"
    outbox.add("run", spec.queue, run.rq_job_id, [spec.name, target, "manual", run.id], run.id)
    db.session.commit()
    env = worker_env(services, app, app.config["REDIS_URL"])
    drainer = subprocess.run([sys.executable, "-m", "tests.reliability.crashing_drainer"], env=env, timeout=120)
    assert drainer.returncode == -9  # killed after RQ accepted the job, before the row was marked
    db.session.expire_all()
    msg = db.session.execute(select(OutboxMessage)).scalar_one()
    assert msg.sent_at is None and queue("sync").count == 1
    assert drain_outbox()["published"] == 1  # published again: RQ already has that id, so nothing is added
    assert queue("sync").count == 1
    make_worker(app).work(burst=True)
    assert counted_push() == [str(run.id)]
    # The same run delivered once more (say, re-published after its job vanished) is a no-op.
    assert run_job(spec.name, target, "manual", run.id)["status"] == "done"
    assert counted_push() == [str(run.id)]
    drain_outbox()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, msg.id).done_at is not None


def test_the_database_refuses_a_second_open_run_of_the_same_job_and_target(app):
    _, _, _, _, _, p = factories.trading_pair()
    spec = get_job("products.push")
    new_run(spec, f"partnership:{p.id}", "manual")
    with pytest.raises(IntegrityError):
        new_run(spec, f"partnership:{p.id}", "schedule")
    db.session.rollback()


def test_a_scheduled_tick_while_a_manual_run_is_queued_coalesces_and_every_later_trigger_still_works(app, counted_push):
    _, _, _, _, _, p = factories.trading_pair()
    target = f"partnership:{p.id}"
    manual = request_run("products.push", target)
    # The scheduled tick starts while the manual run is still queued: it leaves the work to the open run.
    assert run_job("products.push", target, "schedule")["coalesced"] is True
    make_worker(app).work(burst=True)
    db.session.expire_all()
    runs = db.session.execute(select(SyncRun).order_by(SyncRun.id)).scalars().all()
    assert [(r.id, r.status) for r in runs] == [(manual.id, "done")]
    assert counted_push() == [str(manual.id)]
    again = request_run("products.push", target, "webhook")
    assert request_run("products.push", target, "manual").id == again.id  # coalesces, no MultipleResultsFound
    make_worker(app).work(burst=True)
    db.session.expire_all()
    assert db.session.get(SyncRun, again.id).status == "done"
    assert db.session.execute(select(func.count()).select_from(SyncRun)).scalar() == 2


def test_a_chained_follow_up_survives_a_work_horse_that_dies_right_after_the_run_is_marked_done(
    app, monkeypatch, tmp_path
):
    _, _, sor, _, _, p = factories.trading_pair()
    monkeypatch.setattr(products_flow, "pull", lambda ctx: ctx.chain("products.push", f"partnership:{p.id}"))
    pushed = tmp_path / "pushed"
    monkeypatch.setattr(products_flow, "push", lambda ctx: pushed.write_text(str(ctx.target.id)))
    # The work-horse "dies" right after its done-commit: nothing after it runs, so nothing is published.
    monkeypatch.setattr(outbox, "publish_now", lambda *args, **kwargs: False)
    pull = new_run(get_job("products.pull"), f"connection:{sor.id}", "manual")
    assert run_job("products.pull", f"connection:{sor.id}", "manual", pull.id)["status"] == "done"
    chain = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "chain")).scalar_one()
    assert chain.args == ["products.push", f"partnership:{p.id}"] and chain.done_at is None
    monkeypatch.undo()
    monkeypatch.setattr(products_flow, "push", lambda ctx: pushed.write_text(str(ctx.target.id)))
    drain_outbox()  # the scheduler's or a worker's next pass
    make_worker(app).work(burst=True)
    push = db.session.execute(select(SyncRun).where(SyncRun.job_name == "products.push")).scalar_one()
    assert (push.trigger, push.status) == ("chain", "done") and pushed.read_text() == str(p.id)


def test_a_run_longer_than_its_lease_keeps_it_through_the_heartbeat(app, monkeypatch):
    import time

    from jobs.runtime import LOCK_PREFIX, connection

    _, _, _, _, _, p = factories.trading_pair()
    target = f"partnership:{p.id}"
    app.config["RQ_LEASE_SECONDS"] = 2
    seen = []

    def slow(ctx):
        time.sleep(3.5)  # longer than the lease: only renewals keep it
        seen.append(connection().get(f"{LOCK_PREFIX}products.push:{target}"))
        ctx.count("created")

    monkeypatch.setattr(products_flow, "push", slow)
    result = run_job("products.push", target, "manual")
    assert result["status"] == "done" and seen[0] is not None
    assert connection().get(f"{LOCK_PREFIX}products.push:{target}") is None  # released at the end
