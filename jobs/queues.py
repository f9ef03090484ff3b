"""The operator's view of the worker queues: jobs waiting, running and failed per queue, and retry.

Read from RQ's registries in the workers' Redis; tenants' run history is portal.services.ops.
"""

from __future__ import annotations

from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.results import Result

from jobs.plan import QUEUES
from jobs.runtime import connection, queue

FAILED_SHOWN = 50
# No person starts billing, a retry included: the next daily billing run picks up what a failed one left.
NEVER_RETRIED = ("billing",)


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
