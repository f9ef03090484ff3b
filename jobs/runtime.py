"""The run machinery: queues, the scheduled dispatcher, enqueueing with deterministic ids, and run_job.

run_job is what every RQ job executes: it records a SyncRun, holds a per-(job, target) lock, calls the
flow, and chains follow-up jobs. RQ gives at-least-once execution through Retry; flows are idempotent.
"""

from __future__ import annotations

import importlib
import logging
import re
import time

from flask import current_app
from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job
from sqlalchemy import select

from jobs import clock
from jobs.context import RunContext
from jobs.plan import JobSpec, get_job, get_manual_job
from jobs.targets import load_target, owner_org_id, parse_target, targets_for
from portal.extensions import db
from portal.models import Connection, SyncRun, utcnow
from portal.redis_conn import worker_redis

log = logging.getLogger(__name__)

LOCK_PREFIX = "wholesync:lock:"
# Release the lock only if we still own it (a lock that expired and was taken by another run stays theirs).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def job_id(*parts) -> str:
    """An RQ job id from parts; RQ allows only letters, digits, '_' and '-'."""
    return "-".join(re.sub(r"[^A-Za-z0-9_]", "_", str(p)) for p in parts)


def connection() -> Redis:
    conn = current_app.extensions.get("wholesync_rq_redis")
    if conn is None:
        conn = current_app.extensions["wholesync_rq_redis"] = worker_redis(current_app)
    return conn


def queue(name: str) -> Queue:
    return Queue(name, connection=connection())


def _retry() -> Retry:
    intervals = current_app.config["RQ_RETRY_INTERVALS"]
    return Retry(max=len(intervals), interval=intervals)


def _enqueue(spec: JobSpec, target: str, trigger: str, rq_id: str, run_id: int | None = None) -> Job | None:
    """Enqueue run_job once under `rq_id`; a second enqueue with the same id is a no-op (None)."""
    try:
        return queue(spec.queue).enqueue(
            "jobs.runtime.run_job",
            args=(spec.name, target, trigger, run_id),
            job_id=rq_id,
            unique=True,
            retry=_retry(),
            job_timeout=current_app.config["RQ_JOB_TIMEOUT"],
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"{spec.name} on {target} ({trigger})",
        )
    except DuplicateJobError:
        return None


def dispatch(job_name: str, slot: int | None = None) -> list[str]:
    """The scheduled tick: enqueue what the job's dispatcher picks, each under an id fixed by the pick.

    By default that is one run per target per time slot, so a double fire runs once; a job with its own
    `dispatch` (see JobSpec) chooses its targets and id parts. Returns the RQ job ids that were newly enqueued.
    """
    spec = get_job(job_name)
    enqueued = []
    for target, id_parts in _picks(spec, slot):
        job = enqueue_scheduled(spec.name, target, *id_parts)
        if job is not None:
            enqueued.append(job.id)
    return enqueued


def _picks(spec: JobSpec, slot: int | None):
    """The (target, job id parts) pairs one tick enqueues: the job's own dispatcher, or every target this slot."""
    if spec.dispatch:
        module, _, func = spec.dispatch.partition(":")
        return getattr(importlib.import_module(module), func)(slot)
    slot = slot if slot is not None else int(clock.time()) // spec.tick
    return [(target, ("slot", slot)) for target in targets_for(spec)]


def enqueue_scheduled(job_name: str, target: str, *id_parts) -> Job | None:
    """Enqueue a scheduled run of `job_name` on `target` under `<name>-<target>-<id parts>`; None if already there."""
    spec = get_job(job_name)
    return _enqueue(spec, target, "schedule", job_id(spec.name, target, *id_parts))


def _open_run(spec: JobSpec, target: str) -> SyncRun | None:
    return db.session.execute(
        select(SyncRun)
        .where(SyncRun.job_name == spec.name, SyncRun.target_key == target, SyncRun.status.in_(("queued", "running")))
        .order_by(SyncRun.id.desc())
    ).scalar_one_or_none()


def new_run(spec: JobSpec, target: str, trigger: str) -> SyncRun:
    """Create the SyncRun row for a run about to be enqueued or started."""
    row = load_target(target)
    if row is None:
        raise LookupError(f"{target} does not exist")
    kind, row_id = parse_target(target)
    run = SyncRun(
        job_name=spec.name,
        target_key=target,
        trigger=trigger,
        status="queued",
        organization_id=owner_org_id(row),
        connection_id=row_id if kind == "connection" else None,
        partnership_id=row_id if kind == "partnership" else None,
    )
    db.session.add(run)
    db.session.commit()
    return run


