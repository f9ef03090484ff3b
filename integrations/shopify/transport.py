"""The HTTP transport for Shopify calls, injected by configuration.

Production sends to `https://{shop}`. When `SHOPIFY_ADMIN_BASE_URL` is set, every request goes to that base URL
with the original `Host` header kept (so one local server can play many shops); `SHOPIFY_HTTP_TRANSPORT` (an
httpx transport object) wins over both, for tests. The settings mapping is passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class BaseURLTransport(httpx.BaseTransport):
    """Rewrite each request's scheme/host/port to `base_url`, keeping `Host: <original host>`."""

    def __init__(self, base_url: str, inner: httpx.BaseTransport | None = None):
        self.base = httpx.URL(base_url)
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        original_host = request.url.host
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        request.headers["Host"] = original_host
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def build_http_client(config: Mapping, *, timeout: httpx.Timeout | float | None = None) -> httpx.Client:
    """An httpx client for Shopify (Admin API and OAuth endpoints) per the app config."""
    transport = config.get("SHOPIFY_HTTP_TRANSPORT")
    base = config.get("SHOPIFY_ADMIN_BASE_URL")
    if transport is None and base:
        transport = BaseURLTransport(base)
    seconds = config.get("SHOPIFY_HTTP_TIMEOUT")
    return httpx.Client(
        transport=transport,
        timeout=timeout or (httpx.Timeout(float(seconds), connect=5.0) if seconds else DEFAULT_TIMEOUT),
        follow_redirects=False,
    )
