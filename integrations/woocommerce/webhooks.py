"""WooCommerce webhooks: the signature (base64 HMAC-SHA256 of the raw body with the hook's secret), the topics we
subscribe to, and creating them on a shop (found again by delivery URL and topic, so connecting twice adds none).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from integrations.woocommerce.client import WooClient

# order.* feed orders.pull at a retailer; product.* (variations included, and stock edits) feed a wholesaler's pulls.
RETAILER_TOPICS = ("order.created", "order.updated")
WHOLESALER_TOPICS = ("product.created", "product.updated", "product.deleted", "order.updated")


def delivery_url(settings: Mapping, connection_id: int) -> str:
    """Where a connected shop's webhooks post: the public base URL (WOOCOMMERCE_WEBHOOK_BASE_URL, else the app's
    SHOPIFY_APP_URL) and the connection's id."""
    base = settings.get("WOOCOMMERCE_WEBHOOK_BASE_URL") or settings["SHOPIFY_APP_URL"]
    return f"{base.rstrip('/')}/webhooks/woocommerce/{connection_id}"


def signature(body: bytes, secret: str) -> str:
    """What WooCommerce sends in `X-WC-Webhook-Signature` for this raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(body: bytes, secret: str | None, header: str | None) -> bool:
    """Whether `header` is the signature of the raw body with `secret` (constant-time)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(body, secret), header.strip())


def ensure_webhooks(client: WooClient, delivery_url: str, secret: str, topics: tuple[str, ...]) -> list[int]:
    """Every topic has an active hook to `delivery_url` with `secret`; returns their ids."""
    return [hook_id for hook_id, _ in repair_webhooks(client, delivery_url, secret, topics)]


def repair_webhooks(
    client: WooClient, delivery_url: str, secret: str, topics: tuple[str, ...]
) -> list[tuple[int, str | None]]:
    """Every topic has an active hook to `delivery_url` with `secret`: (id, what was done: "created",
    "reactivated", "updated" or None) per topic.

    GET /webhooks (context=edit, to see the secret) finds ours by delivery URL and topic. A hook WooCommerce disabled
    after repeated failed deliveries (or one a merchant paused) is set `active` again; one with another secret is
    updated; a missing one (deleted by the merchant) is created."""
    existing = {
        h["topic"]: h
        for h in client.pages("webhooks", {"context": "edit"})
        if h.get("delivery_url") == delivery_url and h.get("status") != "deleted"
    }
    out = []
    for topic in topics:
        hook, done = existing.get(topic), None
        if hook is None:
            body = {
                "name": f"Wholesync {topic}",
                "topic": topic,
                "delivery_url": delivery_url,
                "secret": secret,
            }  # no "status": create_item ignores it, a new hook is always active
            # Found again by (delivery URL, topic) above, so a repeat after an unknown outcome adds no second hook.
            hook, done = client.post("webhooks", body, safe_to_repeat=False), "created"
        elif hook.get("status") != "active" or hook.get("secret") != secret:
            done = "reactivated" if hook.get("status") != "active" else "updated"
            hook = client.put(f"webhooks/{hook['id']}", {"status": "active", "secret": secret})
        out.append((hook["id"], done))
    return out
