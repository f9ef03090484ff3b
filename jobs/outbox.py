"""The outbox: enqueues that must not be lost are rows committed with the change that asks for them, then drained.

A row is published to RQ under its deterministic id with unique=True, so publishing twice (a crash between the
enqueue and marking the row sent, two drainers at once) enqueues once. A row stays until its effect is recorded;
if its RQ job vanished (Redis restarted without persistence) the drainer publishes it again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from flask import current_app
from redis import Redis, RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, SyncRun, WebhookReceipt, utcnow
from portal.redis_conn import fast_redis

log = logging.getLogger(__name__)

FINISHED = ("done", "done_with_failures", "failed", "skipped")  # SyncRun.finished
FUNCS = {"run": "jobs.runtime.run_job", "webhook": "jobs.webhook_jobs.process_receipt"}
ORPHAN_SUSPECTS = "wholesync:outbox:orphan-suspects"  # rows whose "queued" job was in no queue at the last drain


def connection() -> Redis:
    """The app's Redis client for enqueues, leases and lookups: short timeouts, so a hung Redis fails fast."""
    conn = current_app.extensions.get("wholesync_rq_redis")
    if conn is None:
        timeout = max(float(current_app.config.get("REDIS_SOCKET_TIMEOUT", 1.0)), 1.0)
        conn = current_app.extensions["wholesync_rq_redis"] = fast_redis(current_app, timeout)
    return conn


def queue(name: str) -> Queue:
    """The named RQ queue on the app's Redis."""
    return Queue(name, connection=connection())


def retry() -> Retry:
    """The retry policy every job gets (RQ_RETRY_INTERVALS)."""
    intervals = current_app.config["RQ_RETRY_INTERVALS"]
    return Retry(max=len(intervals), interval=intervals)


def add(kind: str, queue_name: str, rq_id: str | None, args: list, ref_id: int | None = None, description: str = ""):
    """Stage an outbox row in the current transaction (the caller commits it with the change it belongs to)."""
    msg = OutboxMessage(
        kind=kind, ref_id=ref_id, queue=queue_name, rq_job_id=rq_id, args=list(args), description=description[:255]
    )
    db.session.add(msg)
    return msg


def _enqueue(msg: OutboxMessage) -> None:
    # DuplicateJobError: already in RQ (a publish repeated after a crash, or by a second drainer).
    with contextlib.suppress(DuplicateJobError):
        queue(msg.queue).enqueue(
            FUNCS[msg.kind],
            args=tuple(msg.args),
            job_id=msg.rq_job_id,
            unique=True,
            retry=retry(),
            job_timeout=current_app.config["RQ_RECEIPT_TIMEOUT" if msg.kind == "webhook" else "RQ_JOB_TIMEOUT"],
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=msg.description,
        )


def publish(msg: OutboxMessage, on_chain: Callable[[str, str], object] | None = None) -> None:
    """Hand one row to RQ (or, for a chain, request the follow-up run) and record that; commits."""
    if msg.kind == "chain":
        if on_chain is None:
            return
        on_chain(*msg.args)
        msg.sent_at = msg.done_at = utcnow()
    else:
        _enqueue(msg)
        msg.sent_at = utcnow()
    msg.publishes += 1
    db.session.commit()


def publish_now(messages: list[OutboxMessage], on_chain=None) -> bool:
    """Try to publish freshly committed rows at once; on a Redis failure leave them to the drainer (False)."""
    try:
        for msg in messages:
            publish(msg, on_chain)
        return True
    except RedisError as exc:
        db.session.rollback()
        log.warning("Redis unavailable (%s); the outbox keeps %d message(s) for the drainer", exc, len(messages))
        return False


def enqueue_now(messages: list[OutboxMessage]) -> bool:
    """Hand freshly committed rows to RQ without writing to the database again (the web's fast path).

    The rows stay unsent in the database: the next drain finds their jobs in RQ and marks them, or publishes them
    if this enqueue never happened. On a Redis failure (short timeouts) they are simply left to the drainer (False).
    """
    try:
        for msg in messages:
            _enqueue(msg)
        return True
    except RedisError as exc:
        log.warning("Redis unavailable (%s); the outbox keeps %d message(s) for the drainer", exc, len(messages))
        return False


def _effects_recorded(rows: list[OutboxMessage]) -> set[int]:
    """The ids of rows whose effect is in the database (receipt processed, run finished, or its row is gone)."""
    receipts = [m.ref_id for m in rows if m.kind == "webhook"]
    runs = [m.ref_id for m in rows if m.kind == "run"]
    pending_receipts = set(
        db.session.execute(
            select(WebhookReceipt.id).where(WebhookReceipt.id.in_(receipts), WebhookReceipt.processed_at.is_(None))
        ).scalars()
        if receipts
        else ()
    )
    pending_runs = set(
        db.session.execute(select(SyncRun.id).where(SyncRun.id.in_(runs), SyncRun.status.not_in(FINISHED))).scalars()
        if runs
        else ()
    )
    return {
        m.id
        for m in rows
        if (m.kind == "webhook" and m.ref_id not in pending_receipts)
        or (m.kind == "run" and m.ref_id not in pending_runs)
    }


