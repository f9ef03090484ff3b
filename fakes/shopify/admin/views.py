"""The sandbox shop pages' routes: render a shop's products and orders, and apply the merchant's or a customer's
changes through the same GraphQL mutations and state functions as the API (so webhooks and callbacks fire).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from fakes.shopify.resolvers.fulfillments import ship_lines
from fakes.shopify.resolvers.order_changes import CANCEL_REASONS, OrderChangeError, cancel_order, edit_line_quantities
from fakes.shopify.resolvers.order_nodes import fulfillment_status, remaining_to_ship
from fakes.shopify.resolvers.orders import checkout
from fakes.shopify.state import gid, iso, next_id

ROOT = "/_sandbox/admin"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"])
)


class Refused(Exception):
    """A form the sandbox cannot apply: answered 400 with the message."""


def _page(name: str, status: int = 200, **values) -> Response:
    html = TEMPLATES.get_template(name).render(root=ROOT, **values)
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _shop(sandbox, domain: str):
    state = sandbox.shops.get(domain)
    if state is None:
        raise NotFound(f"No shop {domain} in this sandbox.")
    return state


def _same_origin(request: Request) -> bool:
    """A POST must come from a page of this sandbox (Origin, else Referer): enough against cross-site forms."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    return bool(source) and urlsplit(source).netloc == request.host


def _int(form, key: str, label: str) -> int:
    try:
        return int(form.get(key, "").strip())
    except ValueError:
        raise Refused(f"{label} must be a whole number.") from None


def _graphql(sandbox, shop, document: str, variables: dict, field: str) -> dict:
    """Run a mutation as the merchant's admin does (no cost charged); user errors refuse the form."""
    body = sandbox.run(shop, document, variables, charge=False)
    if body.get("errors"):
        raise Refused("; ".join(e["message"] for e in body["errors"]))
    payload = body["data"][field]
    problems = payload.get("userErrors") or []
    if problems:
        raise Refused("; ".join(e["message"] for e in problems))
    return payload


def action(fn):
    """A POST handler: same-origin check, then `fn` (which returns where to go next) or a 400 with the message."""

    def handle(sandbox, request: Request, shop: str, **values) -> Response:
        state = _shop(sandbox, shop)
        back = request.headers.get("Referer") or f"{ROOT}/{shop}/products"
        if not _same_origin(request):
            return _page("error.html", 403, shop=state, message="Cross-site form refused.", back=f"{ROOT}/{shop}/")
        try:
            target = fn(sandbox, state, request.form, **values)
        except (Refused, OrderChangeError, ValueError) as exc:
            return _page("error.html", 400, shop=state, message=str(exc), back=back)
        return redirect(target, 303)

    handle.__doc__ = fn.__doc__
    return handle


# ---- pages ----------------------------------------------------------------------------------------------------------
def index(sandbox, request: Request) -> Response:
    """Every shop of the sandbox."""
    return _page("index.html", shops=sorted(sandbox.shops.values(), key=lambda s: s.domain), shop=None)


def shop_home(sandbox, request: Request, shop: str) -> Response:
    """A shop's home is its product list."""
    _shop(sandbox, shop)
    return redirect(f"{ROOT}/{shop}/products", 302)


def products(sandbox, request: Request, shop: str) -> Response:
    """Products with their variants, prices and stock per location."""
    state = _shop(sandbox, shop)
    with state.lock:
        items = []
        for p in state.products.values():
            variants = []
            for v in (state.variants[i] for i in p.variant_ids):
                levels = state.inventory_items[v.inventory_item_id].levels
                variants.append({"id": v.id, "title": v.title, "sku": v.sku, "price": v.price, "levels": [
                    {"location_id": loc.id, "location": loc.name, "stocked": loc.id in levels,
                     "available": levels.get(loc.id, {}).get("available", 0)}
                    for loc in state.locations.values()
                    if loc.id in levels or (loc.is_active and loc.fulfillment_service_id is None)]})  # fmt: skip
            items.append({"id": p.id, "title": p.title, "status": p.status, "variants": variants})
        locations = list(merchant_locations(state))
    return _page("products.html", shop=state, base=f"{ROOT}/{shop}", products=items, locations=locations)


