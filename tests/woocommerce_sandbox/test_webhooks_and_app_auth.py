"""Webhooks are delivered and signed as WooCommerce signs them; application authentication posts keys to the app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import httpx

from fakes.woocommerce import signature


def test_signature_matches_the_documented_vector():
    assert signature(b'{"id":1,"status":"processing"}', "secret") == "W9XIJt//SY+TsBDWHfiYsxcRH7PheR+VfqXxO+4jhAU="


def test_webhook_ping_then_signed_delivery_verifiable_with_the_secret(woo, api, receiver):
    hook = api.post(
        "/webhooks",
        json={"name": "stock", "topic": "product.updated", "delivery_url": receiver.url + "/hooks", "secret": "s3cret"},
    )
    assert hook.status_code == 201 and "secret" not in hook.json()
    ping = receiver.requests[0]
    assert ping["body"] == f"webhook_id={hook.json()['id']}".encode()
    assert not any(h.lower().startswith("x-wc-webhook") for h in ping["headers"])
    product = api.post("/products", json={"name": "Cap", "sku": "CAP"}).json()
    api.put(f"/products/{product['id']}", json={"regular_price": "9.00"})
    api.put(f"/products/{product['id']}", json={"regular_price": "8.00"})  # coalesced with the pending delivery
    assert woo.deliver_webhooks() == 1
    delivery = receiver.requests[1]
    headers = delivery["headers"]
    expected = base64.b64encode(hmac.new(b"s3cret", delivery["body"], hashlib.sha256).digest()).decode()
    assert headers["X-Wc-Webhook-Signature"] == expected
    assert headers["X-Wc-Webhook-Topic"] == "product.updated"
    assert headers["X-Wc-Webhook-Resource"] == "product" and headers["X-Wc-Webhook-Event"] == "updated"
    assert headers["X-Wc-Webhook-Id"] == str(hook.json()["id"]) and headers["X-Wc-Webhook-Delivery-Id"]
    assert json.loads(delivery["body"])["regular_price"] == "8.00"  # payload built at delivery time


def test_webhook_is_disabled_after_repeated_failures_and_never_retried(woo, api, receiver):
    receiver.status = 500
    hook = api.post("/webhooks", json={"topic": "product.created", "delivery_url": receiver.url}).json()
    for i in range(7):
        api.post("/products", json={"name": f"P{i}"})
        woo.deliver_webhooks()
    assert api.get(f"/webhooks/{hook['id']}").json()["status"] == "disabled"
    assert len(receiver.requests) == 1 + 7  # ping + one attempt per event, no retries


def test_invalid_webhook_topic_is_refused(api):
    response = api.post("/webhooks", json={"topic": "product.exploded", "delivery_url": "https://x.example/h"})
    assert response.status_code == 400 and response.json()["code"] == "woocommerce_rest_shop_webhook_invalid_topic"


def _authorize(store, receiver, **overrides) -> httpx.Response:
    params = {
        "app_name": "Wholesync",
        "scope": "read_write",
        "user_id": "conn-7f3a",
        "return_url": "https://app.example/woo/return",
        "callback_url": receiver.url + "/woo/callback",
        **overrides,
    }
    return httpx.get(f"{store.site}/wc-auth/v1/authorize", params=params)


def test_app_authentication_posts_keys_to_the_callback_then_redirects(woo, store, receiver):
    woo.allow_http_callbacks = True  # the local receiver is plain http
    page = _authorize(store, receiver)
    assert page.status_code == 200 and "Wholesync" in page.text
    approve = page.text.split('class="wc-auth-approve" href="')[1].split('"')[0].replace("&amp;", "&")
    granted = httpx.get(approve)
    assert granted.status_code == 302
    location = urlsplit(granted.headers["Location"])
    assert location.path == "/woo/return" and parse_qs(location.query) == {"success": ["1"], "user_id": ["conn-7f3a"]}
    callback = receiver.requests[0]
    assert callback["method"] == "POST" and callback["headers"]["Content-Type"] == "application/json;charset=UTF-8"
    keys = json.loads(callback["body"])
    assert keys["user_id"] == "conn-7f3a" and keys["key_permissions"] == "read_write"
    assert keys["consumer_key"].startswith("ck_") and keys["consumer_secret"].startswith("cs_")
    response = httpx.get(f"{store.site}/wp-json/wc/v3/products", auth=(keys["consumer_key"], keys["consumer_secret"]))
    assert response.status_code == 200
    assert httpx.get(approve).status_code == 401  # the approval link is single-use


def test_app_authentication_refuses_a_callback_not_over_ssl(store, receiver):
    page = _authorize(store, receiver)
    assert page.status_code == 401 and "The callback_url needs to be over SSL" in page.text
    assert _authorize(store, receiver, scope="admin").text.count("Invalid scope admin") == 1


def test_callback_not_answering_200_revokes_the_key(woo, store, receiver):
    woo.allow_http_callbacks = True
    receiver.status = 201
    page = _authorize(store, receiver)
    approve = page.text.split('class="wc-auth-approve" href="')[1].split('"')[0].replace("&amp;", "&")
    before = set(store.keys)
    response = httpx.get(approve)
    assert response.status_code == 401 and "unable to send the consumer data" in response.text
    assert set(store.keys) == before


def test_product_topics_fire_for_variations_with_their_parent(woo, api, receiver):
    api.post("/webhooks", json={"topic": "product.updated", "delivery_url": receiver.url, "secret": "k"})
    parent = api.post("/products", json={"name": "Sock", "type": "variable"}).json()
    variation = api.post(f"/products/{parent['id']}/variations", json={"sku": "SOCK-1", "regular_price": "3"}).json()
    api.put(f"/products/{parent['id']}/variations/{variation['id']}", json={"regular_price": "4"})
    woo.deliver_webhooks()
    payload = json.loads(receiver.requests[-1]["body"])
    assert payload["id"] == variation["id"] and payload["type"] == "variation"
    assert payload["parent_id"] == parent["id"] and payload["regular_price"] == "4"
