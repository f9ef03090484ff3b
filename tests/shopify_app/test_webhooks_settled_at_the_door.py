"""Deliveries that act on nothing are recorded as processed by the endpoint and queue no job: the app's orders
topics reach the wholesaler's store too, so each order we create there came back as a queued `orders/create` that
only said "ignored". Deliveries that act keep their job, and a repeated delivery stays a duplicate."""

from sqlalchemy import select

from jobs.runtime import queue
from portal.extensions import db
from portal.models import OutboxMessage, SyncRun, WebhookReceipt
from tests.support import factories


def _receipt(event_id: str) -> WebhookReceipt:
    return db.session.execute(select(WebhookReceipt).where(WebhookReceipt.event_id == event_id)).scalar_one()


def test_an_order_created_in_the_wholesalers_store_is_recorded_as_ignored_without_a_job(app, deliver):
    _u, _ws, sor, _rt, _store, _p = factories.trading_pair()
    answer = deliver("orders/create", sor.address, {"id": 1001}, event_id="evt-ws-order")
    assert answer.status_code == 200 and answer.json["status"] == "accepted"
    receipt = _receipt("evt-ws-order")
    assert receipt.processed_at is not None and "ignored" in receipt.result
    assert queue("webhooks").count == 0
    assert db.session.execute(select(OutboxMessage)).scalars().all() == []
    again = deliver("orders/create", sor.address, {"id": 1001}, event_id="evt-ws-order")
    assert again.json["status"] == "duplicate"


def test_a_topic_without_a_handler_is_recorded_as_ignored_without_a_job(app, deliver):
    deliver("themes/publish", "anyone.myshopify.com", {"id": 7}, event_id="evt-theme")
    receipt = _receipt("evt-theme")
    assert receipt.processed_at is not None and receipt.result == {"ignored": "no handler for 'themes/publish'"}
    assert queue("webhooks").count == 0


def test_an_order_from_a_retailers_store_and_an_update_from_the_wholesalers_keep_their_jobs(
    app, deliver, work_webhooks
):
    _u, _ws, sor, _rt, store, _p = factories.trading_pair()
    deliver("orders/create", store.address, {"id": 2002}, event_id="evt-rt-order")
    deliver("orders/updated", sor.address, {"id": 1001}, event_id="evt-ws-update")
    assert queue("webhooks").count == 2
    assert _receipt("evt-rt-order").processed_at is None
    work_webhooks()
    runs = db.session.execute(select(SyncRun).order_by(SyncRun.id)).scalars().all()
    assert [(r.job_name, r.target_key) for r in runs] == [
        ("orders.pull", f"connection:{store.id}"),
        ("order_updates.pull", f"connection:{sor.id}"),
    ]
