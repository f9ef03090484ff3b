"""Soak-test controls for a sandbox served in its own process: merchant and customer actions, and the faults
Shopify shows in production that the per-request faults of `Sandbox.inject` cannot express.

`install(sandbox)` adds HTTP routes under /_sandbox/ (see ROUTES): a customer's checkout, the merchant shipping,
cancelling or editing an order, changing stock and prices, a dump of a shop's orders/fulfillments/stock, answers
that arrive only after the store committed, webhooks dropped, duplicated or delivered out of order, access tokens
expiring early, and a shorter lifetime for the expiring tokens issued.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from decimal import Decimal

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fakes.shopify.context import Context
from fakes.shopify.state import gid, iso, now

ROUTES = (
    ("/_sandbox/shops/<shop>/orders", "chaos_place_order", "POST"),
    ("/_sandbox/shops/<shop>/ship", "chaos_ship", "POST"),
    ("/_sandbox/shops/<shop>/cancel", "chaos_cancel", "POST"),
    ("/_sandbox/shops/<shop>/edit", "chaos_edit", "POST"),
    ("/_sandbox/shops/<shop>/stock", "chaos_stock", "POST"),
    ("/_sandbox/shops/<shop>/price", "chaos_price", "POST"),
    ("/_sandbox/shops/<shop>/dump", "chaos_dump", "GET"),
    ("/_sandbox/shops/<shop>/late_answers", "chaos_late_answers", "POST"),
    ("/_sandbox/shops/<shop>/expire_tokens", "chaos_expire_tokens", "POST"),
    ("/_sandbox/token_lifetime", "chaos_token_lifetime", "POST"),
    ("/_sandbox/webhooks/faults", "chaos_webhook_faults", "POST"),
    ("/_sandbox/webhooks/stats", "chaos_webhook_stats", "GET"),
)
WEBHOOK_FAULTS = ("drop", "duplicate", "reorder")
REORDER_HOLD_SECONDS = 3.0  # a held-back delivery goes out after the next ones, or after this long at the latest


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")


class SoakControls:
    """The routes' state: webhook faults waiting to hit the next deliveries, and shops owed late answers."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.lock = threading.Lock()
        self.webhook_faults: list[str] = []
        self.held: list = []
        self.late: dict[str, list[float]] = defaultdict(list)
        self.stats: dict[str, int] = defaultdict(int)
        self._send = sandbox.outbox.send
        sandbox.outbox.send = self.send

    # ---- webhooks --------------------------------------------------------------------------------------------
    def send(self, delivery):
        with self.lock:
            fault = self.webhook_faults.pop(0) if self.webhook_faults else None
            if fault:
                self.stats[fault] += 1
        if fault == "drop":
            delivery.dropped = True
            with self.sandbox.outbox._lock:
                self.sandbox.outbox.deliveries.append(delivery)
            return delivery
        if fault == "reorder":
            with self.lock:
                self.held.append(delivery)
            threading.Timer(REORDER_HOLD_SECONDS, self.release_held).start()
            return delivery
        sent = self._send(delivery)
        if fault == "duplicate":
            self.sandbox.outbox.redeliver(delivery)
        self.release_held()  # a held one goes out after this later event: delivered out of order
        return sent

    def release_held(self) -> None:
        with self.lock:
            held, self.held = self.held, []
        for delivery in held:
            self._send(delivery)

    # ---- late answers ----------------------------------------------------------------------------------------
    def wrap(self, app):
        """The sandbox's WSGI app, with GraphQL answers held back for shops owed a late answer."""

        def late_app(environ, start_response):
            delay = None
            if environ.get("PATH_INFO", "").endswith("/graphql.json"):
                host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST") or ""
                with self.lock:
                    owed = self.late.get(host.split(":")[0].lower())
                    delay = owed.pop(0) if owed else None
            body = list(app(environ, start_response))  # runs and commits the request
            if delay:
                time.sleep(delay)  # the store has committed; the answer arrives after the client gave up
            return body

        return late_app


def install(sandbox) -> SoakControls:
    """Add the soak routes to `sandbox`'s url_map (endpoints called as `endpoint(sandbox, request, **values)`) and
    hold back GraphQL answers owed late; returns the controls."""
    controls = SoakControls(sandbox)
    sandbox.wsgi_app = controls.wrap(sandbox.wsgi_app)
    for path, name, method in ROUTES:
        handler = globals()[f"_{name}"]
        sandbox.url_map.add(Rule(path, endpoint=_bound(handler, controls), methods=[method]))
    return controls


def _bound(handler, controls: SoakControls):
    def endpoint(sandbox, request: Request, **values) -> Response:
        return handler(controls, request, **values)

    endpoint.__name__ = handler.__name__
    return endpoint


def _body(request: Request) -> dict:
    return request.get_json(force=True, silent=True) or {}


