"""Shopify stock: read a wholesaler's locations and its levels per location (a bulk operation over inventory items
and their levels), and set a retailer's levels at our fulfillment-service location with `inventorySetQuantities`
(batches of 250, `@idempotent`, `changeFromQuantity`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from integrations.base import QuantitySet, RemoteLocation, StaleQuantities, StockEvent, StockLevel
from integrations.shopify.errors import ShopifyUserError

BATCH = 250  # Shopify's maximum quantities per inventorySetQuantities call

# The bulk stock read: each inventory item with its variant and its level at each location, all on the item's own
# line: one `inventoryLevel(locationId:)` per location, aliased l0, l1, ... (a single object, not a connection, so
# the result does not flatten it into lines of its own). Each line is complete when read, so nothing waits for
# another line whatever the file's order, and one variant's levels come together.
LEVEL_FIELDS = 'location { id } quantities(names: ["available"]) { quantity }'
INLINE_LOCATIONS_MAX = 100  # a shop with more locations is read with the nested query below, gathered in memory
# Each inventory item with its variant, and (nested: lines with `__parentId`, the item's id) its level per location.
BULK_STOCK = (
    "{ inventoryItems { edges { node { id variant { id sku } inventoryLevels { edges { node { "
    'location { id } quantities(names: ["available"]) { quantity } } } } } } } }'
)

STOCK_QUERY = """
query SyncStock($location: ID!, $after: String) {
  location(id: $location) {
    inventoryLevels(first: 200, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { quantities(names: ["available"]) { quantity } item { variant { id sku } } }
    }
  }
}
"""

LOCATIONS_QUERY = """
query SyncLocations($after: String) {
  locations(first: 100, after: $after, includeInactive: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id name isActive fulfillsOnlineOrders }
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

VARIANT_LEVELS = """
query SyncVariantLevels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      id sku
      inventoryItem {
        inventoryLevels(first: 20) { nodes { location { id } quantities(names: ["available"]) { quantity } } }
      }
    }
  }
}
"""
VARIANTS_CHUNK = 10  # variants per levels read (10 x 20 levels: under Shopify's 1,000-point limit)


def _available(level: dict) -> int:
    return (level.get("quantities") or [{}])[0].get("quantity") or 0


class StockSource:
    """The wholesaler side: its locations and every variant's available quantity at each."""

    def locations(self) -> list[RemoteLocation]:
        """Every location of the shop, inactive ones too (a deactivated location's stock stops counting)."""
        return [
            RemoteLocation(
                remote_id=node["id"],
                name=node.get("name") or node["id"],
                fulfills_online_orders=bool(node.get("fulfillsOnlineOrders")),
                active=bool(node.get("isActive")),
            )
            for node in self.pages(LOCATIONS_QUERY, {}, "locations")
        ]

    def stock_levels(self, bulk: bool = True) -> Iterator[StockLevel]:
        """Every variant's stock at each location that stocks it. As a bulk operation by default: one call
        whatever the catalog size, and bulk reads do not spend the shop's rate-limit points; then the levels of one
        variant come one after another, and each line of the result is yielded as it is read (memory stays flat).

        Up to INLINE_LOCATIONS_MAX locations, each item's line carries its level at every location. A shop with
        more uses the nested read, whose level lines name their item by `__parentId` in no promised order: those
        are gathered per item in memory (the whole catalog) before they are yielded."""
        if not bulk:  # by pages, location by location (a dry run never starts a long-running export)
            for location in self.locations():
                for level in self.pages(STOCK_QUERY, {"location": location.remote_id}, "location", "inventoryLevels"):
                    variant = (level.get("item") or {}).get("variant")
                    if variant:
                        yield StockLevel(variant["id"], variant.get("sku") or "", _available(level), location.remote_id)
            return
        locations = [location.remote_id for location in self.locations()]
        if len(locations) > INLINE_LOCATIONS_MAX:
            yield from self._nested_levels()
            return
        aliases = " ".join(
            f"l{n}: inventoryLevel(locationId: {json.dumps(remote_id)}) {{ {LEVEL_FIELDS} }}"
            for n, remote_id in enumerate(locations)
        )
        for row in self.bulk_rows(
            f"{{ inventoryItems {{ edges {{ node {{ id variant {{ id sku }} {aliases} }} }} }} }}"
        ):
            variant = row.get("variant")
            if not variant or row.get("__parentId"):
                continue
            for n in range(len(locations)):
                level = row.get(f"l{n}")
                if level:
                    yield StockLevel(
                        variant["id"], variant.get("sku") or "", _available(level), level["location"]["id"]
                    )

    def _nested_levels(self) -> Iterator[StockLevel]:
        """The bulk read with levels as nested lines, gathered per item (levels may come before their item)."""
        items: dict[str, tuple[str, str]] = {}  # item id -> (variant id, sku)
        levels: dict[str, list[tuple[int, str]]] = {}  # item id -> [(available, location id)]
        for row in self.bulk_rows(BULK_STOCK):
            parent = row.get("__parentId")
            if parent is None:
                variant = row.get("variant")
                if variant:
                    items[row["id"]] = (variant["id"], variant.get("sku") or "")
            else:
                levels.setdefault(parent, []).append((_available(row), row["location"]["id"]))
        for item_id, (variant_id, sku) in items.items():
            for available, location_id in levels.get(item_id, ()):
                yield StockLevel(variant_id, sku, available, location_id)

    def variant_levels(self, variant_remote_ids: list[str]) -> list[StockLevel]:
        """The current stock of a few variants at each location (after a stock event: the event's own figure may
        be stale, since Shopify builds the payload at send time). Variants that no longer exist are left out."""
        levels = []
        for start in range(0, len(variant_remote_ids), VARIANTS_CHUNK):
            ids = variant_remote_ids[start : start + VARIANTS_CHUNK]
            for node in self.gql(VARIANT_LEVELS, {"ids": ids})["nodes"]:
                if node and node.get("id"):
                    item = node.get("inventoryItem") or {"inventoryLevels": {"nodes": []}}
                    for level in item["inventoryLevels"]["nodes"]:
                        levels.append(StockLevel(node["id"], node.get("sku") or "", _available(level),
                                                 level["location"]["id"]))  # fmt: skip
        return levels

    def stock_event(self, payload: dict) -> StockEvent | None:
        """`inventory_levels/update` names the item and location by their numeric ids; the reads use GIDs."""
        item = (payload or {}).get("inventory_item_id")
        if item is None:
            return None
        location = payload.get("location_id")
        return StockEvent(
            inventory_item_id=f"gid://shopify/InventoryItem/{item}",
            location_id=f"gid://shopify/Location/{location}" if location is not None else None,
        )


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
