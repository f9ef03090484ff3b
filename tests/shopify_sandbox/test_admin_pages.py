"""The sandbox shop pages: every page renders, and every form changes state that the GraphQL API then shows, sending
the signed webhook Shopify would send to the shop's subscriptions; bad forms answer 400 with a message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from werkzeug.test import Client

from fakes.shopify import Sandbox

WS = "wholesaler.myshopify.com"
RT = "retailer.myshopify.com"
SAME_ORIGIN = {"Origin": "http://localhost"}
TOPICS = ("INVENTORY_LEVELS_UPDATE", "PRODUCTS_CREATE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE", "ORDERS_CREATE",
          "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_EDITED", "ORDERS_FULFILLED", "ORDERS_PARTIALLY_FULFILLED",
          "FULFILLMENTS_CREATE")  # fmt: skip


@pytest.fixture
def world():
    received = []
    sandbox = Sandbox(sink=lambda url, headers, body: received.append((url, headers, body)) or 200, auto_deliver=False)
    tote = sandbox.add_product(WS, "Tote <Bag>", [{"sku": "TOTE-1", "price": "12.00", "available": 10}])
    for shop in (WS, RT):
        sandbox.add_shop(shop)
        for topic in TOPICS:
            gql(sandbox, shop, "mutation($t: WebhookSubscriptionTopic!, $u: String!) { webhookSubscriptionCreate("
                "topic: $t, webhookSubscription: {uri: $u}) { userErrors { message } } }",
                {"t": topic, "u": f"https://hooks.example/{shop}"})  # fmt: skip

    class World:
        pass

    w = World()
    w.sandbox, w.received, w.client = sandbox, received, Client(sandbox)
    w.tote_variant = int(tote["variants"]["TOTE-1"]["variant_id"].split("/")[-1])
    w.tote_product = int(tote["product_id"].split("/")[-1])
    return w


def gql(sandbox, shop, query, variables=None):
    body = sandbox.run(sandbox.shop(shop), query, variables, charge=False)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def post(world, path, data):
    return world.client.post(f"/_sandbox/admin/{path}", data=data, headers=SAME_ORIGIN)


def deliveries(world, topic, shop=WS):
    """Delivered (url, headers, payload) for a topic, after checking each signature and Shopify's headers."""
    world.sandbox.outbox.deliver_pending()
    secret = world.sandbox.config.client_secret.encode()
    out = []
    for url, headers, body in world.received:
        if headers["X-Shopify-Topic"] != topic or headers["X-Shopify-Shop-Domain"] != shop:
            continue
        assert (
            headers["X-Shopify-Hmac-Sha256"]
            == base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        )
        assert headers["X-Shopify-Event-Id"] and headers["X-Shopify-Triggered-At"].endswith("Z")
        out.append((url, headers, json.loads(body)))
    return out


def place(world, shop, variant_id, quantity):
    response = post(world, f"{shop}/orders", {f"qty_{variant_id}": str(quantity)})
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_every_page_renders_marked_as_a_sandbox_with_values_escaped(world):
    order_id = place(world, WS, world.tote_variant, 1)
    for path in ("", f"{WS}/products", f"{WS}/orders", f"{WS}/orders/{order_id}", f"{RT}/products", f"{RT}/orders"):
        page = world.client.get(f"/_sandbox/admin/{path}")
        assert page.status_code == 200, path
        assert "Local sandbox — not Shopify" in page.text
    products = world.client.get(f"/_sandbox/admin/{WS}/products").text
    assert "Tote &lt;Bag&gt;" in products and "Tote <Bag>" not in products
    assert world.client.get(f"/_sandbox/admin/{WS}/").status_code == 302
    assert world.client.get("/_sandbox/admin/nope.myshopify.com/products").status_code == 404


def test_setting_stock_shows_in_graphql_and_sends_inventory_levels_update(world):
    shop = world.sandbox.shop(WS)
    location = shop.primary_location.id
    response = post(world, f"{WS}/variants/{world.tote_variant}/stock", {"available": "7", "location_id": location})
    assert response.status_code == 303
    data = gql(world.sandbox, WS, "{ productVariant(id: $id) { inventoryQuantity } }".replace(
        "$id", f'"gid://shopify/ProductVariant/{world.tote_variant}"'))  # fmt: skip
    assert data["productVariant"]["inventoryQuantity"] == 7
    [(url, _headers, payload)] = deliveries(world, "inventory_levels/update")
    item = shop.variants[world.tote_variant].inventory_item_id
    assert url == f"https://hooks.example/{WS}"
    assert payload["available"] == 7 and payload["inventory_item_id"] == item and payload["location_id"] == location
    assert payload["admin_graphql_api_id"] == f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}"
    assert payload["updated_at"]


