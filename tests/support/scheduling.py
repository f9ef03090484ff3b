"""Trading by the scheduler alone in a test: dispatch ticks run by a burst worker; the runs that did not end well."""

from __future__ import annotations

from sqlalchemy import select

from jobs.runtime import dispatch
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import SyncRun


def tick(app, *jobs, slot) -> None:
    """What the scheduler does at one tick (dispatch each job for `slot`), then a burst worker runs all queued work."""
    for job in jobs:
        dispatch(job, slot=slot)
    make_worker(app).work(burst=True)
    db.session.expire_all()


def runs_not_done() -> list[tuple]:
    """(job, status, message, failures) of every run that did not end `done`."""
    rows = db.session.execute(select(SyncRun).where(SyncRun.status != "done")).scalars().all()
    return [(r.job_name, r.status, r.message, r.failures) for r in rows]