def merchant_locations(state):
    """The shop's own locations (a fulfillment service's location is stocked by that service, not here)."""
    return (loc for loc in state.locations.values() if loc.fulfillment_service_id is None)


def orders(sandbox, request: Request, shop: str) -> Response:
    """The shop's orders, and a form to place one as a customer."""
    state = _shop(sandbox, shop)
    ctx = sandbox.merchant_context(shop)
    with state.lock:
        listed = [
            {"id": o.id, "name": o.name, "created_at": iso(o.created_at), "lines": o.data["line_items"],
             "status": "CANCELLED" if o.data.get("cancelled_at") else fulfillment_status(ctx, o)}
            for o in sorted(state.orders.values(), key=lambda o: o.id, reverse=True)
        ]  # fmt: skip
        variants = [
            {
                "id": v.id,
                "title": v.title,
                "sku": v.sku,
                "price": v.price,
                "product": state.products[v.product_id].title,
            }
            for v in state.variants.values()
        ]
    return _page("orders.html", shop=state, base=f"{ROOT}/{shop}", orders=listed, variants=variants)


def order(sandbox, request: Request, shop: str, order_id: int) -> Response:
    """One order: lines, fulfillment orders, shipments, and the edit, ship and cancel forms."""
    state = _shop(sandbox, shop)
    ctx = sandbox.merchant_context(shop)
    with state.lock:
        found = state.orders.get(order_id)
        if found is None:
            raise NotFound(f"No order {order_id} in {shop}.")
        by_id = {li["id"]: li for li in found.data["line_items"]}
        lines = [li | {"remaining": remaining_to_ship(ctx, li["id"])} for li in found.data["line_items"]]
        fos = [
            {"id": fo.id, "location": state.locations[fo.assigned_location_id].name, "status": fo.status,
             "request_status": fo.request_status}
            for fo in state.fulfillment_orders.values() if fo.order_id == found.id
        ]  # fmt: skip
        shipments = [
            {"id": f.id, "tracking": f.tracking_info,
             "lines": [{"quantity": x["quantity"], "sku": by_id[x["line_item_id"]]["sku"]} for x in f.data["lines"]]}
            for f in state.fulfillments.values() if f.order_id == found.id
        ]  # fmt: skip
        status = "CANCELLED" if found.data.get("cancelled_at") else fulfillment_status(ctx, found)
    return _page(
        "order.html",
        shop=state,
        base=f"{ROOT}/{shop}",
        order=found,
        lines=lines,
        fulfillment_orders=fos,
        fulfillments=shipments,
        order_status=status,
        reasons=CANCEL_REASONS,
        cancelled_at=iso(found.data.get("cancelled_at")),
        cancel_reason=found.data.get("cancel_reason"),
    )


# ---- product actions: the same GraphQL mutations an app would send ---------------------------------------------------
@action
def add_product(sandbox, state, form) -> str:
    """Add a one-variant product with a SKU, price and starting stock at the primary location (productSet)."""
    title, sku = form.get("title", "").strip(), form.get("sku", "").strip()
    if not title or not sku:
        raise Refused("A product needs a title and a SKU.")
    if state.variant_by_sku(sku):
        raise Refused(f"SKU {sku} is already used in this store.")
    available = _int(form, "available", "Available")
    sandbox.add_product(
        state.domain, title, [{"sku": sku, "price": form.get("price") or "0.00", "available": available}]
    )
    return f"{ROOT}/{state.domain}/products"


