"""Sandbox fulfillment: `fulfillmentServiceCreate` (with its location), `fulfillmentOrders`, accepting, rejecting
and closing fulfillment requests (only as their service, in the states Shopify allows), `fulfillmentCreate` with
tracking (partial quantities allowed, never more than remains), the node loaders, and the signed POST to a
service's `<callback>/fulfillment_order_notification` when a request is submitted.
"""

from __future__ import annotations

from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.nodes import location
from fakes.shopify.registry import registry
from fakes.shopify.resolvers.order_nodes import (
    fulfillment_node,
    fulfillment_order_node,
    fulfillment_status,
    order_webhook_payload,
)
from fakes.shopify.state import Fulfillment, FulfillmentService, gid, iso, next_id, now, parse_gid

CLOSED = ("CLOSED", "CANCELLED", "INCOMPLETE")
# A fulfillment service may fulfill what it accepted whatever a cancellation request says, until it accepts that
# request (the order is closed then): Shopify warns that an order whose cancellation was requested "might still have
# work completed despite cancellation", and a service that rejects a request ("Already shipped product") ships on.
FULFILLABLE_REQUESTS = ("ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED")


def service_node(ctx: Context, service: FulfillmentService) -> dict:
    return {
        "__typename": "FulfillmentService",
        "id": gid("FulfillmentService", service.id),
        "serviceName": service.name,
        "handle": service.name.lower().replace(" ", "-"),
        "callbackUrl": service.callback_url,
        "inventoryManagement": service.inventory_management,
        "trackingSupport": service.tracking_support,
        "permitsSkuSharing": True,
        "type": "THIRD_PARTY",
        "location": lambda info: location(ctx, ctx.shop.locations[service.location_id]),
    }


@registry.node("FulfillmentService")
def _service_node(ctx: Context, number: int):
    service = ctx.shop.fulfillment_services.get(number)
    return service_node(ctx, service) if service else None


@registry.node("FulfillmentOrder")
def _fo_node(ctx: Context, number: int):
    fo = ctx.shop.fulfillment_orders.get(number)
    return fulfillment_order_node(ctx, fo) if fo else None


@registry.node("Fulfillment")
def _fulfillment_node(ctx: Context, number: int):
    found = ctx.shop.fulfillments.get(number)
    return fulfillment_node(ctx, found) if found else None


@registry.query("fulfillmentOrders")
def fulfillment_orders(ctx: Context, **args):
    items = [fo for fo in ctx.shop.fulfillment_orders.values() if args.get("includeClosed") or fo.status not in CLOSED]
    return connection(ctx, items, lambda fo: fulfillment_order_node(ctx, fo), **conn_args(args))


@registry.query("fulfillmentOrder")
def fulfillment_order(ctx: Context, id):
    return _fo_node(ctx, parse_gid(id, "FulfillmentOrder") or 0)


@registry.mutation("fulfillmentServiceCreate")
def fulfillment_service_create(ctx: Context, name, **args):
    shop = ctx.shop
    if any(s.name == name for s in shop.fulfillment_services.values()):
        return {
            "fulfillmentService": None,
            "userErrors": [{"field": ["name"], "message": "Name has already been taken"}],
        }
    location = shop.add_location(name, fulfills_online_orders=True)
    service = FulfillmentService(
        id=next_id(), name=name, callback_url=args.get("callbackUrl"), location_id=location.id,
        inventory_management=bool(args.get("inventoryManagement")), tracking_support=bool(args.get("trackingSupport")),
    )  # fmt: skip
    location.fulfillment_service_id = service.id
    shop.fulfillment_services[service.id] = service
    return {"fulfillmentService": service_node(ctx, service), "userErrors": []}


def _fo_or_error(ctx: Context, id: str):
    fo = ctx.shop.fulfillment_orders.get(parse_gid(id, "FulfillmentOrder") or 0)
    if fo is None:
        return None, [{"field": ["id"], "message": "Fulfillment order does not exist."}]
    return fo, []


