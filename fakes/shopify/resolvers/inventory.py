"""Resolvers for `inventoryItems`, `inventoryItem`, `inventoryLevel` and `inventorySetQuantities`.

inventorySetQuantities enforces what 2026-04+ enforces at runtime: the `@idempotent(key:)` directive (the same key
replays the first answer; the same key with other input is refused) and an explicit `changeFromQuantity` per
quantity (a value is compared: mismatch -> CHANGE_FROM_QUANTITY_STALE, nothing applied; null opts out).
"""

from __future__ import annotations

import json

from graphql import GraphQLError, get_directive_values

from fakes.shopify import nodes
from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.registry import registry
from fakes.shopify.search import matches
from fakes.shopify.state import gid, iso, next_id, now, parse_gid

REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}
MAX_QUANTITY = 1_000_000_000


@registry.query("inventoryItems")
def inventory_items(ctx: Context, **args):
    items = [
        i
        for i in ctx.shop.inventory_items.values()
        if matches(args.get("query"), {"sku": i.sku, "id": i.id, "updated_at": i.updated_at}, "sku")
    ]
    items.sort(key=lambda i: i.id)
    return connection(ctx, items, lambda i: nodes.inventory_item(ctx, i), **conn_args(args))


@registry.query("inventoryItem")
def inventory_item(ctx: Context, id):
    item = ctx.shop.inventory_items.get(parse_gid(id, "InventoryItem") or 0)
    return nodes.inventory_item(ctx, item) if item else None


@registry.node("InventoryItem")
def _item_node(ctx: Context, number: int):
    item = ctx.shop.inventory_items.get(number)
    return nodes.inventory_item(ctx, item) if item else None


def idempotency_key(ctx: Context) -> str | None:
    """The `@idempotent(key:)` value on the current root field (variables resolved), or None."""
    info = ctx.info
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    return values["key"] if values else None


def require_idempotency_key(ctx: Context) -> str:
    """Raise like Shopify (2026-04+) when an inventory mutation lacks `@idempotent`; return the key."""
    key = idempotency_key(ctx)
    if key is not None and not key.strip():
        raise GraphQLError(
            "The idempotency key cannot be an empty string or whitespace only.", extensions={"code": "BAD_REQUEST"}
        )
    if key is None and ctx.api_version >= ctx.sandbox.config.idempotency_required_from:
        raise GraphQLError(
            f"The @idempotent directive is required for {ctx.info.field_name} as of API version "
            f"{ctx.sandbox.config.idempotency_required_from}.",
            extensions={"code": "BAD_REQUEST"},
        )
    return key


def _err(field, message, code):
    return {"field": field, "message": message, "code": code}


@registry.mutation("inventorySetQuantities")
def inventory_set_quantities(ctx: Context, input):
    shop = ctx.shop
    key = require_idempotency_key(ctx)
    fingerprint = json.dumps(input, sort_keys=True, default=str)
    if key is not None and key in shop.idempotency:
        first_fingerprint, answer = shop.idempotency[key]
        if first_fingerprint != fingerprint:
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    _err(
                        None,
                        "The same idempotency key cannot be used with different operation parameters.",
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    )
                ],
            }
        return answer
    errors = []
    if input["name"] not in ("available", "on_hand"):
        errors.append(
            _err(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
        )
    if input["reason"] not in REASONS:
        errors.append(_err(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    seen = set()
    plan = []
    for n, q in enumerate(input["quantities"]):
        where = ["input", "quantities", str(n)]
        item = shop.inventory_items.get(parse_gid(q["inventoryItemId"], "InventoryItem") or 0)
        loc_id = parse_gid(q["locationId"], "Location")
        if item is None:
            errors.append(
                _err(
                    [*where, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
            continue
        if loc_id not in shop.locations:
            errors.append(
                _err([*where, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
            )
            continue
        if (item.id, loc_id) in seen:
            errors.append(
                _err(
                    where,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
        seen.add((item.id, loc_id))
        if loc_id not in item.levels:
            errors.append(
                _err(
                    [*where, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
            continue
        if q["quantity"] > MAX_QUANTITY:
            errors.append(
                _err(
                    [*where, "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        current = item.levels[loc_id].get(input["name"], 0)
        if "changeFromQuantity" not in q:
            errors.append(
                _err(
                    [*where, "changeFromQuantity"],
                    "The changeFromQuantity argument must be given to each quantity (null to opt out).",
                    "COMPARE_QUANTITY_REQUIRED",
                )
            )
        elif q["changeFromQuantity"] is not None and q["changeFromQuantity"] != current:
            errors.append(
                _err(
                    [*where, "changeFromQuantity"],
                    "The changeFromQuantity value does not match persisted value.",
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
        plan.append((item, loc_id, q["quantity"], current))
    answer = {"inventoryAdjustmentGroup": None, "userErrors": errors} if errors else _apply(ctx, input, plan)
    if key is not None:
        shop.idempotency[key] = (fingerprint, answer)
    return answer


def _apply(ctx: Context, input: dict, plan: list) -> dict:
    shop = ctx.shop
    name = input["name"]
    changes = []
    for item, loc_id, quantity, current in plan:
        level = item.levels[loc_id]
        delta = quantity - current
        level[name] = quantity
        if name == "available":
            level["on_hand"] = level.get("on_hand", 0) + delta
        else:
            level["available"] = level.get("available", 0) + delta
        item.updated_at = now()
        changes.append((item, loc_id, delta, quantity))
        ctx.emit(
            "inventory_levels/update",
            {
                "inventory_item_id": item.id,
                "location_id": loc_id,
                "available": level.get("available", 0),
                "updated_at": iso(item.updated_at),
                "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{item.id}?inventory_item_id={item.id}",
            },
        )
    group_id = next_id()
    created = iso(now())

    def changes_field(info, inventoryItemIds=None, locationIds=None, quantityNames=None):  # noqa: N803 - schema argument names
        out = []
        for item, loc_id, delta, after in changes:
            if inventoryItemIds and gid("InventoryItem", item.id) not in inventoryItemIds:
                continue
            if locationIds and gid("Location", loc_id) not in locationIds:
                continue
            if quantityNames and name not in quantityNames:
                continue
            out.append(
                {
                    "name": name,
                    "delta": delta,
                    "quantityAfterChange": after,
                    "ledgerDocumentUri": None,
                    "item": nodes.inventory_item(ctx, item),
                    "location": nodes.location(ctx, shop.locations[loc_id]),
                }
            )
        return out

    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": gid("InventoryAdjustmentGroup", group_id),
        "createdAt": created,
        "reason": input["reason"],
        "referenceDocumentUri": input.get("referenceDocumentUri"),
        "changes": changes_field,
    }
    return {"inventoryAdjustmentGroup": group, "userErrors": []}
