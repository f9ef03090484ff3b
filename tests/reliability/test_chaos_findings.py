"""What the chaos soak found, each pinned by a test: piled-up plan jobs, a locked SQLite, a lost token pair and
runs left queued after their RQ job vanished."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters
from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from jobs.plan import SYNC_PLAN
from jobs.scheduler import ENTRY_PREFIX, entry_id, make_scheduler
from portal.extensions import db
from portal.models import utcnow
from portal.redis_conn import worker_redis
from portal.services.connections import fresh_access_token
from tests.reliability.test_sync_tokens import _installed, _refresh_then, _reload
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