def test_editing_title_and_price_sends_products_update(world):
    form = {"title": "Tote Deluxe", f"price_{world.tote_variant}": "14.50"}
    assert post(world, f"{WS}/products/{world.tote_product}", form).status_code == 303
    data = gql(world.sandbox, WS, "{ products(first: 5) { nodes { title variants(first: 5) { nodes { price } } } } }")
    assert data["products"]["nodes"] == [{"title": "Tote Deluxe", "variants": {"nodes": [{"price": "14.50"}]}}]
    payloads = [p for _u, _h, p in deliveries(world, "products/update")]
    assert payloads[-1]["title"] == "Tote Deluxe" and payloads[-1]["variants"][0]["price"] == "14.50"


def test_adding_and_deleting_a_product_send_products_create_and_delete(world):
    form = {"title": "Scarf", "sku": "SCARF-1", "price": "30.00", "available": "4"}
    assert post(world, f"{WS}/products", form).status_code == 303
    [(_u, _h, created)] = deliveries(world, "products/create")
    assert created["title"] == "Scarf" and created["variants"][0]["sku"] == "SCARF-1"
    assert post(world, f"{WS}/products/{created['id']}/delete", {}).status_code == 303
    data = gql(world.sandbox, WS, "{ products(first: 5) { nodes { title } } }")
    assert [p["title"] for p in data["products"]["nodes"]] == ["Tote <Bag>"]
    assert [p for _u, _h, p in deliveries(world, "products/delete")] == [{"id": created["id"]}]


def test_retailer_order_of_service_stock_is_requested_from_the_service_and_notifies_it(world):
    sandbox = world.sandbox
    service = gql(
        sandbox,
        RT,
        'mutation { fulfillmentServiceCreate(name: "Wholesync", callbackUrl: '
        '"https://hub.example/fs", inventoryManagement: true) { fulfillmentService { location { id } } } }',
    )
    location = service["fulfillmentServiceCreate"]["fulfillmentService"]["location"]["id"]
    copy = sandbox.add_product(RT, "Tote", [{"sku": "TOTE-1", "price": "20.00", "available": 0}])
    item = copy["variants"]["TOTE-1"]["inventory_item_id"]
    gql(
        sandbox,
        RT,
        "mutation($i: ID!, $l: ID!, $k: String!) { inventoryActivate(inventoryItemId: $i, locationId: $l,"
        " available: 5) @idempotent(key: $k) { userErrors { message } } }",
        {"i": item, "l": location, "k": "a1"},
    )
    variant = int(copy["variants"]["TOTE-1"]["variant_id"].split("/")[-1])
    order_id = place(world, RT, variant, 2)
    data = gql(sandbox, RT, f'{{ order(id: "gid://shopify/Order/{order_id}") {{ fulfillmentOrders(first: 5) '
               "{ nodes { requestStatus assignedLocation { location { id } } } } } }")  # fmt: skip
    [fo] = data["order"]["fulfillmentOrders"]["nodes"]
    assert fo == {"requestStatus": "SUBMITTED", "assignedLocation": {"location": {"id": location}}}
    sandbox.outbox.deliver_pending()
    notified = [(u, b) for u, _h, b in world.received if u == "https://hub.example/fs/fulfillment_order_notification"]
    assert notified == [("https://hub.example/fs/fulfillment_order_notification", b'{"kind":"FULFILLMENT_REQUEST"}')]
    [(_u, _h, created)] = deliveries(world, "orders/create", RT)
    assert created["line_items"][0]["quantity"] == 2


def test_cancelling_restocks_and_sends_orders_cancelled(world):
    order_id = place(world, WS, world.tote_variant, 3)
    assert world.sandbox.shop(WS).available(world.sandbox.shop(WS).variants[world.tote_variant].inventory_item_id) == 7
    assert post(world, f"{WS}/orders/{order_id}/cancel", {"reason": "CUSTOMER", "restock": "1"}).status_code == 303
    data = gql(world.sandbox, WS, f'{{ order(id: "gid://shopify/Order/{order_id}") {{ cancelledAt }} }}')
    assert data["order"]["cancelledAt"]
    [(_u, _h, cancelled)] = deliveries(world, "orders/cancelled")
    assert cancelled["cancel_reason"] == "customer" and cancelled["cancelled_at"]
    levels = [p["available"] for _u, _h, p in deliveries(world, "inventory_levels/update")]
    assert levels == [7, 10]  # taken by the order, given back by the cancel
    again = post(world, f"{WS}/orders/{order_id}/cancel", {"reason": "CUSTOMER"})
    assert again.status_code == 400 and "already been cancelled" in again.text


