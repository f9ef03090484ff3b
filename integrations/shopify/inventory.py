"""Shopify stock: read a wholesaler's levels cheaply (variant quantities only) and set a retailer's levels at our
fulfillment-service location with `inventorySetQuantities` (batches of 250, `@idempotent`, `changeFromQuantity`).
"""

from __future__ import annotations

from collections.abc import Iterator

from integrations.base import QuantitySet, StaleQuantities, StockLevel
from integrations.shopify.errors import ShopifyUserError

BATCH = 250  # Shopify's maximum quantities per inventorySetQuantities call

BULK_STOCK = "{ productVariants { edges { node { id sku inventoryQuantity } } } }"

STOCK_QUERY = """
query SyncStock($after: String) {
  productVariants(first: 250, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku inventoryQuantity }
  }
}
"""

SET_QUANTITIES = """
mutation SyncSetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

LEVELS_QUERY = """
query SyncLevels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id inventoryLevels(first: 5) { nodes { location { id } quantities(names: ["available"]) { quantity } } }
    }
  }
}
"""
LEVELS_CHUNK = 50  # items per levels read (keeps the query under Shopify's 1,000-point limit)

VARIANT_QUANTITIES = """
query SyncVariantQuantities($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { id sku inventoryQuantity } }
}
"""
VARIANTS_CHUNK = 100  # variants per quantities read (one object each: far under the 1,000-point limit)


class StockSource:
    """The wholesaler side: every variant's available quantity."""

    def stock_levels(self, bulk: bool = True) -> Iterator[StockLevel]:
        """Every variant's stock. As a bulk operation by default: one call whatever the catalog size, and bulk
        reads do not spend the shop's rate-limit points (10,000 variants by pages would cost ~10,000 points)."""
        nodes = self.bulk_rows(BULK_STOCK) if bulk else self.pages(STOCK_QUERY, {}, "productVariants")
        for node in nodes:
            yield StockLevel(
                variant_remote_id=node["id"], sku=node.get("sku") or "", quantity=node["inventoryQuantity"]
            )

    def variant_levels(self, variant_remote_ids: list[str]) -> list[StockLevel]:
        """The current stock of a few variants (after a stock event: the event's own figure may be stale, since
        Shopify builds the payload at send time). Variants that no longer exist are left out."""
        levels = []
        for start in range(0, len(variant_remote_ids), VARIANTS_CHUNK):
            ids = variant_remote_ids[start : start + VARIANTS_CHUNK]
            for node in self.gql(VARIANT_QUANTITIES, {"ids": ids})["nodes"]:
                if node and node.get("id"):
                    levels.append(StockLevel(node["id"], node.get("sku") or "", node.get("inventoryQuantity") or 0))
        return levels


class StockTarget:
    """The retailer side: set `available` at our location, compare-and-set against what we last pushed."""

    batch_size = BATCH

    def set_quantities(self, placement: dict, changes: list[QuantitySet], key: str, reference: str) -> None:
        """One call of at most 250 quantities; a retry with the same `key` is answered from Shopify's record.

        A stale `changeFromQuantity` (the shop sold meanwhile) applies nothing and raises StaleQuantities."""
        location_id = placement["location_id"]
        if len(changes) > BATCH:
            raise ValueError(f"at most {BATCH} quantities per call")
        quantities = [
            {
                "inventoryItemId": c.inventory_item_id,
                "locationId": location_id,
                "quantity": c.quantity,
                "changeFromQuantity": c.change_from,
            }
            for c in changes
        ]
        data = {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": f"gid://wholesync/{reference}",
            "quantities": quantities,
        }
        try:
            self.mutate(SET_QUANTITIES, {"input": data, "key": key}, "inventorySetQuantities")
        except ShopifyUserError as exc:
            if any(e.get("code") == "CHANGE_FROM_QUANTITY_STALE" for e in exc.errors):
                raise StaleQuantities(str(exc)) from exc
            raise

    def current_levels(self, placement: dict, inventory_item_ids: list[str]) -> dict[str, int | None]:
        """What the store holds now for these items at our location (after a stale compare-and-set)."""
        location_id = placement["location_id"]
        levels: dict[str, int | None] = {}
        for start in range(0, len(inventory_item_ids), LEVELS_CHUNK):
            ids = inventory_item_ids[start : start + LEVELS_CHUNK]
            for node in self.gql(LEVELS_QUERY, {"ids": ids})["nodes"]:
                if node:
                    here = [n for n in node["inventoryLevels"]["nodes"] if n["location"]["id"] == location_id]
                    levels[node["id"]] = here[0]["quantities"][0]["quantity"] if here else None
        return levels
