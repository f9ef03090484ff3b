"""The `sandbox` pytest fixture: the Shopify sandbox as a real HTTP server on 127.0.0.1, wired into the app.

Use it from a conftest with `from tests.support.sandbox import sandbox  # noqa: F401`. The server runs in a thread
of the test process, so forked RQ work-horses reach it over HTTP; tests read and steer its state directly.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from fakes.shopify import Sandbox, SandboxConfig
from fakes.shopify.state import ShopState


class SandboxHandle:
    """What tests get: the running sandbox plus helpers (shops, tokens, faults, state, webhooks)."""

    def __init__(self, sandbox: Sandbox, base_url: str, app):
        self.sandbox = sandbox
        self.base_url = base_url
        self.app = app

    # shops and tokens
    def add_shop(
        self,
        domain: str,
        *,
        token: str | None = None,
        restore_rate: float | None = None,
        maximum_available: float | None = None,
        scopes: str | None = None,
    ) -> str:
        """Create a shop and return an access token for it (the given one, or a new non-expiring one)."""
        kwargs = {"scopes": scopes} if scopes else {}
        self.sandbox.add_shop(domain, restore_rate=restore_rate, maximum_available=maximum_available, **kwargs)
        if token:
            self.sandbox.add_shop(domain, token=token, **kwargs)
            return token
        return self.sandbox.issue_token(domain)

    def shop(self, domain: str) -> ShopState:
        """The shop's live state (products, variants, inventory_items, locations, orders, ... as dataclasses)."""
        return self.sandbox.shop(domain)

    def session_token(self, domain: str, user_id: int = 1, exp_in: int = 60, **kwargs) -> str:
        return self.sandbox.session_token(domain, user_id, exp_in, **kwargs)

    # faults and throttling
    def inject(self, domain: str, kind: str, count: int = 1, **kwargs) -> None:
        """Next `count` requests fail: "throttled", "429", "500", "503", or "slow" (seconds=...)."""
        self.sandbox.inject(domain, kind, count, **kwargs)

    def set_bucket(self, domain: str, **kwargs) -> None:
        self.sandbox.set_bucket(domain, **kwargs)

    # GraphQL directly (no HTTP, no cost): seed or inspect state the way a merchant would
    def graphql(self, domain: str, query: str, variables: dict | None = None) -> dict:
        body = self.sandbox.run(self.shop(domain), query, variables, base_url=self.base_url, charge=False)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def add_product(self, domain: str, title: str, variants: list[dict], *, status: str = "ACTIVE") -> dict:
        """Seed a product: variants are {"sku", "price", "available"=0, "barcode"?}; returns its ids by sku."""
        return self.sandbox.add_product(domain, title, variants, status=status)

    def available(self, domain: str, sku: str) -> int | None:
        shop = self.shop(domain)
        variant = shop.variant_by_sku(sku)
        return shop.available(variant.inventory_item_id) if variant else None

    # webhooks
    @property
    def webhooks(self):
        """Every delivery attempted so far (`Delivery` objects: url, topic, headers, body, payload, status)."""
        return self.sandbox.outbox.deliveries

    def emit(self, domain: str, topic: str, payload: dict):
        """Announce a state change as Shopify would (queued; call `deliver_webhooks()`)."""
        return self.sandbox.emit(domain, topic, payload)

    def deliver_webhooks(self):
        """Deliver queued webhooks to the app (through Flask's test client, in this thread); returns them."""
        return self.sandbox.outbox.deliver_pending()

    def drop_webhooks(self, fraction: float) -> None:
        self.sandbox.outbox.drop_fraction = fraction


def _app_sink(app):
    """Deliver to the app in-process when the URL is the app's, else over HTTP."""
    from fakes.shopify.webhooks import http_sink

    def sink(url: str, headers: dict, body: bytes) -> int:
        if url.startswith(app.config.get("SHOPIFY_APP_URL", "http://localhost:5000")):
            path = url[len(app.config["SHOPIFY_APP_URL"]) :] or "/"
            return app.test_client().post(path, headers=headers, data=body).status_code
        return http_sink(url, headers, body)

    return sink


@pytest.fixture
def sandbox(app):
    """A running Shopify sandbox; the app's SHOPIFY_ADMIN_BASE_URL points at it for the duration of the test."""
    config = SandboxConfig(
        client_id=app.config["SHOPIFY_API_KEY"],
        client_secret=app.config["SHOPIFY_API_SECRET"],
        app_url=app.config.get("SHOPIFY_APP_URL"),
    )
    sb = Sandbox(config, sink=_app_sink(app), auto_deliver=False)
    server = make_server("127.0.0.1", 0, sb, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    previous = app.config.get("SHOPIFY_ADMIN_BASE_URL")
    app.config["SHOPIFY_ADMIN_BASE_URL"] = base_url
    app.extensions.pop("wholesync_shopify_http", None)
    try:
        yield SandboxHandle(sb, base_url, app)
    finally:
        server.shutdown()
        server.server_close()
        app.config["SHOPIFY_ADMIN_BASE_URL"] = previous
        app.extensions.pop("wholesync_shopify_http", None)
