"""The scheduler process: reconcile the sync plan into rq-scheduler, then run its loop.

Like Redash's periodic jobs, each entry's id is a hash of its definition: reconciling adds only what is new and
cancels what is gone, so restarts and a second scheduler never duplicate an entry.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask
from rq_scheduler import Scheduler

from jobs import clock
from jobs.plan import SYNC_PLAN, JobSpec
from jobs.runtime import job_id
from portal.redis_conn import worker_redis

ENTRY_PREFIX = "plan-"


def entry_id(spec: JobSpec) -> str:
    """Deterministic schedule-entry id: changes when (and only when) the entry's definition changes."""
    definition = f"{spec.name}|{clock.interval(spec.tick)}|{spec.queue}|{spec.flow}"
    digest = hashlib.sha256(definition.encode()).hexdigest()[:12]
    return job_id("plan", spec.name, digest)


def reconcile(scheduler: Scheduler, plan: tuple[JobSpec, ...] = SYNC_PLAN) -> tuple[list[str], list[str]]:
    """Make rq-scheduler's entries equal the plan. Returns (added ids, removed ids)."""
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(ENTRY_PREFIX)}
    desired = {entry_id(spec): spec for spec in plan}
    removed = sorted(set(existing) - set(desired))
    for jid in removed:
        scheduler.cancel(existing[jid])
        existing[jid].delete()
    added = sorted(set(desired) - set(existing))
    for jid in added:
        spec = desired[jid]
        scheduler.schedule(
            scheduled_time=datetime.now(UTC),
            func="jobs.runtime.dispatch",
            args=[spec.name],
            interval=clock.interval(spec.tick),  # SYNC_CLOCK_SCALE compresses the schedule (jobs/clock.py)
            repeat=None,
            id=jid,
            queue_name=spec.queue,
            timeout=300,
            result_ttl=spec.tick * 2,
            description=f"dispatch {spec.name} every {clock.interval(spec.tick)} s",
        )
    return added, removed


class AppScheduler(Scheduler):
    """rq-scheduler with one more duty each pass: close SyncRuns whose RQ job died for good."""

    app: Flask | None = None

    def enqueue_jobs(self):
        jobs = super().enqueue_jobs()
        if self.app is not None:
            from jobs.sweeper import close_abandoned_runs

            with self.app.app_context():
                close_abandoned_runs()
        return jobs


def make_scheduler(app: Flask) -> AppScheduler:
    scheduler = AppScheduler(connection=worker_redis(app), interval=app.config["SCHEDULER_INTERVAL"])
    scheduler.app = app
    return scheduler
