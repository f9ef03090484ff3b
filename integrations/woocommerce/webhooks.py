"""WooCommerce webhooks: the signature (base64 HMAC-SHA256 of the raw body with the hook's secret), the topics we
subscribe to, and creating them on a shop (found again by delivery URL and topic, so connecting twice adds none).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from integrations.woocommerce.client import WooClient

# order.* feed orders.pull at a retailer; product.* (variations included, and stock edits) feed a wholesaler's pulls.
RETAILER_TOPICS = ("order.created", "order.updated")
WHOLESALER_TOPICS = ("product.created", "product.updated", "product.deleted", "order.updated")


def signature(body: bytes, secret: str) -> str:
    """What WooCommerce sends in `X-WC-Webhook-Signature` for this raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(body: bytes, secret: str | None, header: str | None) -> bool:
    """Whether `header` is the signature of the raw body with `secret` (constant-time)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(body, secret), header.strip())


def ensure_webhooks(client: WooClient, delivery_url: str, secret: str, topics: tuple[str, ...]) -> list[int]:
    """Every topic has an active hook to `delivery_url` with `secret`; returns their ids.

    A hook WooCommerce disabled after failed deliveries is set active again; one with another secret is updated."""
    existing = {
        h["topic"]: h
        for h in client.pages("webhooks", {"context": "edit"})
        if h.get("delivery_url") == delivery_url and h.get("status") != "deleted"
    }
    ids = []
    for topic in topics:
        hook = existing.get(topic)
        if hook is None:
            body = {
                "name": f"Wholesync {topic}",
                "topic": topic,
                "delivery_url": delivery_url,
                "secret": secret,
                "status": "active",
            }
            # Found again by (delivery URL, topic) above, so a repeat after an unknown outcome adds no second hook.
            hook = client.post("webhooks", body, safe_to_repeat=False)
        elif hook.get("status") != "active" or hook.get("secret") != secret:
            hook = client.put(f"webhooks/{hook['id']}", {"status": "active", "secret": secret})
        ids.append(hook["id"])
    return ids
