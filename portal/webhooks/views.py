"""POST /webhooks/shopify: verify the HMAC on the raw body, record the event once, enqueue, answer 200 fast."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import shopify_app
from flask import current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from integrations.shopify.auth import app_config
from integrations.shopify.webhooks import shopify_header
from integrations.timeutil import parse_iso
from jobs.runtime import queue
from portal.extensions import csrf, db
from portal.models import WebhookReceipt
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
    db.session.add(receipt)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return jsonify(status="duplicate"), 200
    try:
        queue("webhooks").enqueue(
            "jobs.webhook_jobs.process_receipt",
            receipt.id,
            job_id=f"webhook-{receipt.id}",
            retry=_retry(),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"{topic} from {shop}",
        )
    except Exception:
        current_app.logger.exception("could not enqueue webhook %s; answering 503 so Shopify retries", event_id)
        db.session.delete(receipt)
        db.session.commit()
        return jsonify(error="Temporarily unavailable"), 503
    return jsonify(status="accepted", receipt=receipt.id), 200


def _retry():
    from rq import Retry

    intervals = current_app.config["RQ_RETRY_INTERVALS"]
    return Retry(max=len(intervals), interval=intervals)
