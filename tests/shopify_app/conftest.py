"""Fixtures for the Shopify app tests: session tokens and webhooks signed exactly as Shopify signs them."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest

from integrations.shopify.webhooks import webhook_hmac
from jobs.worker import make_worker


def session_token(app, shop: str, *, secret: str | None = None, exp_in: int = 60, **claims) -> str:
    """An App Bridge session token: HS256 with the app secret, the claims Shopify documents."""
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": app.config["SHOPIFY_API_KEY"],
        "sub": "42",
        "exp": now + exp_in,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret or app.config["SHOPIFY_API_SECRET"], algorithm="HS256")


@pytest.fixture
def token_for(app):
    return lambda shop, **kw: session_token(app, shop, **kw)


class Deliver:
    """Posts a webhook to /webhooks/shopify the way Shopify does (raw JSON body, base64 HMAC header)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def __call__(self, topic, shop, payload, *, event_id=None, secret=None, prefix="X-Shopify-", hmac=None):
        body = json.dumps(payload).encode()
        headers = {
            f"{prefix}Topic": topic,
            f"{prefix}Shop-Domain": shop,
            f"{prefix}API-Version": "2026-07",
            f"{prefix}Webhook-Id": str(uuid.uuid4()),
            f"{prefix}Event-Id": event_id or str(uuid.uuid4()),
            f"{prefix}Triggered-At": "2026-11-26T15:00:00.000Z",
            "Content-Type": "application/json",
        }
        if hmac is not False:
            headers[f"{prefix}Hmac-Sha256"] = hmac or webhook_hmac(
                body, secret or self.app.config["SHOPIFY_API_SECRET"]
            )
        return self.client.post("/webhooks/shopify", data=body, headers=headers)


@pytest.fixture
def deliver(app, client):
    return Deliver(app, client)


@pytest.fixture
def work_webhooks(app):
    """Process the `webhooks` queue with a real burst worker (jobs run in forked work-horses)."""
    return lambda: make_worker(app, queues=("webhooks",)).work(burst=True)


from tests.support.sandbox import sandbox  # noqa: E402,F401 - the shared Shopify sandbox fixture
