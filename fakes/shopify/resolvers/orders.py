"""Sandbox orders: `orders` (search by updated_at/tag, sortKey), `order`, `orderCreate` (tags, customAttributes,
inventory behaviour) and `productVariantsBulkUpdate` (price-only updates), plus `place_order`: a shop's customer
checking out, whose lines stocked at a fulfillment service are routed to it as a fulfillment request.
"""

from __future__ import annotations

from graphql import GraphQLError

from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.registry import registry
from fakes.shopify.resolvers.fulfillments import notify_fulfillment_requests
from fakes.shopify.resolvers.inventory import inventory_level_payload
from fakes.shopify.resolvers.order_nodes import order_node, order_webhook_payload
from fakes.shopify.search import matches
from fakes.shopify.state import FulfillmentOrder, Order, gid, next_id, now, parse_gid

DEFAULT_ADDRESS = {"firstName": "Ada", "lastName": "Lovelace", "address1": "1 Main St", "city": "Ottawa",
                   "province": "Ontario", "zip": "K1A 0B1", "country": "Canada", "countryCodeV2": "CA"}  # fmt: skip


def _search_fields(order: Order) -> dict:
    return {
        "name": order.name,
        "tag": order.tags,
        "updated_at": order.updated_at,
        "created_at": order.created_at,
        "id": order.id,
        "email": order.data.get("email"),
    }


@registry.query("orders")
def orders(ctx: Context, **args):
    items = [o for o in ctx.shop.orders.values() if matches(args.get("query"), _search_fields(o), "name")]
    keys = {
        "UPDATED_AT": lambda o: (o.updated_at, o.id),
        "CREATED_AT": lambda o: (o.created_at, o.id),
        "PROCESSED_AT": lambda o: (o.created_at, o.id),
    }
    items.sort(key=keys.get(args.get("sortKey") or "PROCESSED_AT", lambda o: o.id))
    return connection(ctx, items, lambda o: order_node(ctx, o), **conn_args(args))


@registry.query("order")
def order(ctx: Context, id):
    found = ctx.shop.orders.get(parse_gid(id, "Order") or 0)
    return order_node(ctx, found) if found else None


@registry.node("Order")
def _order_node(ctx: Context, number: int):
    found = ctx.shop.orders.get(number)
    return order_node(ctx, found) if found else None


def _resolve_lines(ctx: Context, lines_in: list[dict]) -> tuple[list[dict], list[dict]]:
    shop, lines, errors = ctx.shop, [], []
    for n, li in enumerate(lines_in):
        variant = shop.variants.get(parse_gid(li.get("variantId") or "", "ProductVariant") or 0)
        if li.get("variantId") and variant is None:
            errors.append({"field": ["order", "lineItems", str(n), "variantId"], "message": "Variant not found"})
            continue
        if li["quantity"] <= 0:
            errors.append({"field": ["order", "lineItems", str(n), "quantity"], "message": "must be greater than 0"})
        price = ((li.get("priceSet") or {}).get("shopMoney") or {}).get("amount") or (variant.price if variant else 0)
        lines.append(
            {
                "id": next_id(),
                "sku": li.get("sku") or (variant.sku if variant else None),
                "title": li.get("title") or (shop.products[variant.product_id].title if variant else ""),
                "quantity": li["quantity"],
                "variant_id": variant.id if variant else None,
                "price": str(price),
            }
        )
    return lines, errors


def create_order(
    ctx: Context,
    lines: list[dict],
    *,
    email=None,
    currency=None,
    shipping_address=None,
    tags=(),
    custom_attributes=(),
    note=None,
    po_number=None,
    phone=None,
    shipping_lines=(),
    decrement: bool = True,
) -> Order:
    """Store an order, take its stock and route its lines to fulfillment orders (one per location)."""
    shop = ctx.shop
    number = 1000 + sum(1 for _ in shop.orders) + 1
    order_ = Order(id=next_id(), name=f"#{number}", tags=list(tags), custom_attributes=list(custom_attributes))
    order_.data = {
        "line_items": lines,
        "email": email,
        "currency": currency or shop.currency,
        "note": note,
        "shipping_address": shipping_address,
        "po_number": po_number,
        "phone": phone,
        "shipping_lines": [dict(s) for s in shipping_lines],
    }
    shop.orders[order_.id] = order_
    by_location: dict[int, list[dict]] = {}
    for li in lines:
        location_id = _route(ctx, li)
        by_location.setdefault(location_id, []).append(li)
        if decrement and li.get("variant_id"):
            item = shop.inventory_items[shop.variants[li["variant_id"]].inventory_item_id]
            level = item.levels.setdefault(location_id, {"available": 0, "on_hand": 0})
            level["available"] = level.get("available", 0) - li["quantity"]
            item.updated_at = now()
            li["committed_location_id"] = location_id  # where a cancel or an edit gives the stock back
            ctx.emit("inventory_levels/update", inventory_level_payload(item, location_id))
    for location_id, located in by_location.items():
        service = shop.locations[location_id].fulfillment_service_id
        fo = FulfillmentOrder(
            id=next_id(),
            order_id=order_.id,
            assigned_location_id=location_id,
            request_status="SUBMITTED" if service else "UNSUBMITTED",
            line_items=[
                {"id": next_id(), "line_item_id": li["id"], "quantity": li["quantity"], "remaining": li["quantity"]}
                for li in located
            ],
        )
        shop.fulfillment_orders[fo.id] = fo
    if any(shop.locations[loc].fulfillment_service_id for loc in by_location):
        # The service hears of the request once the order is stored and its webhooks are on their way.
        ctx.after.append(lambda: notify_fulfillment_requests(ctx.sandbox, shop.domain, order_))
    return order_


