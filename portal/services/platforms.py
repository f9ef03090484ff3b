"""Build the platform adapters a flow talks to for a Connection, from the platform registry.

This is where the application hands integrations what they may not import: the token source, Redis, the settings,
the process's HTTP client and the sleep function.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import httpx
from flask import current_app

from integrations.base import OnCall, RetailerStore, SystemOfRecord
from integrations.registry import AdapterContext, registry
from integrations.shopify.transport import build_http_client
from portal.redis_conn import get_redis
from portal.services.connections import StoreAccess

HTTP_CLIENT_KEY = "wholesync_shopify_http"


def http_client(app, platform: str = "shopify") -> httpx.Client:
    """The app's shared httpx client for a platform (one connection pool per process; rebuilt after a fork).

    A platform registered with its own `http_client` factory gets its own pool, timeouts and transport; the others
    share the default (Shopify's) client."""
    factory = registry.platform(platform).http_client if platform != "shopify" else None
    key = HTTP_CLIENT_KEY if factory is None else f"wholesync_{platform}_http"
    cached = app.extensions.get(key)
    if cached is None or cached[0] != os.getpid():
        cached = (os.getpid(), (factory or build_http_client)(app.config))
        app.extensions[key] = cached
    return cached[1]


def token_source(connection) -> Callable[[], str]:
    """A callable giving the connection's access token, made fresh (refreshed if it is about to expire) now.

    The refresh happens here, in the thread that builds the adapter: the adapter's calls may run on a flow's worker
    threads, which must not touch this thread's database session. A token the platform rejects is renewed once, or
    the connection marked `needs_reauth`, by its `rejected` method (see StoreAccess).
    """
    return StoreAccess(connection)


def adapter_context(connection, on_call: OnCall | None = None) -> AdapterContext:
    """What an adapter needs from this application, for one connection."""
    app = current_app._get_current_object()
    renewable = registry.platform(connection.platform).token_source
    return AdapterContext(
        token=token_source(connection) if renewable else _no_token,
        redis=get_redis(app),
        settings=app.config,
        http=http_client(app, connection.platform),
        on_call=on_call,
        sleep=time.sleep,
        on_rejected=getattr(getattr(on_call, "__self__", None), "fail", None),  # the run counting the calls
    )


def _no_token() -> str:
    """The token source of a platform whose adapter reads its credentials from the connection itself."""
    raise LookupError("this platform's adapter takes its credentials from the connection, not a token source")


def system_of_record(connection, on_call: OnCall | None = None) -> SystemOfRecord:
    """The SystemOfRecord for a wholesaler's connection (UnknownPlatform if its platform has none)."""
    factory = registry.system_of_record(connection.platform)
    return factory(connection, adapter_context(connection, on_call))


def retailer_store(connection, on_call: OnCall | None = None) -> RetailerStore:
    """The RetailerStore for a retailer's store connection (UnknownPlatform if its platform has none)."""
    factory = registry.retailer_store(connection.platform)
    return factory(connection, adapter_context(connection, on_call))
