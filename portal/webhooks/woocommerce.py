"""POST /webhooks/woocommerce/<connection_id>: answer WooCommerce's unsigned creation ping, verify the signature
(base64 HMAC-SHA256 of the raw body with the connection's secret), record the delivery once, enqueue, answer fast.
"""

from __future__ import annotations

import hashlib
import json

from flask import jsonify, request

from integrations.woocommerce.webhooks import verify
from jobs.woocommerce_events import SOURCE, TOPIC_PREFIX
from portal.extensions import csrf, db
from portal.models import Connection, WebhookReceipt
from portal.webhooks import bp
from portal.webhooks.views import accept_receipt


@bp.post("/woocommerce/<int:connection_id>")
@csrf.exempt
def woocommerce(connection_id: int):
    """One endpoint per connection (its secret signs the body); work happens on the `webhooks` queue."""
    raw = request.get_data(cache=False)
    topic = request.headers.get("X-WC-Webhook-Topic")
    if topic is None and raw.startswith(b"webhook_id="):
        # WooCommerce's creation ping carries no signature and must get a 200, or the hook looks broken.
        return jsonify(status="pong"), 200
    conn = db.session.get(Connection, connection_id)
    secret = conn.webhook_secret if conn is not None and conn.platform == "woocommerce" else None
    if not verify(raw, secret, request.headers.get("X-WC-Webhook-Signature")):
        return jsonify(error="Unauthorized"), 401
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    # The delivery id is wp_hash(hook id . second): two events in one second share it, so the body joins the key.
    delivery = request.headers.get("X-WC-Webhook-Delivery-ID") or ""
    event_id = f"{connection_id}:{delivery}:{hashlib.sha256(raw).hexdigest()[:32]}"
    receipt = WebhookReceipt(
        source=SOURCE,
        event_id=event_id,
        topic=f"{TOPIC_PREFIX}{topic}"[:64],
        shop_domain=f"woocommerce:{connection_id}",
        payload=payload if isinstance(payload, dict) else {"_raw": payload},
    )
    return accept_receipt(receipt, f"{topic} from WooCommerce connection {connection_id}")
