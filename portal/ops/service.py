"""What the operator sees: every tenant's sync health, failed RQ jobs (with retry) and queue depths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.results import Result
from sqlalchemy import case, func, select

from jobs.plan import QUEUES
from jobs.runtime import connection, queue
from portal.extensions import db
from portal.models import Organization, SyncRun

WINDOW = timedelta(hours=24)
FAILED_SHOWN = 50
# No person starts billing, a retry included: the next daily billing run picks up what a failed one left.
NEVER_RETRIED = ("billing",)


@dataclass
class TenantHealth:
    """One organization's runs in the last day."""

    org_id: int
    name: str
    kind: str
    runs: int
    failed: int
    open: int
    last_success: datetime | None


def tenant_health() -> list[TenantHealth]:
    """Every organization with runs in the last day, those with failures first."""
    since = datetime.now(UTC) - WINDOW
    rows = db.session.execute(
        select(
            Organization.id, Organization.name, Organization.kind, func.count(SyncRun.id),
            func.sum(case((SyncRun.status == "failed", 1), else_=0)),
            func.sum(case((SyncRun.status.in_(("queued", "running")), 1), else_=0)),
            func.max(case((SyncRun.status == "done", SyncRun.finished_at))),
        )
        .join(SyncRun, SyncRun.organization_id == Organization.id)
        .where(SyncRun.created_at >= since)
        .group_by(Organization.id, Organization.name, Organization.kind)
    )  # fmt: skip
    health = [TenantHealth(i, n, k, runs, int(f or 0), int(o or 0), _aware(last)) for i, n, k, runs, f, o, last in rows]
    return sorted(health, key=lambda h: (-h.failed, h.name))


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def queue_depths() -> list[dict]:
    """Per queue: jobs waiting, running, failed."""
    conn = connection()
    return [
        {
            "queue": name,
            "waiting": queue(name).count,
            "running": StartedJobRegistry(name, connection=conn).count,
            "failed": FailedJobRegistry(name, connection=conn).count,
        }
        for name in QUEUES
    ]


def failed_jobs() -> list[dict]:
    """The most recent failed jobs of every queue with their error's last line."""
    conn = connection()
    jobs = []
    for name in QUEUES:
        registry = FailedJobRegistry(name, connection=conn)
        for job in Job.fetch_many(registry.get_job_ids(0, FAILED_SHOWN - 1), connection=conn):
            if job is None:
                continue
            result = job.latest_result()
            failed = result is not None and result.type == Result.Type.FAILED
            error = (result.exc_string or "").strip().splitlines() if failed else []
            jobs.append(
                {
                    "id": job.id,
                    "queue": name,
                    "description": job.description,
                    "error": error[-1] if error else "",
                    "ended_at": job.ended_at,
                    "retryable": name not in NEVER_RETRIED,
                }
            )
    return jobs


def retry_failed(rq_job_id: str) -> bool:
    """Requeue one failed sync or webhook job; False if not found. Billing is never retried from here."""
    conn = connection()
    for name in (q for q in QUEUES if q not in NEVER_RETRIED):
        registry = FailedJobRegistry(name, connection=conn)
        if rq_job_id in registry.get_job_ids():
            registry.requeue(rq_job_id)
            return True
    return False
