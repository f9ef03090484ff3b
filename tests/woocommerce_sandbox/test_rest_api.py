"""The WooCommerce sandbox refuses what WooCommerce refuses: limits, authentication, argument types and enums.

Also pagination headers, batch semantics, SKU uniqueness, variable products and variations, orders and notes.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx

from fakes.woocommerce.auth import oauth_signature


def _product(api, **fields) -> dict:
    response = api.post("/products", json={"name": "Tee", "type": "simple", "regular_price": "10.00", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_per_page_over_100_is_a_400_rest_invalid_param(api):
    response = api.get("/products", params={"per_page": 101})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == "Invalid parameter(s): per_page"
    assert body["data"]["status"] == 400
    assert body["data"]["params"]["per_page"] == "per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert api.get("/products", params={"per_page": 100}).status_code == 200


def test_batch_of_101_items_is_refused_whole_and_100_is_accepted(api, store):
    too_many = {"create": [{"name": f"P{i}", "regular_price": "1"} for i in range(60)], "delete": list(range(41))}
    response = api.post("/products/batch", json=too_many)
    assert response.status_code == 413
    assert response.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert store.products == {}
    response = api.post("/products/batch", json={"create": [{"name": f"P{i}", "sku": f"S{i}"} for i in range(100)]})
    assert response.status_code == 200
    assert len(response.json()["create"]) == 100 and len(store.products) == 100


def test_batch_answers_200_with_per_item_errors(api):
    _product(api, sku="TAKEN")
    response = api.post(
        "/products/batch",
        json={"create": [{"name": "ok", "sku": "NEW"}, {"name": "dup", "sku": "TAKEN"}], "update": [{"id": 999}]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["create"][0]["sku"] == "NEW"
    assert body["create"][1]["id"] == 0 and body["create"][1]["error"]["code"] == "product_invalid_sku"
    assert body["update"][0]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert "delete" not in body


def test_wrong_secret_is_401_with_the_wordpress_error_body(store):
    response = httpx.get(f"{store.site}/wp-json/wc/v3/products", auth=(store.key.consumer_key, "cs_wrong"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer secret is invalid.",
        "data": {"status": 401},
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    response = httpx.get(f"{store.site}/wp-json/wc/v3/products", auth=("ck_unknown", "cs_x"))
    assert response.json()["message"] == "Consumer key is invalid."


def test_no_credentials_is_401_cannot_view(store):
    response = httpx.get(f"{store.site}/wp-json/wc/v3/orders")
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"


def test_read_only_key_cannot_write(woo, store):
    key = woo.issue_key("acme", "read")
    auth = (key.consumer_key, key.consumer_secret)
    assert httpx.get(f"{store.site}/wp-json/wc/v3/products", auth=auth).status_code == 200
    response = httpx.post(f"{store.site}/wp-json/wc/v3/products", auth=auth, json={"name": "x"})
    assert response.status_code == 401
    assert response.json()["message"] == "The API key provided does not have write permissions."


def test_query_string_keys_authenticate(store):
    params = {"consumer_key": store.key.consumer_key, "consumer_secret": store.key.consumer_secret}
    assert httpx.get(f"{store.site}/wp-json/wc/v3/products", params=params).status_code == 200


def test_plain_http_store_ignores_basic_auth_and_accepts_oauth1_signatures(woo):
    woo.add_store("plain", ssl=False)
    key = woo.issue_key("plain")
    url = f"{woo.base_url}/plain/wp-json/wc/v3/products"
    assert httpx.get(url, auth=(key.consumer_key, key.consumer_secret)).json()["code"] == "woocommerce_rest_cannot_view"
    params = {
        "per_page": "5",
        "oauth_consumer_key": key.consumer_key,
        "oauth_nonce": "n-1",
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(time.time())),
    }
    params["oauth_signature"] = oauth_signature("GET", url, params, key.consumer_secret)
    assert httpx.get(url, params=params).status_code == 200
    replay = httpx.get(url, params=params)
    assert replay.status_code == 401 and replay.json()["message"] == "Invalid nonce - nonce has already been used."
    params = {**params, "oauth_nonce": "n-2", "oauth_signature": "bad"}
    assert httpx.get(url, params=params).json()["message"] == "Invalid signature - provided signature does not match."


def test_oauth1_signature_matches_the_documented_vector():
    params = {
        "per_page": "10",
        "oauth_consumer_key": "ck_test",
        "oauth_nonce": "abc123",
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": "1700000000",
    }
    signed = oauth_signature("GET", "http://example.com/wp-json/wc/v3/orders", params, "cs_test")
    assert signed == "ziJ2/fXeoh8KvIxib4TCx7cmyMmPeSOuiLSdY0uXsEk="


def test_pagination_headers_and_links(api, store):
    for i in range(25):
        _product(api, name=f"P{i:02d}")
    page2 = api.get("/products", params={"per_page": 10, "page": 2, "orderby": "id", "order": "asc"})
    assert page2.status_code == 200
    assert page2.headers["X-WP-Total"] == "25" and page2.headers["X-WP-TotalPages"] == "3"
    assert [p["name"] for p in page2.json()] == [f"P{i:02d}" for i in range(10, 20)]
    links = page2.headers.get_list("Link")
    assert any('rel="prev"' in link and "page=1" in link for link in links)
    assert any('rel="next"' in link and "page=3" in link for link in links)
    last = api.get("/products", params={"per_page": 10, "page": 3})
    assert not any('rel="next"' in link for link in last.headers.get_list("Link"))
    beyond = api.get("/products", params={"per_page": 10, "page": 4})
    assert beyond.json() == [] and beyond.headers["X-WP-Total"] == "25"


def test_declared_fields_are_type_checked_and_undeclared_ones_ignored(api):
    response = api.post("/products", json={"name": "x", "regular_price": 12.5})
    assert response.status_code == 400
    assert response.json()["data"]["params"] == {"regular_price": "regular_price is not of type string."}
    response = api.post("/products", json={"name": "x", "stock_status": "available"})
    assert response.json()["data"]["params"]["stock_status"] == (
        "stock_status is not one of instock, outofstock, and onbackorder."
    )
    response = api.post("/products", json={"name": "x", "meta_data": [{"key": 5, "value": "v"}]})
    assert response.json()["data"]["params"]["meta_data"] == "meta_data[0][key] is not of type string."
    created = api.post("/products", json={"name": "x", "no_such_field": 1, "price": "999"})
    assert created.status_code == 201
    assert "no_such_field" not in created.json() and created.json()["price"] == ""  # read-only price ignored


def test_duplicate_sku_is_refused_with_the_holder_id(api):
    first = _product(api, sku="ABC")
    response = api.post("/products", json={"name": "again", "sku": "ABC"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "product_invalid_sku" and body["data"]["resource_id"] == first["id"]


def test_missing_product_is_404_on_get_and_400_on_update(api):
    assert api.get("/products/999").status_code == 404
    response = api.put("/products/999", json={"name": "x"})
    assert response.status_code == 400 and response.json()["code"] == "woocommerce_rest_product_invalid_id"


def test_unknown_route_is_rest_no_route(api):
    response = api.get("/nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "rest_no_route"


def test_variable_product_with_variations_round_trip(api):
    parent = api.post(
        "/products",
        json={
            "name": "Hoodie",
            "type": "variable",
            "attributes": [
                {"name": "Size", "options": ["S", "M"], "variation": True, "visible": True},
                {"name": "Material", "options": ["Cotton"], "variation": False},
            ],
        },
    ).json()
    batch = api.post(
        f"/products/{parent['id']}/variations/batch",
        json={
            "create": [
                {
                    "sku": "HOOD-S",
                    "regular_price": "40.00",
                    "manage_stock": True,
                    "stock_quantity": 3,
                    "attributes": [{"name": "Size", "option": "S"}, {"name": "Material", "option": "Cotton"}],
                },
                {"sku": "HOOD-M", "regular_price": "42.00", "attributes": [{"name": "size", "option": "M"}]},
            ]
        },
    )
    assert batch.status_code == 200
    small, medium = batch.json()["create"]
    assert small["attributes"] == [{"id": 0, "name": "Size", "option": "S"}]  # Material is not a variation attribute
    assert small["stock_quantity"] == 3 and small["stock_status"] == "instock"
    again = api.get(f"/products/{parent['id']}").json()
    assert again["type"] == "variable" and again["variations"] == [small["id"], medium["id"]]
    assert again["price"] == "40.00"
    listed = api.get(f"/products/{parent['id']}/variations", params={"orderby": "id", "order": "asc"}).json()
    assert [v["sku"] for v in listed] == ["HOOD-S", "HOOD-M"]
    assert all(v["parent_id"] == parent["id"] for v in listed)
    by_sku = api.get("/products", params={"sku": "HOOD-M"}).json()
    assert [p["id"] for p in by_sku] == [medium["id"]]  # ?sku= finds variations too
    updated = api.put(f"/products/{parent['id']}/variations/{medium['id']}", json={"sale_price": "30.00"}).json()
    assert updated["price"] == "30.00" and updated["on_sale"] is True
    assert api.get("/products").json()[0]["id"] == parent["id"]  # plain listing holds parents only
    assert api.put(f"/products/{small['id']}", json={"name": "x"}).status_code == 404


def test_product_stock_fields_need_the_store_manage_stock_option(woo, api, store):
    woo.add_store("acme", manage_stock=False)
    product = _product(api, manage_stock=True, stock_quantity=5)
    assert product["manage_stock"] is False and product["stock_quantity"] is None


def test_order_with_meta_set_paid_reduces_stock_and_search_ignores_meta(api, store):
    product = _product(api, sku="MUG", manage_stock=True, stock_quantity=10)
    order = api.post(
        "/orders",
        json={
            "set_paid": True,
            "billing": {"first_name": "Rita", "email": "rita@retail.example"},
            "line_items": [{"product_id": product["id"], "quantity": 3}],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat", "total": "5.00"}],
            "meta_data": [{"key": "_wholesync_order", "value": "ws-42"}],
        },
    )
    assert order.status_code == 201, order.text
    body = order.json()
    assert body["status"] == "processing" and body["total"] == "35.00"
    assert body["meta_data"][0]["key"] == "_wholesync_order" and body["meta_data"][0]["value"] == "ws-42"
    assert api.get(f"/products/{product['id']}").json()["stock_quantity"] == 7
    assert [o["id"] for o in api.get("/orders", params={"search": "rita@retail"}).json()] == [body["id"]]
    assert api.get("/orders", params={"search": "ws-42"}).json() == []
    cancelled = api.put(f"/orders/{body['id']}", json={"status": "cancelled"}).json()
    assert cancelled["status"] == "cancelled"
    assert api.get(f"/products/{product['id']}").json()["stock_quantity"] == 10
    bad = api.get("/orders", params={"status": "shipped"})
    assert bad.status_code == 400 and "status[0]" in bad.json()["data"]["params"]["status"]


def test_order_notes(api):
    product = _product(api)
    order = api.post("/orders", json={"line_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    missing = api.post(f"/orders/{order['id']}/notes", json={})
    assert missing.status_code == 400 and missing.json()["code"] == "rest_missing_callback_param"
    note = api.post(f"/orders/{order['id']}/notes", json={"note": "Shipped", "customer_note": True})
    assert note.status_code == 201 and note.json()["customer_note"] is True
    assert [n["note"] for n in api.get(f"/orders/{order['id']}/notes").json()] == ["Shipped"]
    assert api.delete(f"/orders/{order['id']}/notes/{note.json()['id']}").status_code == 501
    assert api.delete(f"/orders/{order['id']}/notes/{note.json()['id']}", params={"force": "true"}).status_code == 200


def test_shipment_tracking_exists_only_where_the_extension_is_active(woo, api, store):
    product = _product(api)
    order = api.post("/orders", json={"line_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    url = f"{store.site}/wp-json/wc-shipment-tracking/v3/orders/{order['id']}/shipment-trackings"
    auth = (store.key.consumer_key, store.key.consumer_secret)
    tracking = {"tracking_provider": "usps", "tracking_number": "9400100000000000000000", "date_shipped": "2026-11-30"}
    assert httpx.post(url, auth=auth, json=tracking).json()["code"] == "rest_no_route"
    woo.add_store("acme", shipment_tracking=True)
    created = httpx.post(url, auth=auth, json=tracking)
    assert created.status_code == 201
    assert created.json()["tracking_provider"] == "USPS" and created.json()["date_shipped"] == "2026-11-30"
    assert "9400100000000000000000" in created.json()["tracking_link"]
    meta = {m["key"]: m["value"] for m in api.get(f"/orders/{order['id']}").json()["meta_data"]}
    assert meta["_wc_shipment_tracking_items"][0]["tracking_number"] == "9400100000000000000000"
    index = httpx.get(f"{store.site}/wp-json/").json()
    assert "wc-shipment-tracking/v3" in index["namespaces"]


def test_injected_429_carries_retry_after(woo, api):
    woo.inject("acme", "429", retry_after=7)
    response = api.get("/products")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert api.get("/products").status_code == 200


def test_host_header_addresses_a_store_without_a_path_prefix(woo, store):
    woo.add_store("shop.example")
    key = woo.issue_key("shop.example")
    response = httpx.get(
        f"{woo.base_url}/wp-json/wc/v3/products",
        headers={"Host": "shop.example"},
        auth=(key.consumer_key, key.consumer_secret),
    )
    assert response.status_code == 200 and response.json() == []


def test_control_api_adds_a_store_and_sets_stock(woo, api, store):
    created = httpx.post(f"{woo.base_url}/_sandbox/stores", json={"store": "beta"}).json()
    assert created["consumer_key"].startswith("ck_") and "beta" in woo.stores
    _product(api, sku="CTL", manage_stock=True, stock_quantity=1)
    assert (
        httpx.post(f"{woo.base_url}/_sandbox/stores/acme/stock", json={"sku": "CTL", "quantity": 9}).status_code == 200
    )
    assert httpx.get(f"{woo.base_url}/_sandbox/stores/acme").json()["stock"]["CTL"] == 9


def test_modified_after_reads_site_time_unless_dates_are_gmt(woo, api, store):
    woo.add_store("acme", utc_offset_hours=2)
    old = _product(api, name="old")
    woo.advance(60)
    new = _product(api, name="new")
    # One second before the newer product's modification, as GMT.
    cutoff = datetime.fromisoformat(new["date_modified_gmt"]) - timedelta(seconds=1)
    before_gmt = cutoff.strftime("%Y-%m-%dT%H:%M:%S")
    ids = [p["id"] for p in api.get("/products", params={"modified_after": before_gmt, "dates_are_gmt": "true"}).json()]
    assert ids == [new["id"]]
    assert old["date_modified"] != old["date_modified_gmt"]
    # Without dates_are_gmt the same string is site time, i.e. two hours earlier in GMT: both products match.
    ids = [p["id"] for p in api.get("/products", params={"modified_after": before_gmt}).json()]
    assert sorted(ids) == sorted([old["id"], new["id"]])
