"""productSet, inventorySetQuantities (idempotency and compare-and-swap), search, publications, bulk, webhooks."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from fakes.shopify.state import Product, next_id
from integrations.shopify import ShopifyGraphQLError, ShopifyUserError
from integrations.shopify.adapters import ShopifyShop
from integrations.shopify.client import ShopifyClient
from portal.redis_conn import get_redis

SHOP = "catalog.myshopify.com"

# The adjustment group's changes are selected so the test can read what a replayed key applied.
SET_QUANTITIES = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup {
      id reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { field message code }
  }
}
"""


def _set_quantities(quantities: list[dict], key: str) -> tuple[str, dict]:
    return SET_QUANTITIES, {
        "input": {"name": "available", "reason": "correction", "quantities": quantities},
        "idempotencyKey": key,
    }


PRODUCT_SET = """
mutation Set($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product { id status updatedAt variants(first: 50) { nodes { id sku price inventoryItem { id } } } }
    userErrors { field message code }
  }
}
"""


def _input(title="Linen Shirt", status="DRAFT", prices=("20.00", "21.00")):
    return {
        "title": title,
        "status": status,
        "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
        "variants": [
            {"optionValues": [{"optionName": "Size", "name": s}], "sku": f"LS-{s}", "price": p}
            for s, p in zip(("S", "M"), prices, strict=True)
        ],
    }


@pytest.fixture
def client(app, sandbox):
    token = sandbox.add_shop(SHOP)
    http = httpx.Client(base_url=sandbox.base_url)
    from integrations.shopify.transport import build_http_client

    http = build_http_client(app.config)
    return ShopifyClient(SHOP, token, api_version="2026-07", redis=get_redis(), http=http)


def test_product_set_creates_a_draft_with_variants_and_inventory_items(client, sandbox):
    payload = ShopifyShop(None, client).mutate(PRODUCT_SET, {"input": _input()}, "productSet")
    product = payload["product"]
    assert product["status"] == "DRAFT"
    assert [(v["sku"], v["price"]) for v in product["variants"]["nodes"]] == [("LS-S", "20.00"), ("LS-M", "21.00")]
    assert all(
        v["inventoryItem"]["id"].startswith("gid://shopify/InventoryItem/") for v in product["variants"]["nodes"]
    )
    state = sandbox.shop(SHOP)
    assert len(state.products) == 1 and len(state.variants) == 2 and len(state.inventory_items) == 2


def test_identical_product_set_changes_nothing(client, sandbox):
    first = client.query(PRODUCT_SET, {"input": _input()})["productSet"]["product"]
    sandbox.deliver_webhooks()
    before = len(sandbox.webhooks)
    ident = {"id": first["id"]}
    again = client.query(PRODUCT_SET, {"identifier": ident, "input": _input()})["productSet"]["product"]
    assert again == first  # same ids, same updatedAt
    sandbox.deliver_webhooks()
    assert len(sandbox.webhooks) == before  # no products/update for a no-op
    assert len(sandbox.shop(SHOP).variants) == 2


def test_product_set_list_inputs_replace_the_stored_list(client, sandbox):
    first = client.query(PRODUCT_SET, {"input": _input()})["productSet"]["product"]
    smaller = _input(prices=("25.00", "21.00"))
    smaller["variants"] = smaller["variants"][:1]
    smaller["productOptions"][0]["values"] = [{"name": "S"}]
    second = client.query(PRODUCT_SET, {"identifier": {"id": first["id"]}, "input": smaller})["productSet"]["product"]
    assert [(v["sku"], v["price"]) for v in second["variants"]["nodes"]] == [("LS-S", "25.00")]
    assert second["variants"]["nodes"][0]["id"] == first["variants"]["nodes"][0]["id"]  # matched, not recreated
    assert len(sandbox.shop(SHOP).inventory_items) == 1


def test_product_set_unknown_id_is_a_user_error(client):
    variables = {"identifier": {"id": "gid://shopify/Product/999999"}, "input": _input()}
    with pytest.raises(ShopifyUserError) as exc:
        ShopifyShop(None, client).mutate(PRODUCT_SET, variables, "productSet")
    assert exc.value.errors[0]["code"] == "PRODUCT_DOES_NOT_EXIST"


