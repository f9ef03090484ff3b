"""What the chaos soak found, each pinned by a test: piled-up plan jobs, a locked SQLite, a lost token pair and
runs left queued after their RQ job vanished."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters
from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta

from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import create_engine, update
from sqlalchemy.exc import OperationalError

from jobs import sweeper
from jobs.plan import SYNC_PLAN
from jobs.runtime import drain_outbox, request_run
from jobs.scheduler import ENTRY_PREFIX, entry_id, make_scheduler
from portal.extensions import db
from portal.models import OutboxMessage, SyncRun, utcnow
from portal.redis_conn import worker_redis
from portal.services.connections import fresh_access_token
from tests.reliability.test_sync_tokens import _installed, _refresh_then, _reload
from tests.support import factories
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture


def _make_all_entries_due(scheduler) -> None:
    scheduler.connection.zadd(scheduler.scheduled_jobs_key, {entry_id(spec): 0 for spec in SYNC_PLAN})


def test_scheduler_passes_with_workers_stopped_leave_one_copy_of_each_plan_entry_in_its_queue(app):
    scheduler = make_scheduler(app)
    for _ in range(5):
        _make_all_entries_due(scheduler)
        scheduler.enqueue_jobs()
    redis = worker_redis(app)
    for queue in {spec.queue for spec in SYNC_PLAN}:
        ids = [raw.decode() for raw in redis.lrange(f"rq:queue:{queue}", 0, -1)]
        copies = Counter(jid for jid in ids if jid.startswith(ENTRY_PREFIX))
        expected = {entry_id(spec) for spec in SYNC_PLAN if spec.queue == queue}
        assert set(copies) == expected and set(copies.values()) == {1}, (queue, copies)
    # Each entry is still scheduled to look again one interval later.
    assert {job.id for job in scheduler.get_jobs()} == {entry_id(spec) for spec in SYNC_PLAN}


def test_every_sqlite_connection_waits_thirty_seconds_for_a_lock_and_uses_the_write_ahead_log(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'locks.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_a_refreshed_pair_whose_first_write_fails_with_a_locked_database_is_stored_and_the_connection_stays_active(
    app, client, sandbox, monkeypatch
):
    conn = _installed(client, sandbox)
    real_commit, failures = db.session.commit, []

    def commit_locked_once():
        if not failures:
            failures.append(1)
            raise OperationalError("UPDATE connection ...", {}, sqlite3.OperationalError("database is locked"))
        real_commit()

    answers = _refresh_then(monkeypatch, lambda tokens: monkeypatch.setattr(db.session, "commit", commit_locked_once))
    token = fresh_access_token(conn)
    monkeypatch.setattr(db.session, "commit", real_commit)
    conn = _reload(conn.id)
    assert failures == [1] and len(answers) == 1
    assert conn.status == "active" and conn.refresh_started_at is None
    assert (conn.access_token, conn.refresh_token) == (answers[0].access_token, answers[0].refresh_token)
    assert token == answers[0].access_token
    conn.token_expires_at = utcnow() + timedelta(seconds=30)  # due again: the stored refresh token is the live one
    db.session.commit()
    assert fresh_access_token(conn) != token and _reload(conn.id).status == "active" and len(answers) == 2


QUEUE = "rq:queue:orders"  # orders.pull is an order job (jobs/plan.py)


def _queued_run(app):
    store = factories.connection(factories.retailer(), "store")
    run = request_run("orders.pull", f"connection:{store.id}", "webhook")
    assert run.status == "queued" and worker_redis(app).lpos(QUEUE, run.rq_job_id) is not None
    return run


def test_a_queued_run_whose_retry_was_lost_is_published_again_by_one_sweep_and_only_once(app, monkeypatch):
    monkeypatch.setattr(sweeper, "LOST_RECHECK_SECONDS", 0)
    run = _queued_run(app)
    redis = worker_redis(app)
    # The attempt failed while Redis went away: the job is marked failed with retries left and nothing holds it.
    redis.lrem(QUEUE, 0, run.rq_job_id)
    redis.hset(Job.key_for(run.rq_job_id), mapping={"status": JobStatus.FAILED.value, "retries_left": 2})
    drain_outbox()  # the outbox still holds the run and sees a job that exists: it does nothing
    assert redis.lpos(QUEUE, run.rq_job_id) is None
    assert sweeper.close_abandoned_runs() == 1
    assert redis.lrange(QUEUE, 0, -1).count(run.rq_job_id.encode()) == 1
    assert Job.fetch(run.rq_job_id, connection=redis).get_status() == JobStatus.QUEUED
    assert sweeper.close_abandoned_runs() == 0  # it waits in its queue now: not published twice
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "queued"
    assert request_run("orders.pull", run.target_key, "webhook").id == run.id  # triggers join the live run


def test_a_queued_run_whose_job_vanished_is_failed_by_one_sweep_and_the_next_trigger_starts_a_fresh_run(
    app, monkeypatch
):
    monkeypatch.setattr(sweeper, "LOST_RECHECK_SECONDS", 0)
    run = _queued_run(app)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.ref_id == run.id).values(done_at=utcnow()))
    db.session.commit()
    Job.fetch(run.rq_job_id, connection=worker_redis(app)).delete()
    assert sweeper.close_abandoned_runs() == 1
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "failed"
    fresh = request_run("orders.pull", run.target_key, "webhook")
    assert fresh.id != run.id and fresh.status == "queued"


def test_a_queued_run_whose_job_waits_in_its_queue_or_for_its_retry_is_left_alone(app, monkeypatch):
    monkeypatch.setattr(sweeper, "LOST_RECHECK_SECONDS", 0)
    run = _queued_run(app)
    assert sweeper.close_abandoned_runs() == 0
    redis = worker_redis(app)
    redis.lrem(QUEUE, 0, run.rq_job_id)  # a retry scheduled for later: in the scheduled registry
    redis.hset(Job.key_for(run.rq_job_id), mapping={"status": JobStatus.SCHEDULED.value, "retries_left": 1})
    redis.zadd(ScheduledJobRegistry("orders", connection=redis).key, {run.rq_job_id: 4102444800})
    assert sweeper.close_abandoned_runs() == 0
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "queued"
