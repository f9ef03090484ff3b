"""The sandbox rejects what Shopify rejects, in Shopify's shape, and never answers a silent null."""

from __future__ import annotations

import httpx
import pytest

from integrations.shopify import ShopifyAuthError, ShopifyGraphQLError
from portal.redis_conn import get_redis
from portal.services.platforms import retailer_store
from tests.support import factories

SHOP = "validation.myshopify.com"


def _post(sandbox, query, variables=None, token=None, shop=SHOP):
    return httpx.post(
        f"{sandbox.base_url}/admin/api/2026-07/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token or "", "Host": shop},
    )


def test_unknown_field_fails_as_undefined_field_with_shopify_path(sandbox):
    token = sandbox.add_shop(SHOP)
    response = _post(sandbox, "query Q { shop { name nonsense } }", token=token)
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Field 'nonsense' doesn't exist on type 'Shop'",
            "locations": [{"line": 1, "column": 23}],
            "path": ["query Q", "shop", "nonsense"],
            "extensions": {"code": "undefinedField", "typeName": "Shop", "fieldName": "nonsense"},
        }
    ]


def test_removed_argument_is_rejected_like_shopify(sandbox):
    token = sandbox.add_shop(SHOP)
    query = (
        'mutation { inventorySetQuantities(input: {name: "available", reason: "correction", '
        "ignoreCompareQuantity: true, quantities: []}) { userErrors { message } } }"
    )
    errors = _post(sandbox, query, token=token).json()["errors"]
    assert errors and "ignoreCompareQuantity" in errors[0]["message"]


def test_missing_required_argument(sandbox):
    token = sandbox.add_shop(SHOP)
    errors = _post(sandbox, "{ product { id } }", token=token).json()["errors"]
    assert errors[0]["message"] == "Field 'product' is missing required arguments: id"
    assert errors[0]["extensions"]["code"] == "missingRequiredArguments"


def test_bad_variables_are_reported_with_value_and_problems(sandbox):
    token = sandbox.add_shop(SHOP)
    body = _post(sandbox, "query($id: ID!) { product(id: $id) { id } }", {}, token=token).json()
    assert body["errors"][0]["message"] == "Variable $id of type ID! was provided invalid value"
    assert body["errors"][0]["extensions"] == {
        "value": None,
        "problems": [{"path": [], "explanation": "Expected value to not be null"}],
    }
    body = _post(sandbox, "query($n: Int) { products(first: $n) { nodes { id } } }", {"n": "ten"}, token=token).json()
    assert body["errors"][0]["extensions"]["value"] == "ten"


def test_syntax_error_is_a_parse_error(sandbox):
    token = sandbox.add_shop(SHOP)
    body = _post(sandbox, "{ shop { name }", token=token).json()
    assert body["errors"][0]["message"].startswith("Parse error on")


def test_unimplemented_root_field_is_an_explicit_error_not_null(sandbox):
    token = sandbox.add_shop(SHOP)
    body = _post(sandbox, "{ collections(first: 1) { nodes { id } } }", token=token).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_IMPLEMENTED_IN_SANDBOX"
    assert "collections" in body["errors"][0]["message"]


def test_unknown_token_gets_401(sandbox):
    sandbox.add_shop(SHOP)
    response = _post(sandbox, "{ shop { name } }", token="shpat_wrong")
    assert response.status_code == 401
    other = sandbox.add_shop("other.myshopify.com")
    assert _post(sandbox, "{ shop { name } }", token=other).status_code == 401  # another shop's token


def test_demo_token_creates_the_demo_shop(sandbox):
    response = _post(sandbox, "{ shop { myshopifyDomain } }", token="shpat_sandbox_demo-x", shop="demo-x.myshopify.com")
    assert response.json()["data"] == {"shop": {"myshopifyDomain": "demo-x.myshopify.com"}}


def test_client_raises_graphql_error_for_invalid_document(app, sandbox):
    token = sandbox.add_shop(SHOP)
    conn = factories.connection(factories.retailer(), "store", SHOP, access_token=token)
    client = retailer_store(conn).client
    assert client.query("{ shop { name } }") == {"shop": {"name": "Validation"}}
    with pytest.raises(ShopifyGraphQLError) as exc:
        client.query("{ shop { nonsense } }")
    assert exc.value.codes == ["undefinedField"]
    conn.access_token = "shpat_revoked"
    with pytest.raises(ShopifyAuthError):
        retailer_store(conn).client.query("{ shop { name } }")
    assert get_redis().exists(f"shopify:bucket:{SHOP}")


def test_array_inputs_over_250_are_refused(sandbox):
    token = sandbox.add_shop(SHOP)
    quantities = [
        {"inventoryItemId": f"gid://shopify/InventoryItem/{n}", "locationId": "gid://shopify/Location/1",
         "quantity": 1, "changeFromQuantity": None}
        for n in range(251)
    ]  # fmt: skip
    body = _post(
        sandbox,
        'mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "k")'
        " { userErrors { code } } }",
        {"input": {"name": "available", "reason": "correction", "quantities": quantities}},
        token=token,
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


def test_invalid_nested_input_names_the_path_like_graphql_ruby(sandbox):
    token = sandbox.add_shop(SHOP)
    body = _post(
        sandbox,
        "mutation($i: ProductSetInput!) { productSet(input: $i) { userErrors { message } } }",
        {"i": {"title": "x", "status": "LIVE"}},
        token=token,
    ).json()
    error = body["errors"][0]
    assert error["message"] == (
        "Variable $i of type ProductSetInput! was provided invalid value for status "
        '(Expected "LIVE" to be one of: ACTIVE, ARCHIVED, DRAFT, UNLISTED)'
    )
    assert error["extensions"]["problems"][0]["path"] == ["status"]
