"""Shopify as a system of record and as a retailer store: the interface classes, composed from the flow modules.

Every call goes through the shared client (per-shop cost bucket in Redis, retries, `on_call` accounting).
"""

from __future__ import annotations

from collections.abc import Iterator

from integrations.shopify.catalog import CatalogSource, CatalogTarget
from integrations.shopify.errors import ShopifyUserError
from integrations.shopify.events import EventSubscriptions
from integrations.shopify.fulfillment import ShipmentSource, ShipmentTarget
from integrations.shopify.inventory import StockSource, StockTarget
from integrations.shopify.orders import OrderSink, OrderSource


class ShopifyShop:
    """One shop reached through the shared client; the mixins add what each side of a sync needs."""

    def __init__(self, connection, client):
        self.connection = connection
        self.client = client  # an integrations.shopify.client.ShopifyClient for this shop

    def gql(self, document: str, variables: dict | None = None) -> dict:
        """The `data` of one GraphQL call (the client raises on transport, throttling and top-level errors)."""
        return self.client.query(document, variables or {})

    def mutate(self, document: str, variables: dict, root: str) -> dict:
        """A mutation's payload under `root`; its userErrors become ShopifyUserError."""
        payload = self.gql(document, variables)[root]
        errors = payload.get("userErrors") or []
        if errors:
            text = "; ".join(
                f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')} ({e.get('code') or 'no code'})"
                for e in errors
            )
            raise ShopifyUserError(f"{root}: {text}", errors=errors)
        return payload

    def pages(self, document: str, variables: dict, *path: str) -> Iterator[dict]:
        """Every node of a paginated connection at `path` (following pageInfo.endCursor)."""
        after = None
        while True:
            data = self.gql(document, {**variables, "after": after})
            for key in path:
                data = data[key]
            yield from data["nodes"]
            if not data["pageInfo"]["hasNextPage"]:
                return
            after = data["pageInfo"]["endCursor"]


class ShopifySystemOfRecord(CatalogSource, StockSource, EventSubscriptions, OrderSink, ShipmentSource, ShopifyShop):
    """A wholesaler's Shopify store used as its system of record."""


class ShopifyRetailerStore(CatalogTarget, StockTarget, OrderSource, ShipmentTarget, ShopifyShop):
    """A retailer's Shopify store."""
