"""Webhook deliveries the way WC_Webhook sends them: queued (coalesced per webhook and resource), payload built at
delivery time, signed with base64 HMAC-SHA256 of the raw body, never retried, disabled after repeated failures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

import httpx

WC_VERSION = "11.1.0"
WP_VERSION = "6.9"
USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"
RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures


def signature(body: bytes, secret: str) -> str:
    """X-WC-Webhook-Signature: base64 of HMAC-SHA256 over the exact body bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def valid_topic(topic: str) -> bool:
    """wc_is_webhook_valid_topic: action.* or resource.event from the core lists."""
    if topic.startswith("action."):
        return len(topic) > len("action.")
    resource, _, event = topic.partition(".")
    return resource in RESOURCES and event in EVENTS


@dataclass
class Delivery:
    """One attempt: what was POSTed and what the receiver answered (None = transport error)."""

    webhook_id: int
    url: str
    headers: dict
    body: bytes
    status: int | None = None
    error: str | None = None
    ping: bool = False

    @property
    def payload(self) -> dict:
        """The JSON body sent."""
        return json.loads(self.body)


def http_send(url: str, headers: dict, body: bytes) -> int:
    """POST like wp_safe_remote_request does for webhooks: 60 s timeout, redirects not followed."""
    return httpx.post(url, headers=headers, content=body, timeout=60.0, follow_redirects=False).status_code


def safe_remote_refusal(url: str) -> str | None:
    """Why wp_safe_remote_* refuses `url` (private/loopback host, port not 80/443/8080), or None."""
    match = re.match(r"^(https?)://([^/:]+)(?::(\d+))?", url)
    if not match:
        return "A valid URL was not provided."
    scheme, host, port = match.group(1), match.group(2), match.group(3)
    port = int(port) if port else (443 if scheme == "https" else 80)
    private = re.match(r"^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|0\.|169\.254\.)", host) or host in (
        "localhost",
        "::1",
    )
    if private or port not in (80, 443, 8080):
        return "A valid URL was not provided."
    return None