def _chaos_place_order(self: SoakControls, request: Request, shop: str) -> Response:
    """A customer checks out in `shop`: {"lines": [[sku, quantity], ...]}."""
    from fakes.shopify.resolvers.orders import place_order

    lines = [(sku, int(qty)) for sku, qty in _body(request)["lines"]]
    try:
        return _json(place_order(self.sandbox, shop, lines))
    except Exception as exc:  # an unknown SKU: the caller decides what to do
        return _json({"error": str(exc)}, 422)


def _chaos_ship(self: SoakControls, request: Request, shop: str) -> Response:
    """The merchant ships an order: {"order": gid, "lines": [[sku, qty]] | null, "company", "numbers": [...]}."""
    from fakes.shopify.resolvers.fulfillments import ship

    body = _body(request)
    lines = [(sku, int(q)) for sku, q in body["lines"]] if body.get("lines") else None
    try:
        fulfillment = ship(
            self.sandbox, shop, body["order"], lines, company=body.get("company", "UPS"),
            numbers=tuple(body.get("numbers") or ()),
        )  # fmt: skip
    except (ValueError, KeyError) as exc:
        return _json({"error": str(exc)}, 422)
    return _json({"fulfillment": fulfillment})


def _order_named(self: SoakControls, shop: str, body: dict):
    """(the shop's state, the order `body["order"]` names by gid or number); None for either that does not exist."""
    state = self.sandbox.shops.get(shop)
    order = state.orders.get(int(str(body["order"]).rsplit("/", 1)[-1])) if state is not None else None
    return state, order


def _chaos_cancel(self: SoakControls, request: Request, shop: str) -> Response:
    """The merchant cancels an order, restocking it: {"order": gid}. As Shopify does it: at once when no
    fulfillment service has accepted any of it, else by a cancellation request to each service that has (the order
    is cancelled when every request is accepted). 422 with Shopify's reason when it refuses (shipped, cancelled)."""
    from fakes.shopify.resolvers.fulfillments import CLOSED, request_cancellation
    from fakes.shopify.resolvers.order_changes import OrderChangeError, cancel_order

    state, order = _order_named(self, shop, _body(request))
    if order is None:
        return _json({"error": "no such order"}, 404)
    with state.lock:
        accepted = any(fo.order_id == order.id and fo.request_status == "ACCEPTED" and fo.status not in CLOSED
                       for fo in state.fulfillment_orders.values())  # fmt: skip
    if accepted and not order.data.get("cancelled_at"):
        return _json({"requested": len(request_cancellation(self.sandbox, shop, order))})
    ctx = self.sandbox.merchant_context(shop)
    try:
        with state.lock:
            cancel_order(ctx, order, reason="CUSTOMER", restock=True)
    except OrderChangeError as exc:
        return _json({"error": str(exc)}, 422)
    ctx.flush()
    return _json({"cancelled": True})


def _chaos_edit(self: SoakControls, request: Request, shop: str) -> Response:
    """The merchant edits an order's line quantities, restocking what it takes off: {"order": gid, "lines": [[sku,
    quantity], ...]} (0 removes the line). 422 with Shopify's reason when it refuses (below what shipped,
    cancelled)."""
    from fakes.shopify.resolvers.order_changes import OrderChangeError, edit_line_quantities

    body = _body(request)
    state, order = _order_named(self, shop, body)
    if order is None:
        return _json({"error": "no such order"}, 404)
    by_sku = {li["sku"]: li["id"] for li in order.data["line_items"]}
    if any(sku not in by_sku for sku, _ in body["lines"]):
        return _json({"error": "a SKU is not on the order"}, 422)
    ctx = self.sandbox.merchant_context(shop)
    try:
        with state.lock:
            edit_line_quantities(ctx, order, {by_sku[sku]: int(q) for sku, q in body["lines"]}, restock=True)
    except OrderChangeError as exc:
        return _json({"error": str(exc)}, 422)
    ctx.flush()
    return _json({"edited": True})


def _chaos_stock(self: SoakControls, request: Request, shop: str) -> Response:
    """The merchant sets a SKU's available stock at the primary location: {"sku", "available"}."""
    body = _body(request)
    state = self.sandbox.shop(shop)
    with state.lock:
        variant = state.variant_by_sku(body["sku"])
        if variant is None:
            return _json({"error": "unknown sku"}, 404)
        item = state.inventory_items[variant.inventory_item_id]
        location = state.primary_location.id
        level = item.levels.setdefault(location, {"available": 0, "on_hand": 0})
        delta = int(body["available"]) - level.get("available", 0)
        level["available"] = int(body["available"])
        level["on_hand"] = level.get("on_hand", 0) + delta
        item.updated_at = now()
        payload = {
            "inventory_item_id": item.id, "location_id": location, "available": level["available"],
            "updated_at": iso(item.updated_at),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{item.id}?inventory_item_id={item.id}",
        }  # fmt: skip
    self.sandbox.emit(shop, "inventory_levels/update", payload)
    return _json({"available": level["available"]})


