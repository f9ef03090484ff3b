"""Keep SyncRuns truthful and moving when a worker cannot: dead RQ jobs, and leases nobody renews any more.

Run by the scheduler every pass, after the outbox drain (which re-publishes runs whose RQ job vanished).
"""

from __future__ import annotations

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
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


def close_abandoned_runs() -> int:
    """Mark as failed the open runs whose RQ job is gone or failed with no retries left. Returns how many.

    A run the outbox still holds is left alone: the drainer publishes it again.
    """
    closed = 0
    open_runs = db.session.execute(
        select(SyncRun).where(SyncRun.status.in_(("queued", "running")), SyncRun.rq_job_id.is_not(None))
    ).scalars()
    for run in list(open_runs):
        if run.rq_job_id.startswith("inline-") or _pending_outbox(run):
            continue
        try:
            job = Job.fetch(run.rq_job_id, connection=connection())
        except NoSuchJobError:
            job = None
        if job is None or (job.get_status() == JobStatus.FAILED and not job.retries_left):
            run.status, run.finished_at = "failed", utcnow()
            run.message = (run.message or "") + " The worker running this job stopped and no retry is left."
            closed += 1
    db.session.commit()
    return closed


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
