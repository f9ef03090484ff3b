"""How the sandbox shows an order and its shipments: the Order, LineItem, FulfillmentOrder and Fulfillment nodes of
the GraphQL API and the REST-shaped `orders/*` webhook payload, shared by the orders and fulfillment resolvers.
"""

from __future__ import annotations

from decimal import Decimal

from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.nodes import location, variant
from fakes.shopify.state import Fulfillment, Order, gid, iso

ADDRESS_KEYS = (
    "firstName",
    "lastName",
    "company",
    "address1",
    "address2",
    "city",
    "province",
    "provinceCode",
    "zip",
    "country",
    "countryCodeV2",
    "phone",
)


def money(amount, currency: str) -> dict:
    """A MoneyV2: the amount with two decimals and its currency."""
    return {"amount": f"{Decimal(str(amount)):.2f}", "currencyCode": currency}


def order_node(ctx: Context, order: Order) -> dict:
    """An Order as the schema names its fields (nested connections are callables taking their arguments)."""
    shop, data = ctx.shop, order.data
    currency = data.get("currency", shop.currency)

    def line_items(info, **args):
        return connection(
            ctx,
            data["line_items"],
            lambda li: line_item_node(ctx, order, li),
            **conn_args(args),
            item_id=lambda li: li["id"],
        )

    def fulfillment_orders(info, **args):
        fos = [fo for fo in shop.fulfillment_orders.values() if fo.order_id == order.id]
        return connection(ctx, fos, lambda fo: fulfillment_order_node(ctx, fo), **conn_args(args))

    def fulfillments(info, first=None, query=None):
        found = [f for f in shop.fulfillments.values() if f.order_id == order.id]
        return [fulfillment_node(ctx, f) for f in found[: first or None]]

    def refunds(info, first=None):
        by_id = {li["id"]: li for li in data["line_items"]}

        def refund_node(refund):
            def refund_line_items(info, **args):
                def node(item):
                    li = by_id[item["line_item_id"]]
                    return {"__typename": "RefundLineItem", "id": gid("RefundLineItem", item["id"]),
                            "quantity": item["quantity"], "restockType": item["restock_type"],
                            "restocked": item["restock_type"] == "RETURN",
                            "lineItem": line_item_node(ctx, order, li)}  # fmt: skip

                items = refund["line_items"]
                return connection(ctx, items, node, **conn_args(args), item_id=lambda item: item["id"])

            return {"__typename": "Refund", "id": gid("Refund", refund["id"]), "createdAt": iso(refund["created_at"]),
                    "note": None, "refundLineItems": refund_line_items}  # fmt: skip

        return [refund_node(r) for r in (data.get("refunds") or [])[: first or None]]

    address = data.get("shipping_address")
    total = sum(Decimal(str(li["price"])) * li["quantity"] for li in data["line_items"])
    shipping = sum((Decimal(str(s.get("price") or "0")) for s in data.get("shipping_lines") or []), Decimal("0"))
    total += shipping
    return {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "email": data.get("email"),
        "phone": data.get("phone"),
        "note": data.get("note"),
        "shippingLine": _shipping_line_node(data["shipping_lines"][0], currency)
        if data.get("shipping_lines")
        else None,
        "totalShippingPriceSet": {
            "shopMoney": money(shipping, currency),
            "presentmentMoney": money(shipping, currency),
        },
        "poNumber": data.get("po_number"),
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": iso(data.get("cancelled_at")),
        "cancelReason": (data.get("cancel_reason") or "").upper() or None,
        "closed": False,
        "currencyCode": currency,
        "tags": list(order.tags),
        "customAttributes": [{"key": a["key"], "value": a["value"]} for a in order.custom_attributes],
        "shippingAddress": ({k: address.get(k) for k in ADDRESS_KEYS} | {"name": _name(address)}) if address else None,
        "displayFulfillmentStatus": fulfillment_status(ctx, order),
        "totalPriceSet": {"shopMoney": money(total, currency), "presentmentMoney": money(total, currency)},
        "lineItems": line_items,
        "refunds": refunds,
        "fulfillmentOrders": fulfillment_orders,
        "fulfillments": fulfillments,
    }


def _shipping_line_node(line: dict, currency: str) -> dict:
    """A ShippingLine: the method the customer chose and what it cost (no shipping discounts in the sandbox)."""
    price = money(Decimal(str(line.get("price") or "0")), currency)
    return {
        "__typename": "ShippingLine",
        "title": line["title"],
        "code": line.get("code"),
        "source": line.get("source"),
        "carrierIdentifier": None,
        "originalPriceSet": {"shopMoney": price, "presentmentMoney": price},
        "discountedPriceSet": {"shopMoney": price, "presentmentMoney": price},
    }


def _name(address: dict) -> str:
    return " ".join(p for p in (address.get("firstName"), address.get("lastName")) if p) or address.get("name") or ""


def line_item_node(ctx: Context, order: Order, li: dict) -> dict:
    """A LineItem: `quantity` is as ordered, `currentQuantity` after edits."""
    currency = order.data.get("currency", ctx.shop.currency)
    v = ctx.shop.variants.get(li.get("variant_id") or 0)
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", li["id"]),
        "sku": li.get("sku"),
        "title": li.get("title") or "",
        "name": li.get("title") or "",
        "quantity": li.get("original_quantity", li["quantity"]),
        "currentQuantity": li["quantity"] - li.get("refunded", 0),
        "variant": variant(ctx, v) if v else None,
        "originalUnitPriceSet": {
            "shopMoney": money(li["price"], currency),
            "presentmentMoney": money(li["price"], currency),
        },
        "customAttributes": [],
    }