@registry.mutation("fulfillmentOrderAcceptFulfillmentRequest")
def accept_fulfillment_request(ctx: Context, id, **_args):
    fo, errors = _fo_or_error(ctx, id)
    if fo is not None and fo.request_status != "SUBMITTED":
        errors = [{"field": ["id"], "message": f"Cannot accept a request that is {fo.request_status.lower()}."}]
    if errors:
        return {"fulfillmentOrder": None, "userErrors": errors}
    fo.request_status, fo.status, fo.updated_at = "ACCEPTED", "IN_PROGRESS", now()
    return {"fulfillmentOrder": fulfillment_order_node(ctx, fo), "userErrors": []}


def _service_fo_or_error(ctx: Context, id: str):
    """A fulfillment order assigned to a fulfillment service's location (only the service may answer it)."""
    fo, errors = _fo_or_error(ctx, id)
    if fo is not None and not ctx.shop.locations[fo.assigned_location_id].fulfillment_service_id:
        return None, [{"field": ["id"], "message": "The fulfillment order is not assigned to a fulfillment service."}]
    return fo, errors


@registry.mutation("fulfillmentOrderRejectFulfillmentRequest")
def reject_fulfillment_request(ctx: Context, id, lineItems=None, message=None, reason=None):  # noqa: N803
    """The service will fill none of it: only a SUBMITTED request can be rejected, and then every line item of the
    fulfillment order goes back to the merchant (lineItems only say which lines could not be filled, and why)."""
    fo, errors = _service_fo_or_error(ctx, id)
    if fo is not None and fo.request_status != "SUBMITTED":
        errors = [{"field": ["id"], "message": f"Cannot reject a request that is {fo.request_status.lower()}."}]
    if fo is not None and not errors:
        ours = {gid("FulfillmentOrderLineItem", item["id"]) for item in fo.line_items}
        for n, item_in in enumerate(lineItems or []):
            if item_in["fulfillmentOrderLineItemId"] not in ours:
                errors.append({"field": ["lineItems", str(n), "fulfillmentOrderLineItemId"],
                               "message": "The line item is not on this fulfillment order."})  # fmt: skip
    if errors:
        return {"fulfillmentOrder": None, "userErrors": errors}
    fo.request_status, fo.status, fo.updated_at = "REJECTED", "OPEN", now()
    fo.data["rejection"] = {"reason": reason, "message": message, "line_items": list(lineItems or [])}
    return {"fulfillmentOrder": fulfillment_order_node(ctx, fo), "userErrors": []}


@registry.mutation("fulfillmentOrderClose")
def close_fulfillment_order(ctx: Context, id, message=None):
    """The service cannot ship what remains of an accepted request: only an IN_PROGRESS fulfillment order whose
    request was ACCEPTED can be closed; it becomes INCOMPLETE and the request CLOSED (control back to the merchant)."""
    fo, errors = _service_fo_or_error(ctx, id)
    if fo is not None and (fo.request_status != "ACCEPTED" or fo.status != "IN_PROGRESS"):
        errors = [{"field": ["id"], "message": f"Cannot close a fulfillment order that is {fo.status.lower()} with "
                                                f"a request {fo.request_status.lower()}."}]  # fmt: skip
    if errors:
        return {"fulfillmentOrder": None, "userErrors": errors}
    fo.request_status, fo.status, fo.updated_at = "CLOSED", "INCOMPLETE", now()
    fo.data["close_message"] = message
    return {"fulfillmentOrder": fulfillment_order_node(ctx, fo), "userErrors": []}


