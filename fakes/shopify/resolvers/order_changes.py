"""Changes to an existing order: `orderCancel` (completed at once; its job reports done) and line quantity edits,
with the stock they give back and the `orders/cancelled`, `orders/edited` and `orders/updated` webhooks.
"""

from __future__ import annotations

import uuid

from fakes.shopify.context import Context
from fakes.shopify.registry import registry
from fakes.shopify.resolvers.fulfillments import CLOSED, _service_fo_or_error
from fakes.shopify.resolvers.inventory import inventory_level_payload
from fakes.shopify.resolvers.order_nodes import fulfillment_order_node, order_node, order_webhook_payload
from fakes.shopify.state import FulfillmentOrder, Order, gid, iso, next_id, now, parse_gid

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")


class OrderChangeError(ValueError):
    """A change Shopify refuses; `code` is the user error code."""

    def __init__(self, message: str, code: str = "INVALID"):
        super().__init__(message)
        self.code = code


def _give_back(ctx: Context, line: dict, quantity: int) -> None:
    """Return `quantity` of a line's committed stock to the location it was taken from (negative: commit more)."""
    location_id = line.get("committed_location_id")
    if not quantity or location_id is None or not line.get("variant_id"):
        return
    variant = ctx.shop.variants.get(line["variant_id"])
    item = ctx.shop.inventory_items.get(variant.inventory_item_id) if variant else None
    if item is None or location_id not in item.levels:
        return  # the product was deleted since: nothing to restock
    item.levels[location_id]["available"] = item.levels[location_id].get("available", 0) + quantity
    item.updated_at = now()
    ctx.emit("inventory_levels/update", inventory_level_payload(item, location_id))


def cancel_order(ctx: Context, order: Order, *, reason: str = "OTHER", restock: bool = True, staff_note=None) -> None:
    """Cancel an unshipped order: close its fulfillment orders, restock what was committed (when asked) and send
    `orders/cancelled` and `orders/updated`. Raises OrderChangeError when Shopify would refuse."""
    shop = ctx.shop
    if reason not in CANCEL_REASONS:
        raise OrderChangeError(f"Reason must be one of {', '.join(CANCEL_REASONS)}.")
    if order.data.get("cancelled_at"):
        raise OrderChangeError(f"Order {order.name} has already been cancelled.")
    if any(f.order_id == order.id and f.status == "SUCCESS" for f in shop.fulfillments.values()):
        raise OrderChangeError(f"Order {order.name} has fulfillments; cancel them before cancelling the order.")
    fos = [fo for fo in shop.fulfillment_orders.values() if fo.order_id == order.id]
    if any(fo.request_status == "ACCEPTED" and fo.status not in CLOSED for fo in fos):
        raise OrderChangeError("A fulfillment service has accepted this order; send it a cancellation request.")
    for fo in fos:
        if fo.status not in CLOSED:
            fo.status, fo.updated_at = "CLOSED", now()
    if restock:
        for line in order.data["line_items"]:
            _give_back(ctx, line, line["quantity"])
    order.data.update(cancelled_at=now(), cancel_reason=reason.lower(), staff_note=staff_note)
    order.updated_at = now()
    payload = order_webhook_payload(ctx, order)
    ctx.emit("orders/cancelled", payload)
    ctx.emit("orders/updated", payload)


def edit_line_quantities(ctx: Context, order: Order, quantities: dict[int, int], *, restock: bool = True) -> None:
    """Set the current quantity of order lines ({line item id: quantity}; 0 removes), as an order edit commits:
    never below what has shipped; the fulfillment orders follow; stock is taken or given back; `orders/edited`
    and `orders/updated` are sent. Raises OrderChangeError when Shopify would refuse."""
    if order.data.get("cancelled_at"):
        raise OrderChangeError(f"Order {order.name} is cancelled and cannot be edited.")
    lines = {li["id"]: li for li in order.data["line_items"]}
    for line_id, quantity in quantities.items():
        if line_id not in lines:
            raise OrderChangeError(f"Line item {line_id} is not on order {order.name}.", "NOT_FOUND")
        line = lines[line_id]
        shipped = line["quantity"] - _open_remaining(ctx, order, line_id)
        if quantity < 0 or quantity < shipped:
            raise OrderChangeError(f"{line['sku'] or line['title']}: quantity must be at least {shipped} (shipped).")
    additions, removals = [], []
    for line_id, quantity in quantities.items():
        line = lines[line_id]
        delta = quantity - line["quantity"]
        if delta == 0:
            continue
        line.setdefault("original_quantity", line["quantity"])
        line["quantity"] = quantity
        _follow_in_fulfillment_orders(ctx, order, line, delta)
        if delta > 0 or restock:
            _give_back(ctx, line, -delta)
        (additions if delta > 0 else removals).append({"id": line_id, "delta": abs(delta)})
    if not additions and not removals:
        return
    order.updated_at = now()
    ctx.emit(
        "orders/edited",
        {
            "order_edit": {
                "id": next_id(),
                "app_id": None,
                "created_at": iso(order.updated_at),
                "committed_at": iso(order.updated_at),
                "notify_customer": False,
                "order_id": order.id,
                "staff_note": "",
                "user_id": None,
                "line_items": {"additions": additions, "removals": removals},
                "discounts": {"line_item": {"additions": [], "removals": []}},
                "shipping_lines": {"additions": [], "removals": []},
            }
        },
    )
    ctx.emit("orders/updated", order_webhook_payload(ctx, order))