def fulfillment_status(ctx: Context, order: Order) -> str:
    """The order's displayFulfillmentStatus, from what remains on its fulfillment orders."""
    fos = [fo for fo in ctx.shop.fulfillment_orders.values() if fo.order_id == order.id]
    left = sum(li["remaining"] for fo in fos for li in fo.line_items)
    total = sum(li["quantity"] for fo in fos for li in fo.line_items)
    if total and left == 0:
        return "FULFILLED"
    return "PARTIALLY_FULFILLED" if left < total else "UNFULFILLED"


def fulfillment_order_node(ctx: Context, fo) -> dict:
    """A FulfillmentOrder with its line items, assigned location and order."""
    shop = ctx.shop
    order = shop.orders[fo.order_id]
    by_id = {li["id"]: li for li in order.data["line_items"]}

    def line_items(info, **args):
        def node(item):
            return {
                "__typename": "FulfillmentOrderLineItem",
                "id": gid("FulfillmentOrderLineItem", item["id"]),
                "totalQuantity": item["quantity"],
                "remainingQuantity": item["remaining"],
                "sku": by_id[item["line_item_id"]].get("sku"),
                "lineItem": line_item_node(ctx, order, by_id[item["line_item_id"]]),
            }

        return connection(ctx, fo.line_items, node, **conn_args(args), item_id=lambda item: item["id"])

    loc = shop.locations[fo.assigned_location_id]
    return {
        "__typename": "FulfillmentOrder",
        "id": gid("FulfillmentOrder", fo.id),
        "status": fo.status,
        "requestStatus": fo.request_status,
        "createdAt": iso(fo.created_at),
        "updatedAt": iso(fo.updated_at),
        "orderId": gid("Order", order.id),
        "orderName": order.name,
        "assignedLocation": {"name": loc.name, "location": location(ctx, loc), "countryCode": "CA"},
        "lineItems": line_items,
        "order": lambda info: order_node(ctx, order),
    }


def fulfillment_node(ctx: Context, fulfillment: Fulfillment) -> dict:
    """A Fulfillment (a shipment) with its tracking and the line items it shipped."""
    order = ctx.shop.orders[fulfillment.order_id]
    by_id = {li["id"]: li for li in order.data["line_items"]}
    items = fulfillment.data.get("lines", [])

    def fulfillment_line_items(info, **args):
        def node(item):
            return {
                "__typename": "FulfillmentLineItem",
                "id": gid("FulfillmentLineItem", item["id"]),
                "quantity": item["quantity"],
                "lineItem": line_item_node(ctx, order, by_id[item["line_item_id"]]),
            }

        return connection(ctx, items, node, **conn_args(args), item_id=lambda item: item["id"])

    return {
        "__typename": "Fulfillment",
        "id": gid("Fulfillment", fulfillment.id),
        "legacyResourceId": str(fulfillment.id),
        "name": f"{order.name}-F{fulfillment.data.get('number', 1)}",
        "status": fulfillment.status,
        "createdAt": iso(fulfillment.created_at),
        "updatedAt": iso(fulfillment.created_at),
        "trackingInfo": lambda info, first=None: list(fulfillment.tracking_info[: first or None]),
        "fulfillmentLineItems": fulfillment_line_items,
    }


FULFILLMENT_STATUS_REST = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "UNFULFILLED": None}


def order_webhook_payload(ctx: Context, order_: Order) -> dict:
    """The REST-shaped order of the `orders/*` topics (numeric ids; `quantity` is the current quantity)."""
    data = order_.data
    currency = data.get("currency", ctx.shop.currency)
    total = sum(Decimal(str(li["price"])) * li["quantity"] for li in data["line_items"])
    return {
        "id": order_.id,
        "admin_graphql_api_id": gid("Order", order_.id),
        "name": order_.name,
        "email": data.get("email"),
        "created_at": iso(order_.created_at),
        "updated_at": iso(order_.updated_at),
        "cancelled_at": iso(data.get("cancelled_at")),
        "cancel_reason": data.get("cancel_reason"),
        "currency": currency,
        "current_total_price": f"{total:.2f}",
        "financial_status": "paid",
        "fulfillment_status": FULFILLMENT_STATUS_REST[fulfillment_status(ctx, order_)],
        "po_number": data.get("po_number"),
        "tags": ", ".join(order_.tags),
        "line_items": [
            {
                "id": li["id"],
                "admin_graphql_api_id": gid("LineItem", li["id"]),
                "sku": li["sku"],
                "quantity": li["quantity"],
                "fulfillable_quantity": remaining_to_ship(ctx, li["id"]),
                "title": li["title"],
                "variant_id": li["variant_id"],
                "price": li["price"],
            }
            for li in data["line_items"]
        ],
    }


def remaining_to_ship(ctx: Context, line_item_id: int) -> int:
    """How much of a line is still to ship (over its open fulfillment orders)."""
    return sum(
        item["remaining"]
        for fo in ctx.shop.fulfillment_orders.values()
        if fo.status not in ("CLOSED", "CANCELLED")
        for item in fo.line_items
        if item["line_item_id"] == line_item_id
    )