def test_editing_a_line_quantity_sends_orders_edited_and_updated(world):
    order_id = place(world, WS, world.tote_variant, 3)
    line = world.sandbox.shop(WS).orders[order_id].data["line_items"][0]["id"]
    assert post(world, f"{WS}/orders/{order_id}/edit", {f"qty_{line}": "1", "restock": "1"}).status_code == 303
    data = gql(world.sandbox, WS, f'{{ order(id: "gid://shopify/Order/{order_id}") {{ lineItems(first: 5) '
               "{ nodes { quantity currentQuantity } } } }")  # fmt: skip
    assert data["order"]["lineItems"]["nodes"] == [{"quantity": 3, "currentQuantity": 1}]
    [(_u, _h, edit)] = deliveries(world, "orders/edited")
    assert edit["order_edit"]["line_items"]["removals"] == [{"id": line, "delta": 2}]
    assert deliveries(world, "orders/updated")[-1][2]["line_items"][0]["quantity"] == 1


def test_partial_then_full_shipment_with_tracking(world):
    order_id = place(world, WS, world.tote_variant, 3)
    line = world.sandbox.shop(WS).orders[order_id].data["line_items"][0]["id"]
    form = {f"ship_{line}": "1", "company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}
    assert post(world, f"{WS}/orders/{order_id}/ship", form).status_code == 303
    query = (f'{{ order(id: "gid://shopify/Order/{order_id}") {{ displayFulfillmentStatus '
             "fulfillments(first: 5) { trackingInfo { company number url } } } }")  # fmt: skip
    data = gql(world.sandbox, WS, query)["order"]
    assert data["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert data["fulfillments"][0]["trackingInfo"] == [
        {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}]  # fmt: skip
    [(_u, _h, shipped)] = deliveries(world, "fulfillments/create")
    assert shipped["tracking_number"] == "1Z999" and shipped["line_items"][0]["quantity"] == 1
    assert len(deliveries(world, "orders/partially_fulfilled")) == 1
    assert post(world, f"{WS}/orders/{order_id}/ship", {f"ship_{line}": "2", "company": "UPS"}).status_code == 303
    assert gql(world.sandbox, WS, query)["order"]["displayFulfillmentStatus"] == "FULFILLED"
    assert deliveries(world, "orders/fulfilled")[0][2]["fulfillment_status"] == "fulfilled"
    too_many = post(world, f"{WS}/orders/{order_id}/ship", {f"ship_{line}": "1"})
    assert too_many.status_code == 400 and "quantity" in too_many.text


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("{ws}/orders", {"qty_{v}": "two"}, "whole number"),
        ("{ws}/orders", {"qty_{v}": "0"}, "at least one variant"),
        ("{ws}/variants/{v}/stock", {"available": "", "location_id": "1"}, "whole number"),
        ("{ws}/products/{p}", {"title": "Tote", "price_{v}": "cheap"}, "not a number"),
        ("{ws}/products/{p}", {"title": ""}, "blank"),
        ("{ws}/products", {"title": "Dup", "sku": "TOTE-1"}, "already used"),
        ("{ws}/orders/999999/cancel", {"reason": "OTHER"}, "No order"),
    ],
)
def test_bad_forms_answer_400_with_a_message(world, path, form, message):
    fill = {"ws": WS, "v": world.tote_variant, "p": world.tote_product}
    response = post(world, path.format(**fill), {k.format(**fill): v for k, v in form.items()})
    assert response.status_code == 400 and message in response.text


def test_cross_site_posts_are_refused(world):
    form = {f"qty_{world.tote_variant}": "1"}
    assert world.client.post(f"/_sandbox/admin/{WS}/orders", data=form).status_code == 403
    evil = {"Origin": "https://evil.example"}
    assert world.client.post(f"/_sandbox/admin/{WS}/orders", data=form, headers=evil).status_code == 403
    assert world.sandbox.shop(WS).orders == {}


def test_graphql_order_cancel_and_product_delete_send_the_same_webhooks(world):
    order_id = place(world, WS, world.tote_variant, 1)
    data = gql(world.sandbox, WS, f'mutation {{ orderCancel(orderId: "gid://shopify/Order/{order_id}", reason: '
               "STAFF, restock: true) { job { id done } orderCancelUserErrors { code message } } }")  # fmt: skip
    job = data["orderCancel"]["job"]
    assert job["done"] and gql(world.sandbox, WS, f'{{ job(id: "{job["id"]}") {{ done }} }}')["job"]["done"]
    assert deliveries(world, "orders/cancelled")[0][2]["cancel_reason"] == "staff"
    gql(world.sandbox, WS, f'mutation {{ productDelete(input: {{id: "gid://shopify/Product/{world.tote_product}"}}) '
        "{ deletedProductId } }")  # fmt: skip
    assert [p for _u, _h, p in deliveries(world, "products/delete")] == [{"id": world.tote_product}]
