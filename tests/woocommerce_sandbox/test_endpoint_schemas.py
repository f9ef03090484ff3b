"""The sandbox's orders, variations, order notes and webhooks arguments follow WooCommerce's own controllers.

Single requests are validated by WordPress against the endpoint args (rest_invalid_param); batch items are not
(WC_REST_Controller::batch_items calls the controller directly), so the controller's own fallbacks apply.
"""

from __future__ import annotations


def _variable(api) -> dict:
    body = {
        "name": "Tee",
        "type": "variable",
        "attributes": [{"name": "Size", "variation": True, "visible": True, "options": ["S", "M"]}],
    }
    response = api.post("/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_order_create_with_a_status_outside_the_enum_is_a_400_rest_invalid_param(api, store):
    response = api.post("/orders", json={"status": "shipped", "line_items": []})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == "Invalid parameter(s): status"
    assert body["data"]["status"] == 400
    assert body["data"]["params"]["status"].startswith("status is not one of auto-draft, pending, processing,")
    assert body["data"]["details"]["status"]["code"] == "rest_not_in_enum"
    assert api.get("/orders").json() == []


def test_order_currency_must_be_one_woocommerce_knows_three_capitals_are_not_enough(api):
    response = api.post("/orders", json={"currency": "ABC", "line_items": []})
    assert response.status_code == 400
    assert response.json()["data"]["details"]["currency"]["code"] == "rest_not_in_enum"
    assert api.get("/orders").json() == []
    made = api.post("/orders", json={"currency": "EUR", "line_items": []})
    assert made.status_code == 201, made.text
    assert made.json()["currency"] == "EUR"


def test_order_create_refuses_a_non_integer_variation_id_and_a_fee_tax_status_outside_the_enum(api):
    response = api.post("/orders", json={"line_items": [{"variation_id": "abc", "quantity": 1}]})
    assert response.status_code == 400 and response.json()["code"] == "rest_invalid_param"
    assert response.json()["data"]["params"]["line_items"] == "line_items[0][variation_id] is not of type integer."
    response = api.post("/orders", json={"fee_lines": [{"name": "Fee", "total": "1.00", "tax_status": "shipping"}]})
    assert response.status_code == 400
    assert response.json()["data"]["params"]["fee_lines"] == "fee_lines[0][tax_status] is not one of taxable and none."


def test_order_accepts_auto_draft_and_a_null_billing_email(api):
    response = api.post("/orders", json={"status": "auto-draft", "billing": {"first_name": "A", "email": None}})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "auto-draft"


def test_variation_update_with_a_status_outside_the_enum_is_a_400_but_a_batch_item_becomes_draft(api):
    parent = _variable(api)
    route = f"/products/{parent['id']}/variations"
    made = api.post(
        route, json={"sku": "V-S", "regular_price": "10.00", "attributes": [{"name": "Size", "option": "S"}]}
    )
    assert made.status_code == 201, made.text
    variation = made.json()

    response = api.put(f"{route}/{variation['id']}", json={"status": "archived"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == "Invalid parameter(s): status"
    assert body["data"]["params"]["status"] == "status is not one of draft, pending, private, and publish."
    response = api.put(f"{route}/{variation['id']}", json={"manage_stock": "parent"})
    assert response.status_code == 400
    assert response.json()["data"]["params"]["manage_stock"] == "manage_stock is not of type boolean."
    assert api.get(f"{route}/{variation['id']}").json()["status"] == "publish"

    # batch_items never validates an item: prepare_object_for_database stores an unknown status as "draft"
    # (get_post_status_object) and WC_Product::set_stock_status an unknown stock status as "instock".
    response = api.post(
        f"{route}/batch",
        json={"update": [{"id": variation["id"], "status": "archived", "stock_status": "gone"}]},
    )
    assert response.status_code == 200
    updated = response.json()["update"][0]
    assert "error" not in updated
    assert updated["status"] == "draft" and updated["stock_status"] == "instock"


def test_order_notes_require_note_and_list_by_type_enum(api):
    order = api.post("/orders", json={}).json()
    response = api.post(f"/orders/{order['id']}/notes", json={"customer_note": False})
    assert response.status_code == 400 and response.json()["code"] == "rest_missing_callback_param"
    response = api.get(f"/orders/{order['id']}/notes", params={"type": "private"})
    assert response.status_code == 400
    assert response.json()["data"]["params"]["type"] == "type is not one of any, customer, and internal."


def test_webhooks_follow_the_v1_controller(api, receiver):
    response = api.post("/webhooks", json={"name": "no topic"})
    assert response.status_code == 400 and response.json()["code"] == "rest_missing_callback_param"
    created = api.post(
        "/webhooks", json={"topic": "order.updated", "delivery_url": receiver.url, "status": "paused"}
    ).json()
    assert created["status"] == "active"  # create_item always activates the new hook
    response = api.get("/webhooks", params={"orderby": "modified"})
    assert response.status_code == 400 and response.json()["code"] == "rest_invalid_param"
    missing = api.get("/webhooks/999")
    assert missing.status_code == 400
    assert missing.json()["code"] == "woocommerce_rest_shop_webhook_invalid_id"
    assert missing.json()["message"] == "ID is invalid."
    assert api.delete("/webhooks/999").status_code == 501  # force is checked before the id
    gone = api.delete("/webhooks/999", params={"force": "true"})
    assert gone.status_code == 404 and gone.json()["message"] == "Invalid ID."