def _job_states(rows: list[OutboxMessage]) -> dict[int, str]:
    """Each row's RQ job state, read in one round trip (see _state)."""
    pipe = connection().pipeline(transaction=False)
    for msg in rows:
        pipe.hmget(Job.key_for(msg.rq_job_id), "status", "retries_left")
    return {msg.id: _state(status, retries) for msg, (status, retries) in zip(rows, pipe.execute(), strict=True)}


def _state(status: bytes | None, retries_left: bytes | None) -> str:
    """ "missing" (publish again), "failed" (RQ gave up), "finished", "queued" (see _orphans) or "pending"."""
    if status is None:
        return "missing"
    status = status.decode()
    if status == JobStatus.FAILED and not int(retries_left or 0):
        return "failed"
    if status == JobStatus.FINISHED:
        return "finished"
    if status == JobStatus.QUEUED:
        return "queued"
    return "pending"


def _orphans(rows: list[OutboxMessage]) -> set[int]:
    """The rows whose job says "queued" but was not in its queue at this drain nor at the previous one.

    A worker on several queues takes a job with BLPOP: a worker that dies (or meets a Redis restart) before it marks
    the job started leaves it "queued" in no queue, and nothing would ever run it (the chaos soak found an
    inventory event's receipt stuck so, the settle waiting for it until its bound). A worker marks a job started
    milliseconds after the pop, so a job missing from its queue at two drains RQ_MAINTENANCE_INTERVAL apart is
    lost, not being taken."""
    redis = connection()
    pipe = redis.pipeline(transaction=False)
    for msg in rows:
        pipe.lpos(queue(msg.queue).key, msg.rq_job_id)
    absent = {msg.id for msg, position in zip(rows, pipe.execute(), strict=True) if position is None}
    seen = {int(i) for i in redis.smembers(ORPHAN_SUSPECTS)}
    orphans, cleared = absent & seen, {msg.id for msg in rows} - absent
    pipe = redis.pipeline()
    if cleared | orphans:  # found in its queue (or about to be published again): no longer a suspect
        pipe.srem(ORPHAN_SUSPECTS, *(cleared | orphans))
    if absent - seen:
        pipe.sadd(ORPHAN_SUSPECTS, *(absent - seen))
        pipe.expire(ORPHAN_SUSPECTS, 600)
    pipe.execute()
    return orphans


def drain(on_chain: Callable[[str, str], object] | None = None, limit: int = 500) -> dict:
    """Publish every row not yet in RQ, re-publish rows whose RQ job vanished, close rows whose effect is recorded.

    Works in pages of `limit` rows with a fixed number of queries and one Redis round trip per page, so a backlog
    of thousands of queued webhooks costs milliseconds, not a query and a commit per row. Returns counts by what
    happened. Stops quietly (logging) when Redis is unreachable.
    """
    counts = {"published": 0, "republished": 0, "done": 0, "failed": 0}
    after = 0
    try:
        while True:
            rows = list(
                db.session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.done_at.is_(None), OutboxMessage.id > after)
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                ).scalars()
            )
            if not rows:
                break
            after = rows[-1].id
            _drain_page(rows, on_chain, counts)
            if len(rows) < limit:
                break
    except RedisError as exc:
        db.session.rollback()
        log.warning("outbox drain stopped: Redis unavailable (%s)", exc)
    return counts


def _drain_page(rows: list[OutboxMessage], on_chain, counts: dict) -> None:
    now = utcnow()
    recorded = _effects_recorded(rows)
    for msg in rows:
        if msg.id in recorded:
            msg.done_at = now
            counts["done"] += 1
    queued = [m for m in rows if m.id not in recorded and m.kind != "chain" and m.rq_job_id]
    states = _job_states(queued) if queued else {}
    waiting = [m for m in queued if states[m.id] == "queued"]
    orphans = _orphans(waiting) if waiting else set()
    for msg in queued:
        state = states[msg.id]
        if msg.id in orphans:
            connection().delete(Job.key_for(msg.rq_job_id))  # so the unique enqueue below publishes it again
            state = "missing"
        elif state == "queued":
            state = "pending"
        if state == "missing":
            _enqueue(msg)
            counts["published" if msg.sent_at is None else "republished"] += 1
            msg.sent_at = utcnow()
            msg.publishes += 1
        elif state == "pending" and msg.sent_at is None:
            # Enqueued by the request that recorded it (which does not write again): RQ has it, so it is sent.
            msg.sent_at = now
            msg.publishes += 1
            counts["published"] += 1
        elif state in ("failed", "finished"):
            msg.done_at = now
            msg.error = "RQ gave up on this job after its last retry." if state == "failed" else None
            counts["failed" if state == "failed" else "done"] += 1
    chains = [m for m in rows if m.id not in recorded and m.kind == "chain" and m.sent_at is None]
    # One commit per page: a crash after some enqueues only means publishing those again, which RQ ignores.
    db.session.commit()
    for msg in chains:
        publish(msg, on_chain)
        counts["published"] += 1


def reopen(kind: str, ref_id: int) -> OutboxMessage | None:
    """Make a closed row publishable again (a redelivered webhook whose job failed for good); not committed."""
    msg = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.ref_id == ref_id))
        .scalars()
        .first()
    )
    if msg is None or msg.done_at is None:
        return None
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(msg.rq_job_id, connection=connection()).delete()
    msg.done_at = msg.sent_at = None
    msg.error = None
    return msg
