"""Outgoing webhooks: signed like Shopify's, sent through a pluggable sink, optionally dropped at random.

A sink is `fn(url, headers, body) -> int` (HTTP status). The default POSTs with httpx. Every attempt is recorded
in `Outbox.deliveries`, so tests can read what was sent and send the same event again.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from fakes.shopify.oauth import webhook_hmac


@dataclass
class Delivery:
    url: str
    topic: str
    shop: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    dropped: bool = False
    error: str | None = None

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers.get("X-Shopify-Event-Id") or self.headers["Shopify-Event-Id"]


def http_sink(url: str, headers: dict[str, str], body: bytes) -> int:
    """The default sink: POST the body like Shopify does (5 s timeout)."""
    return httpx.post(url, headers=headers, content=body, timeout=5.0).status_code


@dataclass
class Outbox:
    secret: str
    sink: object = http_sink
    drop_fraction: float = 0.0
    header_prefix: str = "X-Shopify-"  # newer deliveries come as "Shopify-Topic" etc.: set "Shopify-" to test that
    auto_deliver: bool = True  # False: tests call `deliver_pending()` in their own thread
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    deliveries: list[Delivery] = field(default_factory=list)
    pending: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, shop: str, topic: str, payload: dict, urls: list[str], api_version: str) -> list[Delivery]:
        """Sign one event for each target URL (same event id for all of them, like Shopify)."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        triggered = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out = []
        for url in urls:
            p = self.header_prefix
            headers = {
                "Content-Type": "application/json",
                f"{p}Topic": topic,
                f"{p}Hmac-Sha256": webhook_hmac(body, self.secret),
                f"{p}Shop-Domain": shop,
                f"{p}API-Version": api_version,
                f"{p}Webhook-Id": str(uuid.uuid4()),
                f"{p}Event-Id": event_id,
                f"{p}Triggered-At": triggered,
            }
            out.append(Delivery(url=url, topic=topic, shop=shop, headers=headers, body=body))
        return out

    def enqueue(self, deliveries: list[Delivery]) -> None:
        with self._lock:
            self.pending.extend(deliveries)
        if self.auto_deliver and deliveries:
            threading.Thread(target=self.deliver_pending, daemon=True).start()

    def deliver_pending(self) -> list[Delivery]:
        """Send everything queued (dropping `drop_fraction` of it); returns what was attempted."""
        done = []
        while True:
            with self._lock:
                if not self.pending:
                    break
                d = self.pending.popleft()
            self.send(d)
            done.append(d)
        return done

    def send(self, d: Delivery) -> Delivery:
        if self.drop_fraction and self.rng.random() < self.drop_fraction:
            d.dropped = True
        else:
            try:
                d.status = self.sink(d.url, dict(d.headers), d.body)
            except Exception as exc:
                d.error = repr(exc)
        with self._lock:
            self.deliveries.append(d)
        return d

    def redeliver(self, d: Delivery) -> Delivery:
        """Send the same event again (same ids and signature): Shopify delivers at least once."""
        return self.send(Delivery(url=d.url, topic=d.topic, shop=d.shop, headers=dict(d.headers), body=d.body))