def _stock(sandbox, available=5):
    ids = sandbox.add_product(SHOP, "Mug", [{"sku": "MUG-1", "price": "8.00", "available": available}])
    return ids["variants"]["MUG-1"]


def test_inventory_set_quantities_without_idempotent_is_rejected(client, sandbox):
    v = _stock(sandbox)
    document = """mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { userErrors { code } } }"""
    variables = {"input": {"name": "available", "reason": "correction", "quantities": [
        {"inventoryItemId": v["inventory_item_id"], "locationId": v["location_id"], "quantity": 9,
         "changeFromQuantity": 5}]}}  # fmt: skip
    with pytest.raises(ShopifyGraphQLError) as exc:
        client.query(document, variables)
    assert "@idempotent" in str(exc.value)
    assert sandbox.available(SHOP, "MUG-1") == 5


def test_same_idempotency_key_applies_once(client, sandbox):
    v = _stock(sandbox)
    sandbox.sandbox.outbox.sink = lambda url, headers, body: 200
    client.query(
        """mutation { webhookSubscriptionCreate(topic: INVENTORY_LEVELS_UPDATE,
             webhookSubscription: {uri: "https://hooks.example/stock"}) { userErrors { message } } }"""
    )
    q = [{"inventoryItemId": v["inventory_item_id"], "locationId": v["location_id"], "quantity": 9,
          "changeFromQuantity": 5}]  # fmt: skip
    document, variables = _set_quantities(q, key="stock:MUG-1:run-1")
    first = client.query(document, variables)["inventorySetQuantities"]
    second = client.query(document, variables)["inventorySetQuantities"]  # a retry after a lost answer
    assert first == second and first["userErrors"] == []
    assert first["inventoryAdjustmentGroup"]["changes"][0]["delta"] == 4
    assert sandbox.available(SHOP, "MUG-1") == 9
    sandbox.deliver_webhooks()
    assert [d.topic for d in sandbox.webhooks].count("inventory_levels/update") == 1  # the replay sent none
    other = dict(variables, input={**variables["input"], "reason": "received"})
    mismatch = client.query(document, other)["inventorySetQuantities"]
    assert mismatch["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"


def test_change_from_quantity_mismatch_is_stale_and_applies_nothing(client, sandbox):
    v = _stock(sandbox, available=5)
    q = [{"inventoryItemId": v["inventory_item_id"], "locationId": v["location_id"], "quantity": 1,
          "changeFromQuantity": 4}]  # fmt: skip
    payload = client.query(*_set_quantities(q, key="k-stale"))["inventorySetQuantities"]
    assert payload["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert sandbox.available(SHOP, "MUG-1") == 5
    q[0]["changeFromQuantity"] = None  # explicit opt-out
    payload = client.query(*_set_quantities(q, key="k-optout"))["inventorySetQuantities"]
    assert payload["userErrors"] == [] and sandbox.available(SHOP, "MUG-1") == 1


def test_products_search_and_pagination(client, sandbox):
    for n in range(5):
        sandbox.add_product(SHOP, f"P{n}", [{"sku": f"SKU-{n}", "price": "1.00"}])
    doc = """query($first: Int, $after: String, $q: String) { products(first: $first, after: $after, query: $q) {
      nodes { id title } pageInfo { hasNextPage endCursor } } }"""
    shop = ShopifyShop(None, client)
    titles = [p["title"] for p in shop.pages(doc, {"first": 2}, "products")]
    assert titles == ["P0", "P1", "P2", "P3", "P4"]
    assert [p["title"] for p in shop.pages(doc, {"first": 250, "q": "sku:SKU-3"}, "products")] == ["P3"]
    everything = {"first": 250, "q": "updated_at:>=2000-01-01T00:00:00Z"}
    assert [p["title"] for p in shop.pages(doc, everything, "products")] == titles
    assert list(shop.pages(doc, {"first": 250, "q": "updated_at:>=2999-01-01T00:00:00Z"}, "products")) == []
    variants = client.query('{ productVariants(first: 10, query: "sku:SKU-1 OR sku:SKU-4") { nodes { sku } } }')
    assert sorted(v["sku"] for v in variants["productVariants"]["nodes"]) == ["SKU-1", "SKU-4"]


def test_inventory_item_levels_and_publications(client, sandbox):
    v = _stock(sandbox, available=7)
    data = client.query(
        """query($id: ID!) { inventoryItem(id: $id) { sku inventoryLevels(first: 5) { nodes {
             quantities(names: ["available", "on_hand"]) { name quantity } location { id isPrimary } } } } }""",
        {"id": v["inventory_item_id"]},
    )
    level = data["inventoryItem"]["inventoryLevels"]["nodes"][0]
    assert data["inventoryItem"]["sku"] == "MUG-1"
    assert {q["name"]: q["quantity"] for q in level["quantities"]}["available"] == 7
    pubs = client.query("{ publications(first: 5) { nodes { id name } } }")["publications"]["nodes"]
    product_id = next(iter(sandbox.shop(SHOP).products))
    result = client.query(
        """mutation($id: ID!, $input: [PublicationInput!]!) { publishablePublish(id: $id, input: $input) {
             publishable { ... on Product { id } } userErrors { field message } } }""",
        {"id": f"gid://shopify/Product/{product_id}", "input": [{"publicationId": pubs[0]["id"]}]},
    )
    assert result["publishablePublish"]["userErrors"] == []
    assert product_id in sandbox.shop(SHOP).publications[int(pubs[0]["id"].rsplit("/", 1)[1])].product_ids


BULK_RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) {
    bulkOperation { id status url } userErrors { field message code } } }"""
BULK_STATUS = "query($id: ID!) { bulkOperation(id: $id) { id status url objectCount rootObjectCount } }"


def _finished(client, op_id: str) -> dict:
    """Poll the operation until it leaves CREATED/RUNNING (as a client must: the build is asynchronous)."""
    for _ in range(2000):
        op = client.query(BULK_STATUS, {"id": op_id})["bulkOperation"]
        if op["status"] not in ("CREATED", "RUNNING"):
            return op
        threading.Event().wait(0.01)
    raise AssertionError(f"bulk operation still {op['status']}")


def test_product_set_by_handle_finds_its_product_after_others_were_added_and_deleted(client, sandbox):
    def set_by_handle(handle: str, title: str) -> str:
        answer = client.query(
            PRODUCT_SET, {"identifier": {"handle": handle}, "input": _input(title) | {"handle": handle}}
        )
        assert answer["productSet"]["userErrors"] == []
        return answer["productSet"]["product"]["id"]

    first, second = set_by_handle("first", "First"), set_by_handle("second", "Second")
    shop = sandbox.shop(SHOP)
    elsewhere = Product(id=next_id(), title="Made elsewhere", handle="made-elsewhere")  # seeded, not by productSet
    shop.products[elsewhere.id] = elsewhere
    deleted = client.query("mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId } }", {"id": first})
    assert deleted["productDelete"]["deletedProductId"] == first
    assert set_by_handle("second", "Second again") == second
    recreated = set_by_handle("first", "First again")
    assert recreated != first and shop.products[int(recreated.rsplit("/", 1)[1])].title == "First again"
    assert set_by_handle("made-elsewhere", "Made elsewhere") == f"gid://shopify/Product/{elsewhere.id}"


def test_bulk_operation_serves_jsonl_with_parent_ids(client, sandbox):
    sandbox.add_product(SHOP, "Tee", [{"sku": "T-1", "price": "5.00"}, {"sku": "T-2", "price": "6.00", "option": "B"}])
    bulk_query = "{ products { edges { node { id title variants { edges { node { id sku } } } } } } }"
    started = client.query(BULK_RUN, {"q": bulk_query})["bulkOperationRunQuery"]
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    done = _finished(client, started["bulkOperation"]["id"])
    op = client.query("{ currentBulkOperation { id status url objectCount rootObjectCount } }")["currentBulkOperation"]
    assert op == done and op["status"] == "COMPLETED" and op["objectCount"] == "3" and op["rootObjectCount"] == "1"
    node = client.query(
        "query($id: ID!) { node(id: $id) { ... on BulkOperation { url } } }", {"id": started["bulkOperation"]["id"]}
    )
    assert node["node"]["url"] == op["url"]
    rows = [json.loads(line) for line in httpx.get(op["url"]).text.splitlines()]
    assert rows[0]["title"] == "Tee" and "__parentId" not in rows[0]
    assert {r["sku"] for r in rows[1:]} == {"T-1", "T-2"}
    assert all(r["__parentId"] == rows[0]["id"] for r in rows[1:])


def test_bulk_query_answers_created_at_once_and_other_calls_are_served_while_it_builds(client, sandbox, monkeypatch):
    from fakes.shopify.resolvers import bulk

    for n in range(120):  # more than one slice: the build pauses after its first
        sandbox.add_product(SHOP, f"Mug {n}", [{"sku": f"M-{n}", "price": "4.00"}])
    building, release, real_append = threading.Event(), threading.Event(), bulk._append

    def paused_append(op, data):
        real_append(op, data)
        building.set()
        assert release.wait(30), "the test never released the build"

    monkeypatch.setattr(bulk, "_append", paused_append)
    bulk_query = "{ products { edges { node { id title variants { edges { node { id sku } } } } } } }"
    started = client.query(BULK_RUN, {"q": bulk_query})["bulkOperationRunQuery"]
    assert started["bulkOperation"]["status"] == "CREATED" and started["bulkOperation"]["url"] is None
    assert building.wait(30)
    try:
        running = client.query(BULK_STATUS, {"id": started["bulkOperation"]["id"]})["bulkOperation"]
        assert running["status"] == "RUNNING" and running["url"] is None
        variant = client.query('{ productVariants(first: 1, query: "sku:M-7") { nodes { sku } } }')
        assert variant["productVariants"]["nodes"] == [{"sku": "M-7"}]  # served while the build holds its slice
    finally:
        release.set()
    done = _finished(client, started["bulkOperation"]["id"])
    assert done["status"] == "COMPLETED" and done["rootObjectCount"] == "120" and done["objectCount"] == "240"
    rows = [json.loads(line) for line in httpx.get(done["url"]).text.splitlines()]
    assert len({r["id"] for r in rows if "__parentId" not in r}) == 120


def test_bulk_queries_run_up_to_five_at_once_then_limit_reached(client, sandbox, monkeypatch):
    from fakes.shopify.resolvers import bulk

    sandbox.add_product(SHOP, "Tee", [{"sku": "T-1", "price": "5.00"}])
    release = threading.Event()
    monkeypatch.setattr(bulk, "_build", lambda ctx, op, document: release.wait(30))
    bulk_query = "{ products { edges { node { id } } } }"
    try:
        answers = [client.query(BULK_RUN, {"q": bulk_query})["bulkOperationRunQuery"] for _ in range(6)]
    finally:
        release.set()
    assert [a["userErrors"] for a in answers[:5]] == [[]] * 5
    assert answers[5]["bulkOperation"] is None and answers[5]["userErrors"][0]["code"] == "LIMIT_REACHED"


def test_bulk_operation_finish_webhook_is_sent_to_its_subscription(client, sandbox):
    received = []
    sandbox.sandbox.outbox.sink = lambda url, headers, body: received.append((url, headers, body)) or 200
    client.query(
        """mutation { webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH,
             webhookSubscription: {uri: "https://hooks.example/bulk", format: JSON}) { userErrors { message } } }"""
    )
    bulk_query = "{ products { edges { node { id } } } }"
    started = client.query(BULK_RUN, {"q": bulk_query})["bulkOperationRunQuery"]
    _finished(client, started["bulkOperation"]["id"])
    sandbox.deliver_webhooks()
    [(url, headers, body)] = received
    payload = json.loads(body)
    assert headers["X-Shopify-Topic"] == "bulk_operations/finish" and url == "https://hooks.example/bulk"
    assert payload["admin_graphql_api_id"] == started["bulkOperation"]["id"]
    assert payload["status"] == "completed" and payload["type"] == "query" and payload["error_code"] is None


def test_webhook_subscription_gets_signed_products_update(client, sandbox):
    import base64
    import hashlib
    import hmac

    received = []
    sandbox.sandbox.outbox.sink = lambda url, headers, body: received.append((url, headers, body)) or 200
    client.query(
        """mutation { webhookSubscriptionCreate(topic: PRODUCTS_UPDATE,
             webhookSubscription: {uri: "https://hooks.example/products", format: JSON}) {
             webhookSubscription { id topic uri } userErrors { message } } }"""
    )
    first = client.query(PRODUCT_SET, {"input": _input()})["productSet"]["product"]
    client.query(PRODUCT_SET, {"identifier": {"id": first["id"]}, "input": _input(title="Linen Shirt II")})
    sandbox.deliver_webhooks()
    assert len(received) == 1  # products/update is not in shopify.app.toml: only the subscription gets it
    url, headers, body = received[0]
    assert url == "https://hooks.example/products" and headers["X-Shopify-Topic"] == "products/update"
    secret = sandbox.sandbox.config.client_secret.encode()
    assert (
        headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
    )
    for name in ("X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id",
                 "X-Shopify-Triggered-At"):  # fmt: skip
        assert headers[name]
    sandbox.drop_webhooks(1.0)
    client.query(PRODUCT_SET, {"identifier": {"id": first["id"]}, "input": _input(title="Linen Shirt III")})
    before = len(received)
    sandbox.deliver_webhooks()
    assert len(received) == before and sandbox.webhooks[-1].dropped


def test_query_over_the_single_query_limit_is_refused(client):
    with pytest.raises(ShopifyGraphQLError) as exc:
        client.query("{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }")
    assert exc.value.codes == ["MAX_COST_EXCEEDED"]


def test_webhooks_can_come_without_the_x_prefix(client, sandbox):
    sandbox.sandbox.outbox.header_prefix = "Shopify-"
    sandbox.emit(SHOP, "app/uninstalled", {"id": 1, "domain": SHOP})
    headers = sandbox.sandbox.outbox.pending[-1].headers
    assert headers["Shopify-Topic"] == "app/uninstalled" and "Shopify-Hmac-Sha256" in headers
    assert not any(name.startswith("X-") for name in headers)


def test_adjust_needs_a_key_and_activate_stocks_a_new_location(client, sandbox):
    v = _stock(sandbox, available=5)
    warehouse = sandbox.shop(SHOP).add_location("Warehouse")
    loc = f"gid://shopify/Location/{warehouse.id}"
    activated = client.query(
        """mutation($item: ID!, $loc: ID!) { inventoryActivate(inventoryItemId: $item, locationId: $loc, available: 4) {
             inventoryLevel { quantities(names: ["available"]) { quantity } } userErrors { message } } }""",
        {"item": v["inventory_item_id"], "loc": loc},
    )["inventoryActivate"]
    assert activated["inventoryLevel"]["quantities"] == [{"quantity": 4}]
    adjust = """mutation($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: "adj-1") {
        inventoryAdjustmentGroup { changes { delta quantityAfterChange } } userErrors { code } } }"""
    change = {"inventoryItemId": v["inventory_item_id"], "locationId": loc, "delta": 3}
    variables = {"input": {"name": "available", "reason": "received", "changes": [change]}}
    first = client.query(adjust, variables)["inventoryAdjustQuantities"]
    again = client.query(adjust, variables)["inventoryAdjustQuantities"]
    assert first == again and first["inventoryAdjustmentGroup"]["changes"] == [{"delta": 3, "quantityAfterChange": 7}]
    assert (
        sandbox.shop(SHOP)
        .inventory_items[int(v["inventory_item_id"].rsplit("/", 1)[1])]
        .levels[warehouse.id]["available"]
        == 7
    )
    with pytest.raises(ShopifyGraphQLError):
        client.query(adjust.replace(' @idempotent(key: "adj-1")', ""), variables)


def test_app_gets_the_topics_declared_in_its_toml_without_subscribing(sandbox):
    from fakes.shopify.app import APP_TOPICS

    sandbox.add_shop(SHOP)
    assert {"orders/create", "app/uninstalled", "shop/redact"} <= set(APP_TOPICS)
    to_app = sandbox.emit(SHOP, "orders/create", {"id": 1})
    not_to_app = sandbox.emit(SHOP, "products/update", {"id": 2})
    assert [d.url for d in to_app] == ["http://localhost:5000/webhooks/shopify"]
    assert not_to_app == []
