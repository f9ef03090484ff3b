"""WooCommerce REST API `wc/v3`: `WooClient` sends every call; `register()` adds WooCommerce to the platform
registry as both a system of record and a retailer store.

A connection keeps the site URL in `address`, the consumer key in `api_key` and the consumer secret as its access
token (both encrypted). `WOOCOMMERCE_HTTP_TRANSPORT` (an httpx transport) replaces the network for tests.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from integrations.woocommerce.client import WooClient
from integrations.woocommerce.errors import WooAuthError, WooError, WooNotFound, WooRefusal, WooTransientError

__all__ = [
    "WooAuthError",
    "WooClient",
    "WooError",
    "WooNotFound",
    "WooRefusal",
    "WooTransientError",
    "build_http_client",
    "client",
    "register",
]

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)  # self-hosted shops are slow; WooCommerce's own calls wait 60 s


def build_http_client(config: Mapping) -> httpx.Client:
    """An httpx client for WooCommerce sites per the app config (no redirects: a redirect drops the POST body)."""
    seconds = config.get("WOOCOMMERCE_HTTP_TIMEOUT")
    return httpx.Client(
        transport=config.get("WOOCOMMERCE_HTTP_TRANSPORT"),
        timeout=httpx.Timeout(float(seconds), connect=5.0) if seconds else DEFAULT_TIMEOUT,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=8),
    )


def client(connection, context) -> WooClient:
    """The client for a WooCommerce connection: its site, its key, the consumer secret from the token source."""
    return WooClient(
        connection.address,
        connection.api_key,
        context.token(),
        http=context.http,
        on_call=context.on_call,
        sleep=context.sleep,
    )


def register(registry) -> None:
    """WooCommerce serves both sides: a wholesaler's system of record and a retailer's store."""
    from integrations.woocommerce.adapters import WooRetailerStore, WooSystemOfRecord

    registry.register(
        "woocommerce",
        system_of_record=lambda connection, context: WooSystemOfRecord(
            connection, client(connection, context), context.settings
        ),
        retailer_store=lambda connection, context: WooRetailerStore(
            connection, client(connection, context), context.settings
        ),
        http_client=build_http_client,
    )
