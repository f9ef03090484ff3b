"""Fixtures: the WooCommerce sandbox as a real HTTP server, a store with a key, and a receiver for its outgoing POSTs.

The store is addressed by path prefix, so a client uses an ordinary site URL: http://127.0.0.1:<port>/acme.
"""

from __future__ import annotations

import threading

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from fakes.woocommerce import WooSandbox


class Receiver:
    """An HTTP endpoint recording every request (method, path, headers, raw body); answers `status`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _app(self, environ, start_response):
        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "body": request.get_data(),
            }
        )
        return Response("ok", self.status)(environ, start_response)


@pytest.fixture
def woo():
    sandbox = WooSandbox()
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    sandbox.base_url = f"http://127.0.0.1:{server.server_port}"
    yield sandbox
    server.shutdown()


@pytest.fixture
def store(woo):
    """Store "acme" (HTTPS semantics: Basic auth) and a read_write key; `.site` is its site URL."""
    woo.add_store("acme")
    key = woo.issue_key("acme")
    store = woo.store("acme")
    store.site = f"{woo.base_url}/acme"
    store.key = key
    return store


@pytest.fixture
def api(store):
    """An httpx client on the store's wc/v3 base URL, authenticated with Basic auth."""
    with httpx.Client(
        base_url=f"{store.site}/wp-json/wc/v3", auth=(store.key.consumer_key, store.key.consumer_secret), timeout=10
    ) as client:
        yield client


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.server.shutdown()
