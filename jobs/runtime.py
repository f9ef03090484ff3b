"""The run machinery: queues, the scheduled dispatcher, enqueueing with deterministic ids, and run_job.

run_job is what every RQ job executes: it records a SyncRun, holds a lease on (job, target) renewed by a heartbeat,
fences its commits with the lease's token, calls the flow, and chains follow-ups through the outbox.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import time

from flask import current_app
from rq import get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job
from sqlalchemy import event, func, or_, select
from sqlalchemy.exc import IntegrityError

from integrations.base import AccessRevoked
from jobs import clock, outbox
from jobs.context import RunContext
from jobs.outbox import connection, queue
from jobs.plan import JobSpec, get_job, get_manual_job
from jobs.targets import load_target, owner_org_id, parse_target, targets_for
from portal.extensions import db
from portal.models import Connection, OutboxMessage, Partnership, SyncRun, utcnow

__all__ = ["connection", "dispatch", "drain_outbox", "job_id", "queue", "request_run", "run_job", "run_now"]

log = logging.getLogger(__name__)

LOCK_PREFIX = "wholesync:lock:"
SHOP_PREFIX = "wholesync:shop:"
# Release or renew a lease only if we still own it (one that expired and was taken by another run stays theirs).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"


class StaleLease(RuntimeError):
    """This run's lease expired and a newer holder took (job, target): its writes are refused."""


def job_id(*parts) -> str:
    """An RQ job id from parts; RQ allows only letters, digits, '_' and '-'."""
    return "-".join(re.sub(r"[^A-Za-z0-9_]", "_", str(p)) for p in parts)


def _retry():
    return outbox.retry()


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
    return (
        db.session.execute(
            select(SyncRun)
            .where(
                SyncRun.job_name == spec.name, SyncRun.target_key == target, SyncRun.status.in_(("queued", "running"))
            )
            .order_by(SyncRun.id.desc())
        )
        .scalars()
        .first()
    )


def _run_row(spec: JobSpec, target: str, trigger: str) -> SyncRun:
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
    return run


def new_run(spec: JobSpec, target: str, trigger: str, **fields) -> SyncRun:
    """Create the SyncRun row for a run about to be enqueued or started (IntegrityError if one is open), with
    `fields` (its RQ job id; running, its start) in the same commit: a process that dies between two commits would
    leave an open run with no job behind it, which nothing starts or closes and which blocks (job, target) for good."""
    run = _run_row(spec, target, trigger)
    for name, value in fields.items():
        setattr(run, name, value)
    db.session.commit()
    return run


def current_rq_id() -> str:
    """The RQ job this code runs in, or a unique `inline-` id in the foreground (`flask sync run`, tests)."""
    job = get_current_job()
    return job.id if job else f"inline-{time.time_ns()}"


def open_or_new_run(spec: JobSpec, target: str, trigger: str, **fields) -> tuple[SyncRun, bool]:
    """The open run of (job, target) if there is one, else a new one: (run, created).

    The database allows one open run per (job, target); losing the race to create it returns the winner's run.
    """
    existing = _open_run(spec, target)
    if existing is not None:
        return existing, False
    try:
        return new_run(spec, target, trigger, **fields), True
    except IntegrityError:
        db.session.rollback()
        existing = _open_run(spec, target)
        if existing is None:
            raise
        return existing, False


