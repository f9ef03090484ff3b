"""Queue priorities: webhooks > orders > whole-catalog passes > billing, and a worker that never takes a catalog pass.

A worker picks the next job with RQ's `Queue.dequeue_any` over its queues in order; these tests ask RQ the same
question the worker asks, with real jobs enqueued through `request_run`.
"""

from pathlib import Path

from rq import Queue

from jobs.plan import QUEUES, URGENT_QUEUES, get_job
from jobs.runtime import connection, request_run
from tests.support import factories

ROOT = Path(__file__).resolve().parents[1]


def _next_job(queues) -> str | None:
    conn = connection()
    found = Queue.dequeue_any([Queue(q, connection=conn) for q in queues], None, connection=conn)
    return found[0].args[0] if found else None  # run_job's first argument: the job's name


def test_an_order_waiting_behind_a_catalog_pass_is_taken_first(app):
    _, _, sor, _, store, p = factories.trading_pair()
    request_run("products.push", f"partnership:{p.id}")
    request_run("inventory.push", f"partnership:{p.id}")
    request_run("orders.pull", f"connection:{store.id}")
    request_run("orders.push", f"connection:{sor.id}")
    taken = [_next_job(QUEUES) for _ in range(5)]
    assert taken == ["orders.pull", "orders.push", "products.push", "inventory.push", None]


def test_the_urgent_worker_never_takes_a_catalog_pass(app):
    _, _, sor, _, _, p = factories.trading_pair()
    request_run("products.push", f"partnership:{p.id}")
    request_run("order_updates.pull", f"connection:{sor.id}")
    assert _next_job(URGENT_QUEUES) == "order_updates.pull"
    assert _next_job(URGENT_QUEUES) is None
    assert _next_job(QUEUES) == "products.push"


def test_every_order_job_is_on_the_orders_queue_and_catalog_jobs_are_not():
    order_jobs = ["orders.pull", "orders.push", "order_changes.push", "order_updates.pull", "order_updates.push"]
    assert {get_job(name).queue for name in order_jobs} == {"orders"}
    catalog_jobs = ["products.pull", "products.push", "inventory.pull", "inventory.push"]
    assert {get_job(name).queue for name in catalog_jobs} == {"sync"}
    assert QUEUES.index("webhooks") < QUEUES.index("orders") < QUEUES.index("sync") < QUEUES.index("billing")


def test_the_procfile_runs_an_urgent_worker_on_webhooks_and_orders_only():
    processes = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert processes["worker"] == "flask --app wsgi worker"
    assert processes["urgent"] == f"flask --app wsgi worker --queues {','.join(URGENT_QUEUES)}"


def test_the_worker_command_refuses_a_queue_that_does_not_exist(runner):
    result = runner.invoke(args=["worker", "--burst", "--queues", "webhooks,catalog"])
    assert result.exit_code != 0
    assert "unknown queue(s) catalog" in result.output
