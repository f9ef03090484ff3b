"""The WooCommerce client against the sandbox: Basic over https and OAuth 1.0a over http, paging past 100, retries
of reads on 429/5xx, a create never resent after an unknown outcome, the batch limit, and the published vectors."""

from __future__ import annotations

import httpx
import pytest

from integrations.base import OutcomeUnknown
from integrations.woocommerce.client import WooClient, oauth_signature
from integrations.woocommerce.errors import WooAuthError, WooRefusal
from integrations.woocommerce.webhooks import signature, verify


class HostRewrite(httpx.BaseTransport):
    """Send https://<store>/… to the sandbox, keeping the Host (the sandbox picks the store by it)."""

    def __init__(self, base_url: str):
        self.base, self.inner = httpx.URL(base_url), httpx.HTTPTransport()

    def handle_request(self, request):
        host = request.url.host
        request.url = request.url.copy_with(scheme="http", host=self.base.host, port=self.base.port)
        request.headers["Host"] = host
        return self.inner.handle_request(request)


def _client(woo, store: str, key, **kwargs) -> WooClient:
    return WooClient(f"{woo.base_url}/{store}", key.consumer_key, key.consumer_secret,
                     http=httpx.Client(timeout=10), sleep=lambda s: None, **kwargs)  # fmt: skip


def test_the_published_oauth_and_webhook_vectors_match():
    params = {"per_page": "10", "oauth_consumer_key": "ck_test", "oauth_nonce": "abc123",
              "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": "1700000000"}  # fmt: skip
    url = "http://example.com/wp-json/wc/v3/orders"
    assert oauth_signature("GET", url, params, "cs_test") == "ziJ2/fXeoh8KvIxib4TCx7cmyMmPeSOuiLSdY0uXsEk="
    body = b'{"id":1,"status":"processing"}'
    assert signature(body, "secret") == "W9XIJt//SY+TsBDWHfiYsxcRH7PheR+VfqXxO+4jhAU="
    assert verify(body, "secret", "W9XIJt//SY+TsBDWHfiYsxcRH7PheR+VfqXxO+4jhAU=")
    assert not verify(body + b" ", "secret", "W9XIJt//SY+TsBDWHfiYsxcRH7PheR+VfqXxO+4jhAU=")


def test_https_sites_use_basic_auth_and_a_wrong_secret_is_an_auth_error(woo):
    woo.add_store("shop.example", ssl=True)
    key = woo.issue_key("shop.example")
    http = httpx.Client(transport=HostRewrite(woo.base_url), timeout=10)
    client = WooClient("https://shop.example", key.consumer_key, key.consumer_secret, http=http)
    assert client.get("products") == []
    wrong = WooClient("https://shop.example", key.consumer_key, "cs_wrong", http=http)
    with pytest.raises(WooAuthError, match="Consumer secret is invalid"):
        wrong.get("products")


def test_http_sites_are_signed_with_oauth_and_every_page_is_read(woo):
    woo.add_store("acme", ssl=False)
    key = woo.issue_key("acme")
    client = _client(woo, "acme", key)
    created = client.batch("products/batch", create=[{"name": f"P{i}", "sku": f"S{i}"} for i in range(100)])
    assert len(created["create"]) == 100
    client.post("products", {"name": "P100", "sku": "S100"})
    assert len({p["id"] for p in client.pages("products")}) == 101
    with pytest.raises(ValueError):
        client.batch("products/batch", update=[{"id": i} for i in range(101)])


def test_reads_are_retried_after_429_and_5xx(woo):
    woo.add_store("acme", ssl=False)
    key = woo.issue_key("acme")
    waits = []
    client = WooClient(f"{woo.base_url}/acme", key.consumer_key, key.consumer_secret,
                       http=httpx.Client(timeout=10), sleep=waits.append)  # fmt: skip
    woo.inject("acme", "429", count=1, retry_after=3)
    woo.inject("acme", "500", count=1)
    assert client.get("products") == []
    assert len(waits) == 2 and waits[0] >= 3


def test_a_create_answered_with_a_5xx_is_not_sent_again(woo):
    woo.add_store("acme", ssl=False)
    key = woo.issue_key("acme")
    client = _client(woo, "acme", key)
    woo.inject("acme", "503", count=1)
    with pytest.raises(OutcomeUnknown):
        client.post("orders", {"line_items": []})
    assert client.get("orders") == []  # one attempt only; the caller looks up its marker before another


def test_a_refused_payload_is_not_retried(woo):
    woo.add_store("acme", ssl=False)
    key = woo.issue_key("acme")
    client = _client(woo, "acme", key)
    with pytest.raises(WooRefusal) as refused:
        client.get("products", {"per_page": 101})
    assert refused.value.code == "rest_invalid_param"