@registry.query("assignedFulfillmentOrders")
def assigned_fulfillment_orders(ctx: Context, assignmentStatus=None, locationIds=None, **args):  # noqa: N803
    """The fulfillment orders assigned to the app's services' locations, narrowed by request state and location."""
    shop = ctx.shop
    wanted = {parse_gid(i, "Location") for i in locationIds or []}
    states = {"CANCELLATION_REQUESTED": ("CANCELLATION_REQUESTED",), "FULFILLMENT_REQUESTED": ("SUBMITTED",),
              "FULFILLMENT_ACCEPTED": ("ACCEPTED",), "FULFILLMENT_UNSUBMITTED": ("UNSUBMITTED",)}  # fmt: skip
    items = [
        fo for fo in shop.fulfillment_orders.values()
        if shop.locations[fo.assigned_location_id].fulfillment_service_id
        and (not wanted or fo.assigned_location_id in wanted)
        and (assignmentStatus is None or fo.request_status in states[assignmentStatus])
    ]  # fmt: skip
    return connection(ctx, items, lambda fo: fulfillment_order_node(ctx, fo), **conn_args(args))


@registry.mutation("fulfillmentOrderRejectCancellationRequest")
def reject_cancellation_request(ctx: Context, id, message=None):
    """The service will not cancel (it has shipped): the request goes on as accepted work; the order stays open."""
    fo, errors = _service_fo_or_error(ctx, id)
    if fo is not None and fo.request_status != "CANCELLATION_REQUESTED":
        errors = [{"field": ["id"], "message": f"Cannot reject a cancellation that is {fo.request_status.lower()}."}]
    if errors:
        return {"fulfillmentOrder": None, "userErrors": errors}
    fo.request_status, fo.updated_at = "CANCELLATION_REJECTED", now()
    fo.data["cancellation_answer"] = message
    ctx.shop.orders[fo.order_id].data.pop("cancellation_pending", None)
    return {"fulfillmentOrder": fulfillment_order_node(ctx, fo), "userErrors": []}


def request_cancellation(sandbox, domain: str, order, reason: str = "CUSTOMER") -> list:
    """The merchant cancels an order part of which a fulfillment service has accepted: as Shopify does, each
    accepted fulfillment order gets a cancellation request (its service's callback is told, kind
    CANCELLATION_REQUEST) and the order is cancelled only once every request is accepted."""
    shop = sandbox.shop(domain)
    deliveries = []
    with shop.lock:
        for fo in shop.fulfillment_orders.values():
            if fo.order_id != order.id or fo.request_status != "ACCEPTED" or fo.status in CLOSED:
                continue
            fo.request_status, fo.updated_at = "CANCELLATION_REQUESTED", now()
            order.data["cancellation_pending"] = {"reason": reason}
            service = shop.fulfillment_services.get(shop.locations[fo.assigned_location_id].fulfillment_service_id)
            if service is not None and service.callback_url:
                url = service.callback_url.rstrip("/") + "/fulfillment_order_notification"
                topic, body = "fulfillment_orders/cancellation_request", {"kind": "CANCELLATION_REQUEST"}
                deliveries += sandbox.outbox.prepare(domain, topic, body, [url], sandbox.api_version)
    sandbox.outbox.enqueue(deliveries)
    return deliveries