def request_run(job_name: str, target: str, trigger: str = "manual") -> SyncRun:
    """Start a job on one target now (Run now, webhooks, chaining). Billing is refused.

    If a run of the same job on the same target is already queued or running, that run is returned instead:
    overlapping triggers coalesce.
    """
    spec = get_manual_job(job_name)
    existing = _open_run(spec, target)
    if existing is not None:
        return existing
    run = new_run(spec, target, trigger)
    rq_id = job_id(spec.name, target, "run", run.id)
    run.rq_job_id = rq_id
    db.session.commit()
    _enqueue(spec, target, trigger, rq_id, run.id)
    return run


def _acquire(lock_key: str, owner: str, ttl: int) -> bool:
    """Take the per-(job, target) lock; the same RQ job may take it again on retry after a crash."""
    conn = connection()
    if conn.set(lock_key, owner, nx=True, ex=ttl):
        return True
    held = conn.get(lock_key)
    if held is not None and held.decode() == owner:
        conn.expire(lock_key, ttl)
        return True
    return False


def _load_flow(spec: JobSpec):
    module, _, func = spec.flow.partition(":")
    return getattr(importlib.import_module(module), func)


def run_job(job_name: str, target: str, trigger: str = "schedule", run_id: int | None = None) -> dict:
    """Execute one job on one target: SyncRun bookkeeping, the lock, the flow, then chained jobs."""
    spec = get_job(job_name)
    run = db.session.get(SyncRun, run_id) if run_id else None
    job = get_current_job()  # None when run in the foreground (`flask sync run`)
    rq_id = job.id if job else f"inline-{time.time_ns()}"
    if run is None:
        run = db.session.execute(select(SyncRun).where(SyncRun.rq_job_id == rq_id)).scalar_one_or_none()
    if run is None:
        run = new_run(spec, target, trigger)
    run.rq_job_id = rq_id
    lock_key = f"{LOCK_PREFIX}{spec.name}:{target}"
    if not _acquire(lock_key, rq_id, current_app.config["RQ_JOB_TIMEOUT"] + 60):
        run.status, run.finished_at = "skipped", utcnow()
        run.message = "Another run of this job on the same target was in progress; this one was merged into it."
        db.session.commit()
        return summary(run)
    try:
        return _execute(spec, run, target)
    finally:
        connection().eval(_RELEASE, 1, lock_key, rq_id)


def _execute(spec: JobSpec, run: SyncRun, target: str) -> dict:
    resumed = run.attempts > 0
    run.attempts += 1
    run.status, run.started_at, run.finished_at = "running", run.started_at or utcnow(), None
    run.message = "Resumed after an interrupted attempt." if resumed else None
    run.done = run.failed = run.skipped = run.created = run.updated = run.total = 0
    run.failures = []
    db.session.commit()
    row = load_target(target)
    ctx = RunContext(run=run, target=row)
    try:
        if row is None or (isinstance(row, Connection) and row.status != "active"):
            run.message = f"{target} is no longer active; nothing to do."
        else:
            _load_flow(spec)(ctx)
    except Exception as exc:
        db.session.rollback()
        job = get_current_job()
        retrying = bool(job and job.retries_left)
        run.status, run.finished_at = ("queued", None) if retrying else ("failed", utcnow())
        then = " It will be retried." if retrying else ""
        run.message = f"Attempt {run.attempts} failed: {type(exc).__name__}: {exc}.{then}"[:2000]
        db.session.commit()
        raise
    run.status, run.finished_at = "done", utcnow()
    db.session.commit()
    for job_name, chained_target in ctx.chained:
        request_run(job_name, chained_target, trigger="chain")
    return summary(run)


def summary(run: SyncRun) -> dict:
    """The run as a plain dict (CLI output, API)."""
    fields = ("id", "job_name", "target_key", "trigger", "status", "attempts", "total", "done", "created")
    fields += ("updated", "skipped", "failed", "api_calls", "throttled_seconds", "message")
    data = {f: getattr(run, f) for f in fields}
    data["failures"] = run.failures or []
    data["started_at"] = run.started_at.isoformat() if run.started_at else None
    data["finished_at"] = run.finished_at.isoformat() if run.finished_at else None
    return data


def run_now(job_name: str, partnership_id: int | None = None) -> list[dict]:
    """Run a job in the foreground on every target in scope (`flask sync run`); billing is refused."""
    spec = get_manual_job(job_name)
    results = []
    for target in targets_for(spec, partnership_id):
        run = new_run(spec, target, "manual")
        try:
            results.append(run_job(spec.name, target, "manual", run.id))
        except Exception:
            db.session.refresh(run)
            results.append(summary(run))
    return results
