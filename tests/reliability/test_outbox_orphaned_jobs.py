"""A job a worker popped and never marked started (the worker died, or Redis restarted under it) still says "queued"
but is in no queue: the outbox publishes it again once two drains found it missing, so the webhook it carries is
processed. The chaos soak found an inventory event's receipt stuck so after a Redis restart, and the settle waited
for it until its bound."""

from __future__ import annotations

from rq.job import Job

from jobs import outbox
from jobs.runtime import connection, drain_outbox, queue
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import WebhookReceipt
from tests.support.factories import queued_receipt


def test_a_receipt_whose_job_was_popped_by_a_worker_that_died_is_published_again_and_processed(app):
    receipt = queued_receipt("evt-orphaned", ("read_orders",))
    drain_outbox()  # the row is marked sent: RQ has its job
    assert connection().lpop(queue("webhooks").key) == f"webhook-{receipt.id}".encode()  # a worker's BLPOP...
    assert Job.fetch(f"webhook-{receipt.id}", connection=connection()).get_status() == "queued"  # ...then it died
    drain_outbox()  # missing once: it may be a worker about to mark it started
    assert queue("webhooks").count == 0
    drain_outbox()  # missing again: lost, published again
    assert queue("webhooks").job_ids == [f"webhook-{receipt.id}"]
    make_worker(app).work(burst=True)
    db.session.expire_all()
    assert db.session.get(WebhookReceipt, receipt.id).processed_at is not None


def test_a_job_waiting_in_its_queue_is_never_published_twice(app):
    receipt = queued_receipt("evt-waiting", ("read_orders",))
    for _ in range(3):
        drain_outbox()
    assert queue("webhooks").job_ids == [f"webhook-{receipt.id}"]
    assert not connection().exists(outbox.ORPHAN_SUSPECTS)