@registry.mutation("fulfillmentCreate")
def fulfillment_create(ctx: Context, fulfillment, message=None):
    shop = ctx.shop
    plan, errors, order_ids, locations = [], [], set(), set()
    for n, group in enumerate(fulfillment["lineItemsByFulfillmentOrder"]):
        fo, problems = _fo_or_error(ctx, group["fulfillmentOrderId"])
        errors += problems
        if fo is None:
            continue
        order_ids.add(fo.order_id)
        locations.add(fo.assigned_location_id)
        if fo.status in CLOSED:
            errors.append({"field": ["fulfillment"], "message": f"Fulfillment order {fo.id} is {fo.status.lower()}."})
        service = shop.locations[fo.assigned_location_id].fulfillment_service_id
        if service and fo.request_status not in FULFILLABLE_REQUESTS:
            errors.append({"field": ["fulfillment"], "message": "The fulfillment request has not been accepted."})
        wanted = group.get("fulfillmentOrderLineItems")
        by_id = {gid("FulfillmentOrderLineItem", item["id"]): item for item in fo.line_items}
        if not wanted:
            wanted = [{"id": k, "quantity": item["remaining"]} for k, item in by_id.items() if item["remaining"]]
        for item_in in wanted:
            item = by_id.get(item_in["id"])
            if item is None or item_in["quantity"] > item["remaining"] or item_in["quantity"] <= 0:
                errors.append(
                    {
                        "field": ["fulfillment", "lineItemsByFulfillmentOrder", str(n)],
                        "message": "Invalid fulfillment order line item quantity requested.",
                    }
                )
                continue
            plan.append((fo, item, item_in["quantity"]))
    if len(order_ids) > 1 or len(locations) > 1:
        errors.append(
            {"field": ["fulfillment"], "message": "All fulfillment orders must share one order and location."}
        )
    if errors:
        return {"fulfillment": None, "userErrors": errors}
    return {
        "fulfillment": fulfillment_node(ctx, apply_fulfillment(ctx, plan, fulfillment.get("trackingInfo"))),
        "userErrors": [],
    }


def apply_fulfillment(ctx: Context, plan: list, tracking: dict | None) -> Fulfillment:
    """Record a shipment of (fulfillment order, its line item, quantity) and close what is fully shipped."""
    shop = ctx.shop
    order = shop.orders[plan[0][0].order_id]
    lines = []
    for fo, item, quantity in plan:
        item["remaining"] -= quantity
        lines.append({"id": next_id(), "line_item_id": item["line_item_id"], "quantity": quantity})
        if all(i["remaining"] == 0 for i in fo.line_items):
            fo.status = "CLOSED"
        fo.updated_at = now()
    tracking = tracking or {}
    numbers = tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    urls = tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else [])
    info = [
        {"company": tracking.get("company"), "number": number, "url": urls[k] if k < len(urls) else None}
        for k, number in enumerate(numbers)
    ] or ([{"company": tracking.get("company"), "number": None, "url": None}] if tracking.get("company") else [])
    count = sum(1 for f in shop.fulfillments.values() if f.order_id == order.id) + 1
    created = Fulfillment(
        id=next_id(),
        order_id=order.id,
        fulfillment_order_ids=sorted({fo.id for fo, _i, _q in plan}),
        tracking_info=info,
        data={"lines": lines, "number": count},
    )
    shop.fulfillments[created.id] = created
    order.updated_at = now()
    _emit_shipment(ctx, order, created)
    return created


def _emit_shipment(ctx: Context, order, created: Fulfillment) -> None:
    """`fulfillments/create`, then `orders/fulfilled` or `orders/partially_fulfilled` and `orders/updated`."""
    by_id = {li["id"]: li for li in order.data["line_items"]}
    info = created.tracking_info
    ctx.emit(
        "fulfillments/create",
        {
            "id": created.id,
            "admin_graphql_api_id": gid("Fulfillment", created.id),
            "order_id": order.id,
            "name": f"{order.name}.{created.data['number']}",
            "status": "success",
            "created_at": iso(created.created_at),
            "updated_at": iso(created.created_at),
            "tracking_company": info[0]["company"] if info else None,
            "tracking_number": info[0]["number"] if info else None,
            "tracking_numbers": [i["number"] for i in info if i["number"]],
            "tracking_urls": [i["url"] for i in info if i["url"]],
            "line_items": [
                {
                    "id": line["line_item_id"],
                    "sku": by_id[line["line_item_id"]]["sku"],
                    "quantity": line["quantity"],
                    "variant_id": by_id[line["line_item_id"]]["variant_id"],
                }
                for line in created.data["lines"]
            ],
        },
    )
    payload = order_webhook_payload(ctx, order)
    done = fulfillment_status(ctx, order) == "FULFILLED"
    ctx.emit("orders/fulfilled" if done else "orders/partially_fulfilled", payload)
    ctx.emit("orders/updated", payload)