@action
def edit_product(sandbox, state, form, product_id: int) -> str:
    """Change a product's title (productSet) and its variants' prices (productVariantsBulkUpdate)."""
    product = state.products.get(product_id)
    if product is None:
        raise Refused(f"No product {product_id}.")
    title = form.get("title", "").strip()
    if not title:
        raise Refused("Title can't be blank.")
    product_gid = gid("Product", product_id)
    if title != product.title:
        _graphql(sandbox, state, "mutation($id: ID!, $t: String!) { productSet(identifier: {id: $id}, input: "
                 "{title: $t}) { product { id } userErrors { message } } }", {"id": product_gid, "t": title},
                 "productSet")  # fmt: skip
    prices = []
    for variant_id in product.variant_ids:
        price = form.get(f"price_{variant_id}")
        if price is not None and price.strip():
            prices.append({"id": gid("ProductVariant", variant_id), "price": price.strip()})
    if prices:
        _check_prices(prices)
        _graphql(sandbox, state, "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate("
                 "productId: $p, variants: $v) { product { id } userErrors { message } } }",
                 {"p": product_gid, "v": prices}, "productVariantsBulkUpdate")  # fmt: skip
    return f"{ROOT}/{state.domain}/products"


def _check_prices(prices: list[dict]) -> None:
    from decimal import Decimal, InvalidOperation

    for p in prices:
        try:
            if Decimal(p["price"]) < 0:
                raise Refused(f"Price {p['price']} must not be negative.")
        except InvalidOperation:
            raise Refused(f"Price {p['price']!r} is not a number.") from None


@action
def delete_product(sandbox, state, form, product_id: int) -> str:
    """Delete a product with its variants (productDelete)."""
    _graphql(sandbox, state, "mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId userErrors "
             "{ message } } }", {"id": gid("Product", product_id)}, "productDelete")  # fmt: skip
    return f"{ROOT}/{state.domain}/products"


@action
def set_stock(sandbox, state, form, variant_id: int) -> str:
    """Set a variant's available quantity at one location (inventorySetQuantities, with a fresh idempotency key)."""
    variant = state.variants.get(variant_id)
    if variant is None:
        raise Refused(f"No variant {variant_id}.")
    available = _int(form, "available", "Available")
    location_id = _int(form, "location_id", "Location")
    if location_id not in state.inventory_items[variant.inventory_item_id].levels:  # stock it there first
        _graphql(sandbox, state, "mutation($i: ID!, $l: ID!) { inventoryActivate(inventoryItemId: $i, locationId: $l) "
                 "{ userErrors { message } } }", {"i": gid("InventoryItem", variant.inventory_item_id),
                                                  "l": gid("Location", location_id)}, "inventoryActivate")  # fmt: skip
    quantities = [
        {
            "inventoryItemId": gid("InventoryItem", variant.inventory_item_id),
            "locationId": gid("Location", location_id),
            "quantity": available,
            "changeFromQuantity": None,
        }
    ]
    _graphql(sandbox, state, "mutation($i: InventorySetQuantitiesInput!, $k: String!) { inventorySetQuantities("
             "input: $i) @idempotent(key: $k) { userErrors { message } } }",
             {"i": {"name": "available", "reason": "correction", "quantities": quantities}, "k": str(uuid.uuid4())},
             "inventorySetQuantities")  # fmt: skip
    return f"{ROOT}/{state.domain}/products"


@action
def add_location(sandbox, state, form) -> str:
    """Open a location (Shopify admin: Settings > Locations), fulfilling online orders or not."""
    name = (form.get("name") or "").strip()
    if not name:
        raise Refused("Give the location a name.")
    with state.lock:
        state.add_location(name, fulfills_online_orders=form.get("fulfills_online_orders") == "1")
    return f"{ROOT}/{state.domain}/products"


# ---- order actions: the state functions orderCreate, orderCancel, order edits and fulfillmentCreate use -------------
def _change(sandbox, state, change) -> None:
    """Apply `change(ctx)` under the shop's lock, then send its webhooks and callbacks."""
    ctx = sandbox.merchant_context(state.domain)
    with state.lock:
        change(ctx)
    ctx.flush()


def _order(state, order_id: int):
    found = state.orders.get(order_id)
    if found is None:
        raise Refused(f"No order {order_id}.")
    return found


