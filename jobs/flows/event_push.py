"""Scheduling the event push: changed products and variants noted per partnership in Redis, and one push per
partnership and time window queued for them (jobs.flows.stock_events runs it). Also how a full stock pull hands
the variants it moved to that push. Kept apart from stock_events so jobs.flows.inventory can use it: stock_events
runs the pushes that module defines.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import current_app
from rq.exceptions import DuplicateJobError

from jobs import outbox
from jobs.context import RunContext
from jobs.flows.common import chain_for_partnerships, partnerships_of
from jobs.runtime import connection, job_id, queue
from portal.models import Partnership

PENDING = "wholesync:events:{kind}:{partnership}"  # Redis sets of hub ids waiting for the partnership's next push
PENDING_TTL = 24 * 3600  # a set nobody drains (partnership gone) expires; the full passes cover what it held
NEXT = "wholesync:events:next:{partnership}"  # the RQ id of the partnership's push that is waiting, not started
NEXT_TTL = 60  # a push lost with Redis leaves the marker at most this long (the hourly pass covers it meanwhile)
DEFAULT_WINDOW_SECONDS = 2.0
EVENT_QUEUE = "webhooks"  # ahead of the whole-catalog passes on the `sync` queue, so events are not stuck behind them
# A full stock pull that moved up to this many variants hands them to the event push; more, and each retailer gets a
# full push. A full push chained on the `sync` queue waits behind every order and webhook job: in the 30-minute soak
# chained stock pushes waited 50 s on average (up to 98 s) before they started.
PULL_HANDOFF_LIMIT = 1000


def window_seconds() -> float:
    """How long events on one partnership are gathered before its push (0: push at once, no coalescing)."""
    return float(current_app.config.get("STOCK_EVENT_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))


def request_push(partnership_ids, variant_ids=(), product_ids=()) -> list[str]:
    """Note variants whose level and products whose content changed, and make sure one push per partnership runs
    at the end of the current window; returns the job ids newly scheduled.

    The ids are added to the partnership's pending sets before the window is read, so an event either lands in
    the window whose push has not drained yet, or (read after that window ended) schedules the next window's push.
    """
    redis = connection()
    window = window_seconds()
    scheduled = []
    for pid in partnership_ids:
        pipe = redis.pipeline()
        for kind, ids in (("variants", variant_ids), ("products", product_ids)):
            if ids:
                key = PENDING.format(kind=kind, partnership=pid)
                pipe.sadd(key, *[str(i) for i in ids])
                pipe.expire(key, PENDING_TTL)
        pipe.execute()
        if window > 0:
            slot = int(time.time() // window)
            rq_id = job_id("events", pid, slot)
            at = datetime.fromtimestamp((slot + 1) * window, UTC)
        else:
            rq_id, at = job_id("events", pid, time.time_ns()), None
        # At most one push per partnership waits: behind a busy queue, later windows' pushes would pile up on the
        # event queue (ahead of every order pull) to find their ids already taken by the first.
        if not redis.set(NEXT.format(partnership=pid), rq_id, nx=True, ex=NEXT_TTL):
            continue
        options = event_job(rq_id, f"changes to partnership {pid}") | {"unique": True}
        try:
            if at is None:
                queue(EVENT_QUEUE).enqueue("jobs.flows.stock_events.push_partnership", pid, **options)
            else:
                queue(EVENT_QUEUE).enqueue_at(at, "jobs.flows.stock_events.push_partnership", pid, **options)
        except DuplicateJobError:
            redis.delete(NEXT.format(partnership=pid))  # never leave a marker that no push of ours will clear
            continue  # this window's push is already scheduled: it will take these ids too
        except Exception:
            redis.delete(NEXT.format(partnership=pid))
            raise
        scheduled.append(rq_id)
    return scheduled


def event_job(rq_id: str, description: str) -> dict:
    """RQ options of an event job (a push or a read): retried as runs are, its failure kept a week."""
    return dict(
        job_id=rq_id,
        retry=outbox.retry(),
        result_ttl=600,
        failure_ttl=7 * 24 * 3600,
        job_timeout=current_app.config["RQ_JOB_TIMEOUT"],
        description=description,
    )


def push_moved_stock(ctx: RunContext, wholesaler_id: int, variant_ids, retried: bool = False) -> None:
    """The variants a full stock pull moved reach the retailers: as the event push of those variants
    (`request_push`: the `webhooks` queue, seconds later), or a chained full inventory.push per retailer when more
    than PULL_HANDOFF_LIMIT moved or a retried attempt cannot tell what its predecessor moved (its committed levels
    read as unchanged now)."""
    partners = partnerships_of(Partnership.wholesaler_id, wholesaler_id, "sync_inventory_to_retailer")
    variant_ids = sorted(set(variant_ids))
    if len(variant_ids) > PULL_HANDOFF_LIMIT or (retried and not variant_ids):
        chain_for_partnerships(ctx, "inventory.push", partners)
    elif variant_ids and partners:
        request_push([p.id for p in partners], variant_ids=variant_ids)
