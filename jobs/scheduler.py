"""The scheduler process: reconcile the sync plan into rq-scheduler on every pass, drain the outbox, sweep runs.

Like Redash's periodic jobs, each entry's id is a hash of its definition: reconciling adds only what is new and
cancels what is gone, so restarts, a Redis that lost its data and a second scheduler never lose or duplicate one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask
from redis.exceptions import ResponseError
from rq.job import Job, JobStatus
from rq_scheduler import Scheduler
from rq_scheduler.utils import to_unix

from jobs import clock
from jobs.plan import SYNC_PLAN, JobSpec
from jobs.runtime import job_id
from portal.extensions import db
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
    """rq-scheduler with more duties each pass: re-assert the plan, drain the outbox, keep SyncRuns truthful."""

    app: Flask | None = None
    plan: tuple[JobSpec, ...] = SYNC_PLAN

    def enqueue_jobs(self):
        # A Redis restarted without its data has no entries: put them back before looking for due jobs.
        reconcile(self, self.plan)
        jobs = super().enqueue_jobs()
        if self.app is not None:
            from jobs.runtime import drain_outbox
            from jobs.sweeper import close_abandoned_runs, take_over_lost_leases

            with self.app.app_context():
                try:
                    drain_outbox()
                    take_over_lost_leases()
                    drain_outbox()
                    close_abandoned_runs()
                finally:
                    db.session.remove()
        return jobs

    def enqueue_job(self, job: Job) -> None:
        """Push a due entry to its queue, unless its previous copy still waits there.

        rq-scheduler pushes a repeating entry every interval whatever its queue holds: with busy workers the copies
        pile up (one entry queued a hundred times) and starve the queues the workers take last. One copy waiting
        is enough: the entry is put back one interval later and looks again then.
        """
        interval = job.meta.get("interval")
        if interval and self._still_queued(job):
            self.log.debug("%s is still queued: not pushed again", job.id)
            self.connection.zadd(self.scheduled_jobs_key, {job.id: to_unix(datetime.now(UTC)) + int(interval)})
            return
        super().enqueue_job(job)

    def _still_queued(self, job: Job) -> bool:
        """Whether this job id waits in its queue now (status `queued` and its id in the queue's list)."""
        if job.get_status(refresh=True) != JobStatus.QUEUED:
            return False
        key = self.get_queue_for_job(job).key
        try:
            return self.connection.lpos(key, job.id) is not None
        except ResponseError:  # a Redis older than 6.0.6 has no LPOS
            return job.id.encode() in self.connection.lrange(key, 0, -1)


def make_scheduler(app: Flask) -> AppScheduler:
    scheduler = AppScheduler(connection=worker_redis(app), interval=app.config["SCHEDULER_INTERVAL"])
    scheduler.app = app
    return scheduler
