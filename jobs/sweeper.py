"""Keep SyncRuns truthful and moving when a worker cannot: dead RQ jobs, and leases nobody renews any more.

Run by the scheduler every pass, after the outbox drain (which re-publishes runs whose RQ job vanished).
"""

from __future__ import annotations

import time

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from jobs import outbox
from jobs.plan import get_job
from jobs.runtime import LOCK_PREFIX, connection, job_id
from portal.extensions import db
from portal.models import OutboxMessage, SyncRun, utcnow


def _pending_outbox(run: SyncRun) -> bool:
    return (
        db.session.execute(
            select(OutboxMessage.id).where(
                OutboxMessage.kind == "run", OutboxMessage.ref_id == run.id, OutboxMessage.done_at.is_(None)
            )
        ).first()
        is not None
    )


def _waits_nowhere(job: Job) -> bool:
    """A job RQ will never run: `queued` but not in its queue, `scheduled` but not in the scheduled registry, or
    `failed` with retries left whose retry was never scheduled (Redis went away while the failure was handled)."""
    status = job.get_status(refresh=True)
    if status == JobStatus.QUEUED:
        return connection().lpos(Queue(job.origin, connection=connection()).key, job.id) is None
    if status in (JobStatus.SCHEDULED, JobStatus.FAILED) and job.retries_left:
        return connection().zscore(ScheduledJobRegistry(job.origin, connection=connection()).key, job.id) is None
    return False


def _lost(job: Job) -> bool:
    """Whether a queued run's job is lost; looked at twice a moment apart, since a worker that just took the job
    from its queue marks it started only a few milliseconds later."""
    if not _waits_nowhere(job):
        return False
    time.sleep(LOST_RECHECK_SECONDS)
    return _waits_nowhere(job)


LOST_RECHECK_SECONDS = 1.0


def _republish(job: Job) -> None:
    """Put a lost job back at the end of its queue, same id and arguments (its retries left are kept)."""
    FailedJobRegistry(job.origin, connection=connection()).remove(job)
    Queue(job.origin, connection=connection()).enqueue_job(job)


def close_abandoned_runs() -> int:
    """Keep open runs moving: re-publish a queued run whose job waits nowhere (a retry lost when Redis went away
    while the failure was handled), and mark as failed the runs whose RQ job is gone or failed with no retries
    left. Returns how many runs it re-published or closed.

    A run the outbox still holds is not closed: the drainer publishes its vanished job again. The drainer cannot
    see a lost retry (the job exists), so that case is handled here whatever the outbox holds.
    """
    handled = 0
    open_runs = db.session.execute(
        select(SyncRun).where(SyncRun.status.in_(("queued", "running")), SyncRun.rq_job_id.is_not(None))
    ).scalars()
    for run in list(open_runs):
        if run.rq_job_id.startswith("inline-"):
            continue
        try:
            job = Job.fetch(run.rq_job_id, connection=connection())
        except NoSuchJobError:
            job = None
        if run.status == "queued" and job is not None and _lost(job):
            _republish(job)
            run.message = ((run.message or "") + " Its retry was lost; the job was queued again.").strip()[:2000]
            handled += 1
            continue
        if _pending_outbox(run):
            continue
        if job is None or (job.get_status() == JobStatus.FAILED and not job.retries_left):
            run.status, run.finished_at = "failed", utcnow()
            run.message = (run.message or "") + " The worker running this job stopped and no retry is left."
            handled += 1
    db.session.commit()
    return handled


def take_over_lost_leases() -> list[int]:
    """Re-queue the running runs whose lease expired (a dead or paused work-horse); returns their ids.

    The new attempt takes a higher fencing token, so the old work-horse, should it wake up, cannot commit.
    """
    taken = []
    running = db.session.execute(select(SyncRun).where(SyncRun.status == "running")).scalars()
    for run in list(running):
        if (run.rq_job_id or "").startswith("inline-"):
            continue
        held = connection().get(f"{LOCK_PREFIX}{run.job_name}:{run.target_key}")
        if held is not None and held.decode().split(" ")[1:2] == [str(run.id)]:
            continue
        spec = get_job(run.job_name)
        rq_id = job_id(spec.name, run.target_key, "run", run.id, "lease", run.fence or 0)
        if db.session.execute(select(OutboxMessage.id).where(OutboxMessage.rq_job_id == rq_id)).first():
            continue
        run.status, run.rq_job_id = "queued", rq_id
        run.message = "Its work-horse stopped renewing the lease; the run was queued again."
        outbox.add("run", spec.queue, rq_id, [spec.name, run.target_key, run.trigger, run.id], run.id, run.message)
        db.session.commit()
        taken.append(run.id)
    return taken