# ---- the Python API tests use -----------------------------------------------------------------------------------


def ship(
    sandbox,
    domain: str,
    order_gid: str,
    lines: list[tuple[str, int]] | None = None,
    *,
    company: str = "UPS",
    numbers: tuple[str, ...] = (),
    urls: tuple[str, ...] = (),
) -> str:
    """The merchant of `domain` ships (sku, quantity) of an order (everything left when None); returns its gid."""
    shop = sandbox.shop(domain)
    ctx = Context(sandbox=sandbox, shop=shop, api_version=sandbox.api_version, base_url="")
    with shop.lock:
        order = shop.orders[parse_gid(order_gid, "Order")]
        wanted = None
        if lines is not None:
            wanted = {}
            for sku, quantity in lines:
                line = next(li for li in order.data["line_items"] if li["sku"] == sku)
                wanted[line["id"]] = wanted.get(line["id"], 0) + quantity
        created = ship_lines(ctx, order, wanted, company=company, numbers=numbers, urls=urls)
    ctx.flush()
    return gid("Fulfillment", created.id)


def ship_lines(ctx: Context, order, wanted: dict[int, int] | None, *, company=None, numbers=(), urls=()) -> Fulfillment:
    """The merchant ships {line item id: quantity} of an order (everything left when None) with tracking.
    Refuses (ValueError) a cancelled order, more than remains, a service's unaccepted request, or nothing at all."""
    shop = ctx.shop
    if order.data.get("cancelled_at"):
        raise ValueError(f"Order {order.name} is cancelled.")
    left = dict(wanted) if wanted is not None else None
    plan = []
    for fo in (f for f in shop.fulfillment_orders.values() if f.order_id == order.id and f.status not in CLOSED):
        for item in fo.line_items:
            take = item["remaining"] if left is None else min(left.get(item["line_item_id"], 0), item["remaining"])
            if take <= 0:
                continue
            service = shop.locations[fo.assigned_location_id].fulfillment_service_id
            if service and fo.request_status not in FULFILLABLE_REQUESTS:
                raise ValueError("The fulfillment request has not been accepted by the fulfillment service.")
            plan.append((fo, item, take))
            if left is not None:
                left[item["line_item_id"]] -= take
    if left is not None and any(q > 0 for q in left.values()):
        raise ValueError("Invalid fulfillment order line item quantity requested.")
    if not plan:
        raise ValueError("Nothing left to ship.")
    if len({fo.assigned_location_id for fo, _i, _q in plan}) > 1:
        raise ValueError("All fulfillment orders must share one order and location.")
    return apply_fulfillment(ctx, plan, {"company": company, "numbers": list(numbers), "urls": list(urls)})


def notify_fulfillment_requests(sandbox, domain: str, order) -> list:
    """POST `{"kind": "FULFILLMENT_REQUEST"}` to each service with a submitted request on this order, signed with
    the app secret like every Shopify callback (through the outbox, so tests can drop or replay it)."""
    shop = sandbox.shop(domain)
    deliveries = []
    for fo in shop.fulfillment_orders.values():
        if fo.order_id != order.id or fo.request_status != "SUBMITTED":
            continue
        service = shop.fulfillment_services.get(shop.locations[fo.assigned_location_id].fulfillment_service_id or 0)
        if service is None or not service.callback_url:
            continue
        url = service.callback_url.rstrip("/") + "/fulfillment_order_notification"
        deliveries += sandbox.outbox.prepare(
            domain,
            "fulfillment_orders/fulfillment_request",
            {"kind": "FULFILLMENT_REQUEST"},
            [url],
            sandbox.api_version,
        )
    sandbox.outbox.enqueue(deliveries)
    return deliveries
