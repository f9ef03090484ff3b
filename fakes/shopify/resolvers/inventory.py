"""Inventory resolvers: `inventoryItems`, `inventoryItem`, `inventorySetQuantities`, `inventoryAdjustQuantities`,
`inventoryActivate`.

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


def inventory_level_payload(item, location_id: int) -> dict:
    """The body of `inventory_levels/update`: REST-shaped, the level's GID named by location and item."""
    return {
        "inventory_item_id": item.id,
        "location_id": location_id,
        "available": item.levels.get(location_id, {}).get("available", 0),
        "updated_at": iso(item.updated_at),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item.id}",
    }


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
    return _item_node(ctx, parse_gid(id, "InventoryItem") or 0)


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


def _replay(ctx: Context, key: str | None, fingerprint: str) -> dict | None:
    """The first answer for an idempotency key (same request), a mismatch error (other request), or None."""
    if key is None or key not in ctx.shop.idempotency:
        return None
    first_fingerprint, answer = ctx.shop.idempotency[key]
    if first_fingerprint == fingerprint:
        return answer
    message = "The same idempotency key cannot be used with different operation parameters."
    return {"inventoryAdjustmentGroup": None, "userErrors": [_err(None, message, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]}


def _plan(ctx: Context, input: dict, entries_key: str, *, absolute: bool) -> tuple[list, list]:
    """Validate each entry (quantities to set, or changes to add) and return (errors, [(item, loc, new, old)])."""
    shop = ctx.shop
    errors, plan, seen = [], [], set()
    names = ("available", "on_hand") if absolute else ("available", "damaged", "quality_control", "reserved",
                                                        "safety_stock", "incoming", "on_hand")  # fmt: skip
    if input["name"] not in names:
        errors.append(_err(["input", "name"], f"The quantity name must be one of {', '.join(names)}.", "INVALID_NAME"))
    if input["reason"] not in REASONS:
        errors.append(_err(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    for n, q in enumerate(input[entries_key]):
        where = ["input", entries_key, str(n)]
        item = shop.inventory_items.get(parse_gid(q["inventoryItemId"], "InventoryItem") or 0)
        loc_id = parse_gid(q["locationId"], "Location")
        if item is None:
            message = "The specified inventory item could not be found."
            errors.append(_err([*where, "inventoryItemId"], message, "INVALID_INVENTORY_ITEM"))
            continue
        if loc_id not in shop.locations:
            message = "The specified location could not be found."
            errors.append(_err([*where, "locationId"], message, "INVALID_LOCATION"))
            continue
        if (item.id, loc_id) in seen:
            message = "The combination of inventoryItemId and locationId must be unique."
            errors.append(_err(where, message, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
        seen.add((item.id, loc_id))
        if loc_id not in item.levels:
            message = "The specified inventory item is not stocked at the location."
            errors.append(_err([*where, "locationId"], message, "ITEM_NOT_STOCKED_AT_LOCATION"))
            continue
        current = item.levels[loc_id].get(input["name"], 0)
        target = q["quantity"] if absolute else current + q["delta"]
        if target > MAX_QUANTITY:
            message = "The total quantity can't be higher than 1,000,000,000."
            errors.append(_err([*where, "quantity" if absolute else "delta"], message, "INVALID_QUANTITY_TOO_HIGH"))
        if absolute and "changeFromQuantity" not in q:
            message = "The changeFromQuantity argument must be given to each quantity (null to opt out)."
            errors.append(_err([*where, "changeFromQuantity"], message, "COMPARE_QUANTITY_REQUIRED"))
        elif q.get("changeFromQuantity") is not None and q["changeFromQuantity"] != current:
            message = "The changeFromQuantity value does not match persisted value."
            errors.append(_err([*where, "changeFromQuantity"], message, "CHANGE_FROM_QUANTITY_STALE"))
        plan.append((item, loc_id, target, current))
    return errors, plan


def _run_inventory_mutation(ctx: Context, input: dict, entries_key: str, *, absolute: bool) -> dict:
    key = require_idempotency_key(ctx)
    fingerprint = ctx.info.field_name + json.dumps(input, sort_keys=True, default=str)
    replay = _replay(ctx, key, fingerprint)
    if replay is not None:
        return replay
    errors, plan = _plan(ctx, input, entries_key, absolute=absolute)
    answer = {"inventoryAdjustmentGroup": None, "userErrors": errors} if errors else _apply(ctx, input, plan)
    if key is not None:
        ctx.shop.idempotency[key] = (fingerprint, answer)
    return answer


@registry.mutation("inventorySetQuantities")
def inventory_set_quantities(ctx: Context, input):
    return _run_inventory_mutation(ctx, input, "quantities", absolute=True)


@registry.mutation("inventoryAdjustQuantities")
def inventory_adjust_quantities(ctx: Context, input):
    return _run_inventory_mutation(ctx, input, "changes", absolute=False)


@registry.mutation("inventoryActivate")
def inventory_activate(ctx: Context, inventoryItemId, locationId, available=None, onHand=None, **_):  # noqa: N803
    """Stock an item at a location (e.g. a fulfillment service's), optionally with a starting quantity."""
    shop = ctx.shop
    item = shop.inventory_items.get(parse_gid(inventoryItemId, "InventoryItem") or 0)
    loc_id = parse_gid(locationId, "Location")
    if item is None or loc_id not in shop.locations:
        field = "inventoryItemId" if item is None else "locationId"
        return {"inventoryLevel": None, "userErrors": [{"field": [field], "message": f"{field} not found"}]}
    level = item.levels.setdefault(loc_id, {"available": 0, "on_hand": 0})
    if available is not None:
        level["available"] = available
        level["on_hand"] = max(level.get("on_hand", 0), available)
    if onHand is not None:
        level["on_hand"] = onHand
    item.updated_at = now()
    return {"inventoryLevel": nodes.inventory_level(ctx, item, loc_id), "userErrors": []}


def _apply(ctx: Context, input: dict, plan: list) -> dict:
    shop = ctx.shop
    name = input["name"]
    changes = []
    for item, loc_id, quantity, current in plan:
        level = item.levels[loc_id]
        delta = quantity - current
        level[name] = quantity
        if name == "on_hand":  # on_hand = available + the other states: the change lands in available
            level["available"] = level.get("available", 0) + delta
        else:
            level["on_hand"] = level.get("on_hand", 0) + delta
        item.updated_at = now()
        changes.append((item, loc_id, delta, quantity))
        ctx.emit("inventory_levels/update", inventory_level_payload(item, loc_id))
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
