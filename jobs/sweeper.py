"""Keep SyncRuns truthful when RQ gives up on a job the run could not record itself (a killed worker)."""

from __future__ import annotations

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from jobs.runtime import connection
from portal.extensions import db
from portal.models import SyncRun, utcnow


def close_abandoned_runs() -> int:
    """Mark as failed the open runs whose RQ job is gone or failed with no retries left. Returns how many."""
    closed = 0
    open_runs = db.session.execute(
        select(SyncRun).where(SyncRun.status.in_(("queued", "running")), SyncRun.rq_job_id.is_not(None))
    ).scalars()
    for run in open_runs:
        if run.rq_job_id.startswith("inline-"):
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