def _chaos_price(self: SoakControls, request: Request, shop: str) -> Response:
    """The merchant edits a SKU's price in the admin: {"sku", "price"}."""
    from fakes.shopify.resolvers.products import product_webhook_payload

    body = _body(request)
    state = self.sandbox.shop(shop)
    ctx = Context(sandbox=self.sandbox, shop=state, api_version=self.sandbox.api_version, base_url="")
    with state.lock:
        variant = state.variant_by_sku(body["sku"])
        if variant is None:
            return _json({"error": "unknown sku"}, 404)
        variant.price, variant.updated_at = f"{Decimal(str(body['price'])):.2f}", now()
        product = state.products[variant.product_id]
        product.updated_at = now()
        payload = product_webhook_payload(ctx, product)
    self.sandbox.emit(shop, "products/update", payload)
    return _json({"price": variant.price})


def _chaos_dump(self: SoakControls, request: Request, shop: str) -> Response:
    """Everything the soak's invariants compare: orders with lines and fulfillments, variants with stock."""
    state = self.sandbox.shops.get(shop)
    if state is None:
        return _json({"error": "no such shop"}, 404)
    with state.lock:
        service_locations = [loc.id for loc in state.locations.values() if loc.fulfillment_service_id]
        variants = []
        for v in state.variants.values():
            item = state.inventory_items[v.inventory_item_id]
            variants.append({
                "sku": v.sku, "price": v.price, "product": state.products[v.product_id].title,
                "product_status": state.products[v.product_id].status,
                "primary_available": (item.levels.get(state.primary_location.id) or {}).get("available"),
                "service_available": {str(loc): (item.levels.get(loc) or {}).get("available")
                                      for loc in service_locations if loc in item.levels},
            })  # fmt: skip
        orders = []
        for o in state.orders.values():
            skus = {li["id"]: li["sku"] for li in o.data["line_items"]}
            fulfillments = [
                {
                    "id": gid("Fulfillment", f.id),
                    "tracking": [t.get("number") for t in f.tracking_info if t.get("number")],
                    "company": next((t.get("company") for t in f.tracking_info), None),
                    "lines": [{"sku": skus.get(x.get("line_item_id")), "quantity": x.get("quantity")}
                              for x in f.data.get("lines", [])],
                }
                for f in state.fulfillments.values() if f.order_id == o.id
            ]  # fmt: skip
            orders.append({
                "id": gid("Order", o.id), "name": o.name, "tags": o.tags, "po_number": o.data.get("po_number"),
                "note": o.data.get("note"), "custom_attributes": o.custom_attributes,
                "lines": [{"sku": li["sku"], "quantity": li["quantity"]} for li in o.data["line_items"]],
                "fulfillments": fulfillments, "cancelled": bool(o.data.get("cancelled_at")),
                "cancellation_pending": bool(o.data.get("cancellation_pending")),
            })  # fmt: skip
    return _json({"shop": shop, "variants": variants, "orders": orders})


def _chaos_late_answers(self: SoakControls, request: Request, shop: str) -> Response:
    """The next `count` GraphQL requests of `shop` run and commit, and are answered `seconds` later."""
    body = _body(request)
    with self.lock:
        self.late[shop] += [float(body.get("seconds", 35.0))] * int(body.get("count", 1))
    return _json({"ok": True})


def _chaos_expire_tokens(self: SoakControls, request: Request, shop: str) -> Response:
    """Every access token of `shop` expires now (refresh tokens stay valid)."""
    expired = 0
    for token in list(self.sandbox.tokens.values()):
        if token.shop == shop:
            token.expires_at = time.time() - 1
            expired += 1
    return _json({"expired": expired})


def _chaos_token_lifetime(self: SoakControls, request: Request) -> Response:
    """Expiring access tokens issued from now on live `seconds` (Shopify: an hour; a soak compresses it like its
    clock, so tokens expire and are refreshed many times): {"seconds"}."""
    from fakes.shopify import oauth

    oauth.ACCESS_TOKEN_LIFETIME = int(_body(request)["seconds"])
    return _json({"seconds": oauth.ACCESS_TOKEN_LIFETIME})


def _chaos_webhook_faults(self: SoakControls, request: Request) -> Response:
    """The next `count` webhook deliveries (any shop) are dropped, duplicated or held back: {"kind", "count"}."""
    body = _body(request)
    if body.get("kind") not in WEBHOOK_FAULTS:
        return _json({"error": f"kind must be one of {WEBHOOK_FAULTS}"}, 400)
    with self.lock:
        self.webhook_faults += [body["kind"]] * int(body.get("count", 1))
    return _json({"ok": True})


def _chaos_webhook_stats(self: SoakControls, request: Request) -> Response:
    with self.lock:
        return _json(dict(self.stats))