def refund_lines(ctx: Context, order: Order, quantities: dict[int, int], *, restock_type: str = "RETURN") -> dict:
    """The merchant refunds shipped units ({line item id: quantity}), as a return (restocked where they were taken
    from) or without restock: the refund is kept on the order, the lines' `currentQuantity` drops by what was
    refunded (as Shopify's does), and `refunds/create` and `orders/updated` are sent. Refusals as Shopify's: never
    more than was shipped and not yet refunded."""
    if restock_type not in ("RETURN", "NO_RESTOCK"):
        raise OrderChangeError("Only shipped units are refunded here: restock type RETURN or NO_RESTOCK.")
    lines = {li["id"]: li for li in order.data["line_items"]}
    items = []
    for line_id, quantity in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise OrderChangeError(f"Line item {line_id} is not on order {order.name}.", "NOT_FOUND")
        shipped = line["quantity"] - _open_remaining(ctx, order, line_id) - line.get("refunded", 0)
        if quantity <= 0 or quantity > shipped:
            raise OrderChangeError(f"{line['sku'] or line['title']}: at most {shipped} can be refunded.")
        line["refunded"] = line.get("refunded", 0) + quantity
        if restock_type == "RETURN":
            _give_back(ctx, line, quantity)
        items.append({"id": next_id(), "line_item_id": line_id, "quantity": quantity, "restock_type": restock_type})
    refund = {"id": next_id(), "created_at": now(), "line_items": items}
    order.data.setdefault("refunds", []).append(refund)
    order.updated_at = now()
    refund_items = [
        {"id": i["id"], "line_item_id": i["line_item_id"], "quantity": i["quantity"],
         "restock_type": i["restock_type"].lower()}
        for i in items
    ]  # fmt: skip
    ctx.emit("refunds/create", {"id": refund["id"], "order_id": order.id, "created_at": iso(refund["created_at"]),
                                "refund_line_items": refund_items})  # fmt: skip
    ctx.emit("orders/updated", order_webhook_payload(ctx, order))
    return refund


def _open_remaining(ctx: Context, order: Order, line_id: int) -> int:
    return sum(
        item["remaining"]
        for fo in ctx.shop.fulfillment_orders.values()
        if fo.order_id == order.id and fo.status not in CLOSED
        for item in fo.line_items
        if item["line_item_id"] == line_id
    )


def _follow_in_fulfillment_orders(ctx: Context, order: Order, line: dict, delta: int) -> None:
    """Apply a quantity change to the open fulfillment order holding the line (a new one when none is open)."""
    shop = ctx.shop
    for fo in (f for f in shop.fulfillment_orders.values() if f.order_id == order.id and f.status not in CLOSED):
        for item in fo.line_items:
            if item["line_item_id"] == line["id"]:
                item["quantity"] += delta
                item["remaining"] += delta
                fo.updated_at = now()
                if all(i["remaining"] == 0 for i in fo.line_items):
                    fo.status = "CLOSED"
                return
    if delta > 0:
        location_id = line.get("committed_location_id") or shop.primary_location.id
        fo = FulfillmentOrder(id=next_id(), order_id=order.id, assigned_location_id=location_id, line_items=[
            {"id": next_id(), "line_item_id": line["id"], "quantity": delta, "remaining": delta}])  # fmt: skip
        shop.fulfillment_orders[fo.id] = fo


