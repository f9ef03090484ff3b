"""POST /webhooks/shopify: verify the HMAC on the raw body, record the event once, enqueue, answer 200 fast.

The enqueue goes through the outbox (jobs.outbox): a delivery recorded here is never lost to a Redis outage.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import shopify_app
from flask import current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.shopify.auth import app_config
from integrations.shopify.webhooks import shopify_header
from integrations.timeutil import parse_iso
from jobs import outbox, webhook_jobs
from portal.extensions import csrf, db
from portal.models import WebhookReceipt, utcnow
from portal.webhooks import bp


def _triggered_at(value: str | None) -> datetime | None:
    try:
        return parse_iso(value)
    except ValueError:
        return None


@bp.post("/shopify")
@csrf.exempt
def shopify():
    """One endpoint for every topic; work happens in jobs.webhook_jobs on the `webhooks` queue."""
    raw = request.get_data(cache=False)
    headers = dict(request.headers)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return jsonify(error="Unauthorized"), 401
    checked = shopify_app.verify_webhook_req(
        {"method": "POST", "url": request.url, "headers": headers, "body": body}, app_config(current_app.config)
    )
    if not checked.ok:
        # Shopify's compliance rules: an invalid or missing HMAC is answered 401, and nothing is stored.
        return jsonify(error="Unauthorized", detail=checked.log.code), 401
    topic = (shopify_header(headers, "topic") or "").lower()
    shop = (shopify_header(headers, "shop-domain") or "").lower() or None
    # Event-Id is Shopify's dedupe key; fall back to the delivery id, then to the body, so nothing is keyless.
    event_id = (
        shopify_header(headers, "event-id")
        or shopify_header(headers, "webhook-id")
        or "sha256:" + hashlib.sha256(raw).hexdigest()
    )
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = None
    receipt = WebhookReceipt(
        source="shopify",
        event_id=event_id,
        topic=topic,
        shop_domain=shop,
        payload=payload if isinstance(payload, dict) else {"_raw": payload},
        triggered_at=_triggered_at(shopify_header(headers, "triggered-at")),
    )
    return accept_receipt(receipt, f"{topic} from {shop}")


def accept_receipt(receipt: WebhookReceipt, description: str):
    """Record a verified delivery once and hand it to the `webhooks` queue through the outbox; answers 200.

    A delivery known to act on nothing (`jobs.webhook_jobs.nothing_to_do`: a topic with no handler, an orders topic
    from a shop that is no retailer's store) is recorded as processed with that result and no job.

    The receipt and its outbox row commit together in the request's only write, then the enqueue is tried at once
    with a short Redis timeout and nothing more is written (the drainer marks the row sent when it sees the job);
    if Redis is down the outbox keeps it and a drainer enqueues it later, so the answer is still 200 and nothing
    is lost. A redelivery of a receipt whose job failed for good is published again instead of being answered
    "duplicate" and dropped.
    """
    settled = webhook_jobs.nothing_to_do(receipt)
    if settled is not None:  # recorded as processed with no job: a queued job would only say the same
        receipt.result, receipt.processed_at = settled, utcnow()
    db.session.add(receipt)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return _redelivered(receipt.source, receipt.event_id)
    messages = []
    if settled is None:
        messages.append(
            outbox.add("webhook", "webhooks", f"webhook-{receipt.id}", [receipt.id], receipt.id, description)
        )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _redelivered(receipt.source, receipt.event_id)
    outbox.enqueue_now(messages)
    return jsonify(status="accepted", receipt=receipt.id), 200


def _redelivered(source: str, event_id: str):
    existing = db.session.execute(
        select(WebhookReceipt).where(WebhookReceipt.source == source, WebhookReceipt.event_id == event_id)
    ).scalar_one_or_none()
    if existing is not None and existing.processed_at is None:
        msg = outbox.reopen("webhook", existing.id)
        if msg is not None:
            db.session.commit()
            outbox.publish_now([msg])
            return jsonify(status="requeued", receipt=existing.id), 200
    return jsonify(status="duplicate"), 200