def _route(ctx: Context, li: dict) -> int:
    """A fulfillment service's location when the variant is stocked there (our products), else the primary one."""
    shop = ctx.shop
    if li.get("variant_id"):
        item = shop.inventory_items[shop.variants[li["variant_id"]].inventory_item_id]
        for location_id in item.levels:
            if shop.locations[location_id].fulfillment_service_id:
                return location_id
    return shop.primary_location.id


def _shipping_line(given: dict) -> dict:
    """An `OrderCreateShippingLineInput` as the order keeps it (title, code, source, shop-money price)."""
    money_ = (given.get("priceSet") or {}).get("shopMoney") or {}
    return {"title": given["title"], "code": given.get("code"), "source": given.get("source"),
            "price": str(money_.get("amount") or "0")}  # fmt: skip


@registry.mutation("orderCreate")
def order_create(ctx: Context, order, options=None):
    lines, errors = _resolve_lines(ctx, order.get("lineItems") or [])
    if not lines and not errors:
        errors.append({"field": ["order", "lineItems"], "message": "Line items can't be empty"})
    if errors:
        return {"order": None, "userErrors": errors}
    behaviour = (options or {}).get("inventoryBehaviour") or "BYPASS"
    created = create_order(
        ctx,
        lines,
        email=order.get("email"),
        currency=order.get("currency"),
        shipping_address=order.get("shippingAddress"),
        tags=order.get("tags") or [],
        custom_attributes=order.get("customAttributes") or [],
        note=order.get("note"),
        po_number=order.get("poNumber"),
        phone=order.get("phone"),
        shipping_lines=[_shipping_line(s) for s in order.get("shippingLines") or []],
        decrement=behaviour != "BYPASS",
    )
    ctx.emit("orders/create", order_webhook_payload(ctx, created))
    return {"order": order_node(ctx, created), "userErrors": []}


# ---- the Python API tests use: a customer of the shop checks out ---------------------------------------------------


def place_order(
    sandbox,
    domain: str,
    lines: list[tuple[str, int]],
    *,
    email: str = "customer@example.com",
    address: dict | None = None,
    phone: str | None = None,
    note: str | None = None,
    attributes: list[dict] | tuple = (),
    shipping: dict | None = None,
) -> dict:
    """A customer orders (sku, quantity) pairs in `domain`'s store. Lines of products stocked at a fulfillment
    service go to a fulfillment order SUBMITTED to that service, and its callback is notified (as Shopify does);
    `orders/create` is sent to the app. `shipping` is the chosen method: {"title", "code", "price"}.
    Returns {"id": gid, "name": "#1001"}."""
    shop = sandbox.shop(domain)
    ctx = Context(sandbox=sandbox, shop=shop, api_version=sandbox.api_version, base_url="")
    with shop.lock:
        resolved = []
        for sku, quantity in lines:
            v = shop.variant_by_sku(sku)
            if v is None:
                raise GraphQLError(f"no variant with SKU {sku} in {domain}")
            resolved.append(
                {
                    "id": next_id(),
                    "sku": sku,
                    "title": shop.products[v.product_id].title,
                    "quantity": quantity,
                    "variant_id": v.id,
                    "price": v.price,
                }
            )
        created = checkout(ctx, resolved, email=email, address=address, phone=phone, note=note, attributes=attributes,
                           shipping=shipping)  # fmt: skip
    ctx.flush()
    return {"id": gid("Order", created.id), "name": created.name}


def checkout(
    ctx: Context,
    lines: list[dict],
    *,
    email: str | None,
    address: dict | None = None,
    phone: str | None = None,
    note: str | None = None,
    attributes: list[dict] | tuple = (),
    shipping: dict | None = None,
) -> Order:
    """A customer's checkout: the order takes stock and is routed like any other (`create_order`), then
    `orders/create` is queued. Used by `place_order` and the sandbox admin pages."""
    created = create_order(
        ctx, lines, email=email, shipping_address=address or dict(DEFAULT_ADDRESS), phone=phone, note=note,
        custom_attributes=list(attributes), shipping_lines=[shipping] if shipping else (),
    )  # fmt: skip
    ctx.emit("orders/create", order_webhook_payload(ctx, created))
    return created