@registry.mutation("orderCancel")
def order_cancel(ctx: Context, orderId, reason, restock, staffNote=None, **_):  # noqa: N803 - schema argument names
    """Shopify cancels in a background job; the sandbox finishes at once and reports the job done."""
    order = ctx.shop.orders.get(parse_gid(orderId, "Order") or 0)
    if order is None:
        errors = [{"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}]
    else:
        try:
            cancel_order(ctx, order, reason=reason, restock=restock, staff_note=staffNote)
            errors = []
        except OrderChangeError as exc:
            errors = [{"field": ["orderId"], "message": str(exc), "code": exc.code}]
    if errors:
        return {"job": None, "orderCancelUserErrors": errors, "userErrors": [
            {"field": e["field"], "message": e["message"]} for e in errors]}  # fmt: skip
    job_id = gid("Job", uuid.uuid4())
    ctx.shop.extra.setdefault("jobs", set()).add(job_id)
    return {"job": {"id": job_id, "done": True}, "orderCancelUserErrors": [], "userErrors": []}


@registry.query("job")
def job(ctx: Context, id):
    """Jobs the sandbox started (order cancellations) are finished by the time their id is returned."""
    return {"id": id, "done": True} if id in ctx.shop.extra.get("jobs", set()) else None


# ---- order edits: orderEditBegin -> orderEditSetQuantity / orderEditAddVariant -> orderEditCommit ------------------
# A session stages changes on a calculated order; nothing reaches the order until the commit. A calculated line
# item shares its order line item's number (as in Shopify), so `CalculatedLineItem/<n>` edits `LineItem/<n>`.


def _calculated_order(ctx: Context, session_id: int) -> dict:
    session = ctx.shop.extra["order_edits"][session_id]
    order = ctx.shop.orders[session["order_id"]]
    staged = session["quantities"]

    def node(line: dict) -> dict:
        quantity = staged.get(line["id"], line["quantity"])
        return {"__typename": "CalculatedLineItem", "id": gid("CalculatedLineItem", line["id"]),
                "quantity": quantity, "editableQuantity": quantity, "sku": line.get("sku"),
                "title": line.get("title") or "", "restockable": True, "restocking": False}  # fmt: skip

    lines = [node(li) for li in order.data["line_items"]] + [
        {"__typename": "CalculatedLineItem", "id": gid("CalculatedLineItem", a["id"]), "quantity": a["quantity"],
         "editableQuantity": a["quantity"], "sku": a.get("sku"), "title": a.get("title") or "",
         "restockable": True, "restocking": False}
        for a in session["additions"]
    ]  # fmt: skip
    return {
        "__typename": "CalculatedOrder",
        "id": gid("CalculatedOrder", session_id),
        "committed": session["committed"],
        "lineItems": lambda info, **args: {"nodes": lines, "edges": [{"node": n, "cursor": str(k)}
                                                                     for k, n in enumerate(lines)],
                                           "pageInfo": {"hasNextPage": False, "hasPreviousPage": False,
                                                        "startCursor": None, "endCursor": None}},
        "originalOrder": lambda info: None,
    }  # fmt: skip


def _session(ctx: Context, id: str):
    sessions = ctx.shop.extra.setdefault("order_edits", {})
    number = parse_gid(id, "CalculatedOrder") or parse_gid(id, "OrderEditSession") or 0
    session = sessions.get(number)
    if session is None or session["committed"]:
        return None, [{"field": ["id"], "message": "The order edit session does not exist or was committed."}]
    return number, []


def _edit_payload(ctx: Context, number, errors, line_id=None) -> dict:
    if errors:
        return {"calculatedOrder": None, "calculatedLineItem": None, "orderEditSession": None, "userErrors": errors}
    calculated = _calculated_order(ctx, number)
    found = next((n for n in calculated["lineItems"](None)["nodes"]
                  if line_id and n["id"] == gid("CalculatedLineItem", line_id)), None)  # fmt: skip
    return {"calculatedOrder": calculated, "calculatedLineItem": found,
            "orderEditSession": {"id": gid("OrderEditSession", number)}, "userErrors": []}  # fmt: skip


@registry.mutation("orderEditBegin")
def order_edit_begin(ctx: Context, id):
    """Open an edit session on an order (refused for a cancelled one)."""
    order = ctx.shop.orders.get(parse_gid(id, "Order") or 0)
    if order is None or order.data.get("cancelled_at"):
        return {
            "calculatedOrder": None,
            "orderEditSession": None,
            "userErrors": [{"field": ["id"], "message": "The order does not exist or cannot be edited."}],
        }
    number = next_id()
    ctx.shop.extra.setdefault("order_edits", {})[number] = {
        "order_id": order.id, "quantities": {}, "additions": [], "committed": False, "restock": True,
    }  # fmt: skip
    calculated = _calculated_order(ctx, number)
    return {"calculatedOrder": calculated, "orderEditSession": {"id": gid("OrderEditSession", number)},
            "userErrors": []}  # fmt: skip


@registry.mutation("orderEditSetQuantity")
def order_edit_set_quantity(ctx: Context, id, lineItemId, quantity, restock=None, **_):  # noqa: N803
    """Stage a new quantity (0 removes) for an order line or a line added in this session."""
    number, errors = _session(ctx, id)
    line_id = parse_gid(lineItemId, "CalculatedLineItem") or 0
    if not errors:
        session = ctx.shop.extra["order_edits"][number]
        order = ctx.shop.orders[session["order_id"]]
        added = next((a for a in session["additions"] if a["id"] == line_id), None)
        if quantity < 0:
            errors = [{"field": ["quantity"], "message": "Quantity must be greater than or equal to 0."}]
        elif added is not None:
            added["quantity"] = quantity
        elif line_id in {li["id"] for li in order.data["line_items"]}:
            session["quantities"][line_id] = quantity
            session["restock"] = restock is not False
        else:
            errors = [{"field": ["lineItemId"], "message": "Line item does not exist on the calculated order."}]
    return _edit_payload(ctx, number, errors, line_id)


@registry.mutation("orderEditAddVariant")
def order_edit_add_variant(ctx: Context, id, variantId, quantity, allowDuplicates=False, **_):  # noqa: N803
    """Stage a new line of a variant of this shop (a variant already on the order needs allowDuplicates)."""
    number, errors = _session(ctx, id)
    variant = ctx.shop.variants.get(parse_gid(variantId, "ProductVariant") or 0)
    line_id = None
    if not errors:
        session = ctx.shop.extra["order_edits"][number]
        order = ctx.shop.orders[session["order_id"]]
        if variant is None:
            errors = [{"field": ["variantId"], "message": "Variant does not exist."}]
        elif quantity <= 0:
            errors = [{"field": ["quantity"], "message": "Quantity must be greater than 0."}]
        elif not allowDuplicates and any(li.get("variant_id") == variant.id for li in order.data["line_items"]):
            errors = [{"field": ["variantId"], "message": "Variant is already on the order."}]
        else:
            line_id = next_id()
            session["additions"].append({"id": line_id, "variant_id": variant.id, "sku": variant.sku,
                                         "title": ctx.shop.products[variant.product_id].title,
                                         "quantity": quantity, "price": str(variant.price)})  # fmt: skip
    return _edit_payload(ctx, number, errors, line_id)


@registry.mutation("orderEditCommit")
def order_edit_commit(ctx: Context, id, notifyCustomer=False, staffNote=None):  # noqa: N803
    """Apply the staged changes as one edit: quantities (never below what shipped), added lines with their stock
    taken at the primary location, fulfillment orders following; `orders/edited` and `orders/updated` are sent."""
    number, errors = _session(ctx, id)
    if errors:
        return {"order": None, "successMessages": [], "userErrors": errors}
    session = ctx.shop.extra["order_edits"][number]
    order = ctx.shop.orders[session["order_id"]]
    quantities = dict(session["quantities"])
    for added in session["additions"]:
        if added["quantity"] > 0:
            line = {"id": added["id"], "sku": added["sku"], "title": added["title"], "quantity": 0,
                    "original_quantity": 0, "variant_id": added["variant_id"], "price": added["price"],
                    "committed_location_id": ctx.shop.primary_location.id}  # fmt: skip
            order.data["line_items"].append(line)
            quantities[line["id"]] = added["quantity"]
    try:
        edit_line_quantities(ctx, order, quantities, restock=session["restock"])
    except OrderChangeError as exc:
        order.data["line_items"] = [li for li in order.data["line_items"]
                                    if li["id"] not in {a["id"] for a in session["additions"]}]  # fmt: skip
        return {"order": None, "successMessages": [], "userErrors": [{"field": ["id"], "message": str(exc)}]}
    session["committed"] = True
    if staffNote:
        order.data["edit_staff_notes"] = [*order.data.get("edit_staff_notes", []), staffNote]
    return {"order": order_node(ctx, order), "successMessages": ["Order updated"], "userErrors": []}


@registry.mutation("fulfillmentOrderAcceptCancellationRequest")
def accept_cancellation_request(ctx: Context, id, message=None):
    """The service agrees to cancel: the fulfillment order closes and the merchant's pending cancellation of the
    order completes (restocked, `orders/cancelled` sent)."""
    fo, errors = _service_fo_or_error(ctx, id)
    if fo is not None and fo.request_status != "CANCELLATION_REQUESTED":
        errors = [{"field": ["id"], "message": f"Cannot accept a cancellation that is {fo.request_status.lower()}."}]
    if errors:
        return {"fulfillmentOrder": None, "userErrors": errors}
    fo.request_status, fo.status, fo.updated_at = "CANCELLATION_ACCEPTED", "CLOSED", now()
    fo.data["cancellation_answer"] = message
    order = ctx.shop.orders[fo.order_id]
    pending = order.data.get("cancellation_pending")
    others = [f for f in ctx.shop.fulfillment_orders.values()
              if f.order_id == order.id and f.request_status == "CANCELLATION_REQUESTED"]  # fmt: skip
    if pending and not others:
        order.data.pop("cancellation_pending")
        cancel_order(ctx, order, reason=pending["reason"], restock=True)
    return {"fulfillmentOrder": fulfillment_order_node(ctx, fo), "userErrors": []}
