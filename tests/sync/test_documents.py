"""Every GraphQL document the sync engine sends is valid against Shopify's 2026-07 schema and under its 1,000-point
single-query cost limit (so no call can fail on shape or cost in production)."""

import importlib

import graphql
import pytest

from fakes.shopify.cost import CostCalculator
from fakes.shopify.schema import load_schema

MODULES = ("catalog", "inventory", "orders", "fulfillment")


def _documents():
    for name in MODULES:
        module = importlib.import_module(f"integrations.shopify.{name}")
        for attr, value in vars(module).items():
            if attr.isupper() and isinstance(value, str) and value.lstrip().startswith(("query", "mutation")):
                yield f"{name}.{attr}", value


@pytest.mark.parametrize(("name", "document"), list(_documents()))
def test_document_is_valid_and_affordable(name, document):
    schema = load_schema()
    parsed = graphql.parse(document)
    assert graphql.validate(schema, parsed) == [], name
    cost = CostCalculator(schema, {}, {}).operation(graphql.get_operation_ast(parsed))
    assert cost <= 1000, f"{name} costs {cost}"


def test_the_bulk_queries_are_valid():
    from integrations.shopify.catalog import BULK_PRODUCTS
    from integrations.shopify.inventory import BULK_STOCK

    for document in (BULK_PRODUCTS, BULK_STOCK):
        assert graphql.validate(load_schema(), graphql.parse(document)) == []
