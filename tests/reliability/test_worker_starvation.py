"""A worker keeps its queues' priority (webhooks > orders > sync > billing) but never starves the lower ones: a job
that has waited RQ_STARVED_SECONDS is taken before newer urgent work (the chaos soak found chained stock pushes
queued for its whole run while a steady stream of events kept the urgent queues busy)."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from rq.utils import now, utcformat

from jobs.runtime import connection, request_run
from jobs.worker import make_worker
from tests.support import factories


def _next_job(worker) -> str | None:
    """What the worker takes next: RQ's dequeue over the worker's queues in the order it will use."""
    found = Queue.dequeue_any(worker._ordered_queues, None, connection=connection())
    if found is None:
        return None
    worker.reorder_queues(reference_queue=found[1])
    return found[0].args[0]


def test_a_catalog_pass_waiting_past_the_limit_goes_before_newer_orders_then_priority_resumes(app):
    app.config["RQ_STARVED_SECONDS"] = 30
    _, _, sor, _, store, p = factories.trading_pair()
    run = request_run("inventory.push", f"partnership:{p.id}")
    request_run("orders.pull", f"connection:{store.id}")
    request_run("orders.push", f"connection:{sor.id}")
    worker = make_worker(app)

    assert _next_job(worker) == "orders.pull"  # fresh work: priority as always

    waited = utcformat(now() - timedelta(seconds=31))
    connection().hset(f"rq:job:{run.rq_job_id}", "enqueued_at", waited)  # the pass has waited past the limit
    worker.reorder_queues(reference_queue=worker.queues[0])
    assert [_next_job(worker) for _ in range(3)] == ["inventory.push", "orders.push", None]


def test_work_that_has_not_waited_long_keeps_strict_priority(app):
    app.config["RQ_STARVED_SECONDS"] = 30
    _, _, sor, _, _, p = factories.trading_pair()
    request_run("products.push", f"partnership:{p.id}")
    request_run("orders.push", f"connection:{sor.id}")
    worker = make_worker(app)
    worker.reorder_queues(reference_queue=worker.queues[0])
    assert [_next_job(worker) for _ in range(3)] == ["orders.push", "products.push", None]