@action
def place_order(sandbox, state, form) -> str:
    """A customer checks out the chosen variants and quantities (routed to fulfillment services like the API)."""
    lines = []
    for key in form:
        if not key.startswith("qty_"):
            continue
        quantity = _int(form, key, "Quantity")
        variant = state.variants.get(int(key[4:])) if key[4:].isdigit() else None
        if variant is None:
            raise Refused(f"Unknown variant {key[4:]}.")
        if quantity < 0:
            raise Refused("Quantities must not be negative.")
        if quantity:
            lines.append({"id": next_id(), "sku": variant.sku, "title": state.products[variant.product_id].title,
                          "quantity": quantity, "variant_id": variant.id, "price": variant.price})  # fmt: skip
    if not lines:
        raise Refused("Choose at least one variant with a quantity above 0.")
    placed = []
    _change(sandbox, state, lambda ctx: placed.append(checkout(ctx, lines, email=form.get("email") or None)))
    return f"{ROOT}/{state.domain}/orders/{placed[0].id}"


@action
def cancel(sandbox, state, form, order_id: int) -> str:
    """Cancel an order (orderCancel's state change), restocking when asked."""
    found = _order(state, order_id)
    reason = form.get("reason", "OTHER")
    _change(sandbox, state, lambda ctx: cancel_order(ctx, found, reason=reason, restock=form.get("restock") == "1"))
    return f"{ROOT}/{state.domain}/orders/{order_id}"


@action
def edit(sandbox, state, form, order_id: int) -> str:
    """Set the current quantities of the order's lines (an order edit, committed at once)."""
    found = _order(state, order_id)
    wanted = {}
    for li in found.data["line_items"]:
        if f"qty_{li['id']}" in form:
            wanted[li["id"]] = _int(form, f"qty_{li['id']}", f"Quantity of {li['sku'] or li['title']}")
    if not wanted:
        raise Refused("No line quantities were given.")
    restock = form.get("restock") == "1"
    _change(sandbox, state, lambda ctx: edit_line_quantities(ctx, found, wanted, restock=restock))
    return f"{ROOT}/{state.domain}/orders/{order_id}"


@action
def ship(sandbox, state, form, order_id: int) -> str:
    """Ship the chosen quantities of the order's lines with a carrier and tracking number (partial allowed)."""
    found = _order(state, order_id)
    wanted = {}
    for li in found.data["line_items"]:
        if f"ship_{li['id']}" in form:
            quantity = _int(form, f"ship_{li['id']}", f"Quantity to ship of {li['sku'] or li['title']}")
            if quantity < 0:
                raise Refused("Quantities must not be negative.")
            if quantity:
                wanted[li["id"]] = quantity
    if not wanted:
        raise Refused("Choose at least one line to ship.")
    number, url = form.get("number", "").strip(), form.get("url", "").strip()
    if url and not url.startswith(("http://", "https://")):
        raise Refused("The tracking URL must start with http:// or https://.")
    company = form.get("company", "").strip() or None
    numbers, urls = ([number] if number else []), ([url] if url else [])
    _change(sandbox, state, lambda ctx: ship_lines(ctx, found, wanted, company=company, numbers=numbers, urls=urls))
    return f"{ROOT}/{state.domain}/orders/{order_id}"


RULES = [
    Rule(f"{ROOT}/", endpoint=index, methods=["GET"]),
    Rule(f"{ROOT}/<shop>/", endpoint=shop_home, methods=["GET"]),
    Rule(f"{ROOT}/<shop>/products", endpoint=products, methods=["GET"]),
    Rule(f"{ROOT}/<shop>/products", endpoint=add_product, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/products/<int:product_id>", endpoint=edit_product, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/products/<int:product_id>/delete", endpoint=delete_product, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/variants/<int:variant_id>/stock", endpoint=set_stock, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/locations", endpoint=add_location, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/orders", endpoint=orders, methods=["GET"]),
    Rule(f"{ROOT}/<shop>/orders", endpoint=place_order, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/orders/<int:order_id>", endpoint=order, methods=["GET"]),
    Rule(f"{ROOT}/<shop>/orders/<int:order_id>/cancel", endpoint=cancel, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/orders/<int:order_id>/edit", endpoint=edit, methods=["POST"]),
    Rule(f"{ROOT}/<shop>/orders/<int:order_id>/ship", endpoint=ship, methods=["POST"]),
]