def request_run(job_name: str, target: str, trigger: str = "manual") -> SyncRun:
    """Start a job on one target now (Run now, webhooks, chaining). Billing is refused.

    If a run of the same job on the same target is already queued or running, that run is returned instead:
    overlapping triggers coalesce. The run and its outbox row commit together, so a Redis outage only delays it.
    """
    spec = get_manual_job(job_name)
    existing = _open_run(spec, target)
    if existing is not None:
        return existing
    try:
        run = _run_row(spec, target, trigger)
        db.session.flush()
        run.rq_job_id = job_id(spec.name, target, "run", run.id)
        msg = outbox.add(
            "run", spec.queue, run.rq_job_id, [spec.name, target, trigger, run.id], run.id, f"{spec.name} on {target}"
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _open_run(spec, target)
        if existing is None:
            raise
        return existing
    outbox.publish_now([msg])
    return run


def drain_outbox() -> dict:
    """Publish what the outbox holds (see jobs.outbox.drain); chained follow-ups become requested runs."""
    return outbox.drain(on_chain=lambda job, target: request_run(job, target, "chain"))


class Lease:
    """A run's hold on (job, target) and on its shops' concurrency slots: short TTLs renewed by a heartbeat.

    A killed work-horse stops renewing, so its lease expires within RQ_LEASE_SECONDS. The fencing token (one more
    than the highest any run of (job, target) took) is checked before every commit the run makes afterwards.
    """

    def __init__(self, spec: JobSpec, target: str, rq_id: str, run_id: int):
        self.key = f"{LOCK_PREFIX}{spec.name}:{target}"
        self.owner = rq_id
        self.value = f"{rq_id} {run_id} {time.time_ns()}"
        self.ttl = max(int(current_app.config.get("RQ_LEASE_SECONDS", 30)), 2)
        self.conn = connection()  # the heartbeat thread has no app context: it keeps this client
        self.held: list[str] = []
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lease; the same RQ job may take it again on retry after its work-horse was killed."""
        conn = connection()
        if conn.set(self.key, self.value, nx=True, ex=self.ttl):
            self.held.append(self.key)
            return True
        current = conn.get(self.key)
        if current is not None and current.decode().split(" ")[0] == self.owner:
            conn.set(self.key, self.value, ex=self.ttl)
            self.held.append(self.key)
            return True
        return False

    def start_heartbeat(self) -> None:
        """Renew every held key every third of the TTL, in a daemon thread of the work-horse."""
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                for key in list(self.held):
                    if not self.conn.eval(_RENEW, 1, key, self.value, self.ttl):
                        self.lost = True
            except Exception as exc:  # Redis briefly away: the next beat tries again before the TTL runs out
                log.warning("lease heartbeat failed: %s", exc)

    def take_shop_slots(self, shops: list[str], limit: int) -> None:
        """Hold one of `limit` slots of every shop the run touches; waits (polling) while they are all taken.

        Shops are taken in sorted order, so two runs waiting for each other's shop cannot deadlock.
        """
        conn = connection()
        for shop in sorted(set(shops)):
            while True:
                slot = next(
                    (k for k in (f"{SHOP_PREFIX}{shop}:{i}" for i in range(limit))
                     if conn.set(k, self.value, nx=True, ex=self.ttl)),
                    None,
                )  # fmt: skip
                if slot is not None:
                    self.held.append(slot)
                    break
                time.sleep(0.2)

    def release(self) -> None:
        """Stop the heartbeat and give back every key still ours."""
        self._stop.set()
        for key in self.held:
            try:
                connection().eval(_RELEASE, 1, key, self.value)
            except Exception as exc:  # the key expires by itself within the TTL
                log.warning("could not release %s: %s", key, exc)


def _shops(target: str) -> list[str]:
    """The shops (connections) a run on `target` calls: the connection, or both sides of a partnership."""
    kind, row_id = parse_target(target)
    if kind == "connection":
        return [str(row_id)]
    p = db.session.get(Partnership, row_id)
    if p is None:
        return []
    ids = db.session.execute(
        select(Connection.id).where(
            Connection.status == "active",
            or_(
                (Connection.organization_id == p.wholesaler_id) & (Connection.role == "system_of_record"),
                (Connection.organization_id == p.retailer_id) & (Connection.role == "store"),
            ),
        )
    ).scalars()
    return [str(i) for i in ids]


def _load_flow(spec: JobSpec):
    module, _, func_name = spec.flow.partition(":")
    return getattr(importlib.import_module(module), func_name)


def run_job(job_name: str, target: str, trigger: str = "schedule", run_id: int | None = None) -> dict:
    """Execute one job on one target: SyncRun bookkeeping, the lease, the flow, then chained jobs."""
    spec = get_job(job_name)
    run = db.session.get(SyncRun, run_id) if run_id else None
    rq_id = current_rq_id()
    if run is None:
        run = db.session.execute(select(SyncRun).where(SyncRun.rq_job_id == rq_id)).scalars().first()
    if run is None:
        run, created = open_or_new_run(spec, target, trigger, rq_job_id=rq_id)
        if not created:
            # A scheduled tick while a manual, webhook or chained run is open: that run does the work.
            return summary(run) | {"coalesced": True}
    if run.finished:
        # A second delivery of a run that already ended (an outbox re-publish, a retry after a takeover): no-op.
        return summary(run)
    lease = Lease(spec, target, rq_id, run.id)
    if not lease.acquire():
        if run.status == "running":
            return summary(run)  # another RQ job is executing this very run
        run.status, run.finished_at = "skipped", utcnow()
        run.message = "Another run of this job on the same target was in progress; this one was merged into it."
        db.session.commit()
        return summary(run)
    run.rq_job_id = rq_id
    try:
        lease.start_heartbeat()
        shops = _shops(target)
        # No transaction stays open while the run waits for its shops: a row it locked (its own run row, written
        # by the query's autoflush) would block the run holding those slots, which then never gives them back.
        db.session.commit()
        lease.take_shop_slots(shops, int(current_app.config.get("SYNC_SHOP_CONCURRENCY", 2)))
        return _execute(spec, run, target)
    finally:
        lease.release()


def _fence(run: SyncRun):
    """A before_commit hook refusing every commit once a newer lease holder of (job, target) has a higher token."""
    mine = run.fence

    def check(session):
        highest = session.execute(
            select(func.max(SyncRun.fence)).where(
                SyncRun.job_name == run.job_name, SyncRun.target_key == run.target_key
            )
        ).scalar()
        if highest is not None and highest > mine:
            raise StaleLease(f"lease token {mine} of run {run.id} was superseded by {highest}")

    return check


def _execute(spec: JobSpec, run: SyncRun, target: str) -> dict:
    resumed = run.attempts > 0
    run.attempts += 1
    run.fence = (
        db.session.execute(
            select(func.max(SyncRun.fence)).where(SyncRun.job_name == spec.name, SyncRun.target_key == target)
        ).scalar()
        or 0
    ) + 1
    run.status, run.started_at, run.finished_at = "running", run.started_at or utcnow(), None
    run.message = "Resumed after an interrupted attempt." if resumed else None
    run.done = run.failed = run.skipped = run.created = run.updated = run.total = 0
    run.failures = []
    db.session.commit()
    session = db.session()
    guard = _fence(run)
    event.listen(session, "before_commit", guard)
    try:
        return _execute_fenced(spec, run, target, session)
    except StaleLease as exc:
        db.session.rollback()
        log.warning("run %s stopped without writing: %s", run.id, exc)
        return {"id": run.id, "stale": True, "message": str(exc)}
    finally:
        if event.contains(session, "before_commit", guard):
            event.remove(session, "before_commit", guard)


def _execute_fenced(spec: JobSpec, run: SyncRun, target: str, session) -> dict:
    row = load_target(target)
    ctx = RunContext(run=run, target=row)
    if row is None or (isinstance(row, Connection) and row.status != "active"):
        # Nothing was tried, so the run is not "done": skipped, with why (alerts.scan reports the connection).
        run.status, run.finished_at = "skipped", utcnow()
        run.message = _inactive_reason(target, row)
        _close_outbox(run)
        db.session.commit()
        return summary(run)
    try:
        _load_flow(spec)(ctx)
    except StaleLease:
        raise
    except AccessRevoked as exc:
        # Retrying cannot help until a person reconnects the store: the run ends failed now, without RQ retries.
        db.session.rollback()
        run.status, run.finished_at = "failed", utcnow()
        run.message = f"Attempt {run.attempts} failed: {exc}"[:2000]
        _close_outbox(run)
        db.session.commit()
        return summary(run)
    except Exception as exc:
        db.session.rollback()
        job = get_current_job()
        retrying = bool(job and job.retries_left)
        run.status, run.finished_at = ("queued", None) if retrying else ("failed", utcnow())
        then = " It will be retried." if retrying else ""
        run.message = f"Attempt {run.attempts} failed: {type(exc).__name__}: {exc}.{then}"[:2000]
        if not retrying:
            _close_outbox(run)
        db.session.commit()
        raise
    finish_run(run)
    _close_outbox(run)
    # Follow-ups commit with "done": a work-horse dying right after this commit loses none of them.
    chains = [
        outbox.add("chain", spec.queue, None, [name, chained], run.id, f"{name} on {chained} after run {run.id}")
        for name, chained in ctx.chained
    ]
    db.session.commit()
    outbox.publish_now(chains, on_chain=lambda job, tgt: request_run(job, tgt, "chain"))
    return summary(run)


def finish_run(run: SyncRun) -> None:
    """End a run whose flow went through (not committed): "done", or "done_with_failures" with the count in its
    message when records failed; never just "done" when records were left behind (the next run retries them)."""
    run.status, run.finished_at = ("done_with_failures" if run.failed else "done"), utcnow()
    if run.failed:
        run.message = f"{run.failed} record(s) failed and will be retried on the next run. {run.message or ''}".strip()


def _inactive_reason(target: str, row) -> str:
    """Why a run on a target that is gone or no longer connected did nothing."""
    if row is None:
        return f"Skipped: {target} no longer exists; nothing was synced."
    if row.status == "needs_reauth":
        why = "Wholesync lost access to it and it must be reconnected"
    elif row.status == "uninstalled":
        why = "the app was uninstalled from it"
    else:
        why = f"it is {row.status}"
    return f"Skipped: the connection to {row.address} is not active ({why}); nothing was synced."


def _close_outbox(run: SyncRun) -> None:
    for msg in db.session.execute(
        select(OutboxMessage).where(
            OutboxMessage.kind == "run", OutboxMessage.ref_id == run.id, OutboxMessage.done_at.is_(None)
        )
    ).scalars():
        msg.done_at = utcnow()


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
        run, _ = open_or_new_run(spec, target, "manual")  # an open run is run here and now instead of later
        try:
            results.append(run_job(spec.name, target, "manual", run.id))
        except Exception:
            db.session.refresh(run)
            results.append(summary(run))
    return results
