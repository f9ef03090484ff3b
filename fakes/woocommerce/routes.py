"""HTTP handlers of the WooCommerce sandbox: the REST dispatcher (auth, argument validation, permissions, errors),
the resources (products, variations, orders, notes, webhooks, shipment tracking), `/wc-auth/v1` and `/_sandbox`.
"""

from __future__ import annotations

import html
import json
import math
import re
import secrets
import string
import time
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from fakes.woocommerce import schema as sc
from fakes.woocommerce.auth import AuthError, authenticate, check_permission, new_key_pair
from fakes.woocommerce.state import (
    BATCH_LIMIT,
    TRACKING_PROVIDERS,
    Store,
    WPError,
    dates,
    invalid_params,
    money,
    order_out,
    product_out,
    stock_status,
    touch,
    variation_out,
)
from fakes.woocommerce.webhooks import WC_VERSION, Delivery, valid_topic

JSON = "application/json; charset=UTF-8"
JSON_CALLBACK = "application/json;charset=UTF-8"
BASIC_REALM = (
    'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret in the password'
    ' field."'
)
DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    "batch": ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
}
EDITABLE = ("POST", "PUT", "PATCH")


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body), status, content_type=JSON)
    for key, value in (headers or {}).items():
        if isinstance(value, list):
            for item in value:
                response.headers.add(key, item)
        else:
            response.headers[key] = value
    return response


class Ctx:
    """One REST request: the store, merged params (query < JSON body), the site URL, the sandbox."""

    def __init__(self, sandbox, store: Store, request: Request, params: dict, site: str):
        self.sandbox, self.store, self.request, self.params, self.site = sandbox, store, request, params, site

    def now(self) -> float:
        """The sandbox clock."""
        return self.sandbox.now()


# --- dispatcher -------------------------------------------------------------------------------------------------------
def rest(sandbox, store: Store, request: Request, path: str, site: str) -> Response:
    """Answer one /wp-json request: injected faults first, then WordPress's order of checks."""
    if store.faults:
        fault = store.faults[0]
        fault.count -= 1
        if fault.count <= 0:
            store.faults.pop(0)
        if fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault.kind == "429":
            return Response("Too Many Requests", 429, {"Retry-After": str(fault.retry_after)})
        elif fault.kind == "503":
            return Response("<h1>Service Unavailable</h1>", 503, {"Retry-After": str(fault.retry_after)}, "text/html")
        else:
            return Response("<h1>Error establishing a database connection</h1>", 500, content_type="text/html")
    try:
        return _dispatch(sandbox, store, request, path, site)
    except WPError as err:
        return _json(err.body(), err.status)
    except AuthError as err:
        headers = {"WWW-Authenticate": BASIC_REALM} if err.basic else {}
        return _json({"code": err.code, "message": err.message, "data": {"status": 401}}, 401, headers)


def _dispatch(sandbox, store, request, path, site) -> Response:
    path = path.rstrip("/") or "/"
    if path == "/" and request.method == "GET":
        return _json(_index(store, site))
    match = None
    for pattern, methods in ROUTES:
        found = re.fullmatch(pattern, path)
        if found and (pattern.startswith("/wc/v3") or store.shipment_tracking):
            match = (found, methods)
            break
    if match is None or request.method not in match[1]:
        raise WPError("rest_no_route", "No route was found matching the URL and request method.", 404)
    found, methods = match
    handler, action, args = methods[request.method]
    body = {}
    if request.method != "GET" and request.get_data():
        if request.mimetype == "application/json":
            try:
                body = json.loads(request.get_data())
            except ValueError as exc:
                raise WPError(
                    "rest_invalid_json",
                    "Invalid JSON body passed.",
                    400,
                    json_error_code=4,
                    json_error_message=str(exc),
                ) from None
        else:
            body = request.form.to_dict()
    form = request.form.to_dict() if request.mimetype == "application/x-www-form-urlencoded" else {}
    params = {**request.args.to_dict(), **(body if isinstance(body, dict) else {})}
    scheme = "https" if store.ssl else "http"
    signed_url = f"{scheme}://{request.host}{request.script_root}{request.path}"
    key = authenticate(store, request, form, signed_url, sandbox.now())
    if key is not None:
        check_permission(key, request.method)
    invalid, missing = sc.validate_args(args, params)
    if missing:
        raise WPError("rest_missing_callback_param", "Missing parameter(s): " + ", ".join(missing), 400, params=missing)
    if invalid:
        raise invalid_params(invalid)
    if key is None:
        code, message = DENIED[action]
        raise WPError(code, message, 401)
    ctx = Ctx(sandbox, store, request, params, site)
    result = handler(ctx, *[int(g) if g.isdigit() else g for g in found.groups()])
    body, status, headers = result if isinstance(result, tuple) else (result, 200, {})
    return _json(body, status, headers)


def _index(store: Store, site: str) -> dict:
    namespaces = ["wp/v2", "wc/v3"] + (["wc-shipment-tracking/v3"] if store.shipment_tracking else [])
    routes = {re.sub(r"\(\\d\+\)|\(\[\\w\]\+\)", "(?P<id>[\\\\d]+)", p): {} for p, _ in ROUTES}
    if not store.shipment_tracking:
        routes = {k: v for k, v in routes.items() if k.startswith("/wc/v3")}
    return {"name": store.name, "url": site, "home": site, "namespaces": namespaces, "routes": routes}


# --- paging and filtering ---------------------------------------------------------------------------------------------
def _page(ctx: Ctx, items: list, route: str, render) -> tuple:
    per_page = int(ctx.params.get("per_page", 10))
    page = int(ctx.params.get("page", 1))
    offset = int(ctx.params["offset"]) if "offset" in ctx.params else (page - 1) * per_page
    total = len(items)
    pages = math.ceil(total / per_page) if per_page else 0
    chunk = items[offset : offset + per_page]
    base = ctx.site + "/wp-json" + route
    query = {k: v for k, v in ctx.request.args.items(multi=False) if k not in ("consumer_key", "consumer_secret")}
    links = []
    if page > 1:
        links.append(f'<{base}?{urlencode({**query, "page": min(page - 1, max(pages, 1))})}>; rel="prev"')
    if pages > page:
        links.append(f'<{base}?{urlencode({**query, "page": page + 1})}>; rel="next"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if links:
        headers["Link"] = links
    return [_fields(ctx, render(i)) for i in chunk], 200, headers


def _fields(ctx: Ctx, data: dict) -> dict:
    wanted = ctx.params.get("_fields")
    if not wanted:
        return data
    names = {f.split(".")[0] for f in sc.parse_list(wanted)}
    return {k: v for k, v in data.items() if k in names}


def _date_filters(ctx: Ctx, items: list, created_key="_created", modified_key="_modified") -> list:
    gmt = sc.to_bool(ctx.params.get("dates_are_gmt", False))
    offset = 0 if gmt else ctx.store.utc_offset_hours * 3600

    def stamp(value: str) -> float:
        from datetime import UTC, datetime

        parsed = datetime.fromisoformat(value.replace("Z", "")[:19]).replace(tzinfo=UTC)
        return parsed.timestamp() - offset

    for param, key, keep in (
        ("after", created_key, lambda a, b: int(a) > b),
        ("before", created_key, lambda a, b: int(a) < b),
        ("modified_after", modified_key, lambda a, b: int(a) > b),
        ("modified_before", modified_key, lambda a, b: int(a) < b),
    ):
        if ctx.params.get(param):
            limit = stamp(ctx.params[param])
            items = [i for i in items if keep(i[key], limit)]
    return items


def _common_filters(ctx: Ctx, items: list) -> list:
    if ctx.params.get("include"):
        wanted = {int(x) for x in sc.parse_list(ctx.params["include"])}
        items = [i for i in items if i["id"] in wanted]
    if ctx.params.get("exclude"):
        unwanted = {int(x) for x in sc.parse_list(ctx.params["exclude"])}
        items = [i for i in items if i["id"] not in unwanted]
    return _date_filters(ctx, items)


def _sorted(ctx: Ctx, items: list, title_key="name") -> list:
    orderby = ctx.params.get("orderby", "date")
    keys = {
        "id": lambda i: i["id"],
        "date": lambda i: (int(i["_created"]), i["id"]),
        "modified": lambda i: (int(i["_modified"]), i["id"]),
        "title": lambda i: (str(i.get(title_key, "")), i["id"]),
        "slug": lambda i: (str(i.get("slug", "")), i["id"]),
        "price": lambda i: (Decimal(i.get("price") or i.get("regular_price") or 0), i["id"]),
    }
    if orderby == "include" and ctx.params.get("include"):
        order = [int(x) for x in sc.parse_list(ctx.params["include"])]
        return sorted(items, key=lambda i: order.index(i["id"]))
    return sorted(items, key=keys.get(orderby, keys["date"]), reverse=ctx.params.get("order", "desc") == "desc")


# --- products and variations ------------------------------------------------------------------------------------------
def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _new_item(ctx: Ctx, kind: str, parent_id: int = 0) -> dict:
    now = ctx.now()
    return {
        "id": next(ctx.store.post_ids),
        "name": "",
        "slug": "",
        "type": kind,
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": "",
        "global_unique_id": "",
        "regular_price": "",
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "total_sales": 0,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "backorders": "no",
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": True,
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0",
        "rating_count": 0,
        "related_ids": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": parent_id,
        "purchase_note": "",
        "categories": [],
        "brands": [],
        "tags": [],
        "images": [],
        "image": None,
        "attributes": [],
        "default_attributes": [],
        "variations": [],
        "grouped_products": [],
        "menu_order": 0,
        "meta_data": [],
        "_created": now,
        "_modified": now,
    }


SPECIAL = {"sku", "type", "attributes", "meta_data", "images", "image", "manage_stock", "stock_quantity", "backorders"}
# get_post_status_object() knows these; any other status becomes "draft" (prepare_object_for_database). Only batch
# items can carry one: WordPress validated everything else against the enum already.
POST_STATUSES = {"publish", "future", "draft", "pending", "private", "trash", "auto-draft", "inherit"}


def _intval(value) -> int:
    """PHP's intval for what a batch item may carry unvalidated: leading digits, else 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    found = re.match(r"\s*[+-]?\d+", str(value)) if isinstance(value, str) else None
    return int(found.group()) if found else 0


def _apply_meta(item: dict, entries: list, ctx: Ctx) -> None:
    for entry in entries or []:
        if not isinstance(entry, dict) or "key" not in entry:
            continue
        existing = next(
            (m for m in item["meta_data"] if (entry.get("id") and m["id"] == entry["id"]) or m["key"] == entry["key"]),
            None,
        )
        if existing:
            existing["value"] = entry.get("value")
        else:
            item["meta_data"].append(
                {"id": next(ctx.store.note_ids) + 1000, "key": entry["key"], "value": entry.get("value")}
            )


def _check_sku(store: Store, item: dict, sku: str) -> None:
    if not sku:
        return  # an empty SKU is allowed and never checked
    holder = store.by_sku(sku)
    if holder and holder["id"] != item["id"]:
        raise WPError(
            "product_invalid_sku", "Invalid or duplicated SKU.", 400, resource_id=holder["id"], unique_sku=f"{sku}-1"
        )


def _apply_item(ctx: Ctx, item: dict, params: dict, spec: dict, variation: bool) -> None:
    if "sku" in params:
        _check_sku(ctx.store, item, params["sku"])
        item["sku"] = params["sku"]
    for key, value in params.items():
        if key in spec and not spec[key].get("readonly") and key not in SPECIAL and key in item:
            if spec[key].get("type") == "boolean":
                value = sc.to_bool(value)
            elif spec[key].get("type") == "integer":
                value = _intval(value)
            elif key == "status" and value not in POST_STATUSES:
                value = "draft"
            elif key == "stock_status" and value not in sc.STOCK_STATUSES:
                value = "instock"  # WC_Product::set_stock_status
            item[key] = value
    if "name" in params and not item["slug"] and not variation:
        item["slug"] = _slug(params["name"])
    if "type" in params and not variation:
        item["type"] = params["type"]
    # Product-level stock fields only apply with the store's "Manage stock" option on; variations always.
    if variation or ctx.store.manage_stock:
        if "manage_stock" in params:
            item["manage_stock"] = sc.to_bool(params["manage_stock"])
        if "backorders" in params:
            item["backorders"] = params["backorders"]
        if item["manage_stock"] is True:
            if params.get("stock_quantity") is not None:
                item["stock_quantity"] = _intval(params["stock_quantity"])
        else:
            item["stock_quantity"] = None
    if "meta_data" in params:
        _apply_meta(item, params["meta_data"], ctx)
    if "images" in params and not variation:
        item["images"] = [_image(ctx, i) for i in params["images"] or []]
    if "image" in params and variation:
        item["image"] = _image(ctx, params["image"]) if params["image"] else None
    if "attributes" in params:
        if variation:
            item["attributes"] = _variation_attributes(ctx.store.products[item["parent_id"]], params["attributes"])
        else:
            item["attributes"] = [
                {
                    "id": int(a.get("id") or 0),
                    "name": a.get("name", ""),
                    "slug": _slug(a.get("name", "")),
                    "position": int(a.get("position", n)),
                    "visible": sc.to_bool(a.get("visible", False)),
                    "variation": sc.to_bool(a.get("variation", False)),
                    "options": list(a.get("options") or []),
                }
                for n, a in enumerate(params["attributes"] or [])
            ]
    touch(ctx.sandbox, item)


def _image(ctx: Ctx, image: dict) -> dict:
    image_id = int(image.get("id") or 0) or next(ctx.store.post_ids)
    return {"id": image_id, "src": image.get("src", ""), "name": image.get("name", ""), "alt": image.get("alt", "")}


def _variation_attributes(parent: dict, wanted: list) -> list:
    """Attributes the parent does not declare with variation=true are silently dropped."""
    out = []
    for attr in wanted or []:
        match = next(
            (
                p
                for p in parent["attributes"]
                if p["variation"]
                and (
                    (attr.get("id") and p["id"] == int(attr["id"]))
                    or p["name"].lower() == str(attr.get("name", "")).lower()
                )
            ),
            None,
        )
        if match:
            out.append({"id": match["id"], "name": match["name"], "option": attr.get("option", "")})
    return out


def _product(ctx: Ctx, product_id: int, method: str) -> dict:
    item = ctx.store.products.get(product_id)
    if item is None or (item["status"] == "trash" and method == "PUT"):
        raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400 if method in EDITABLE else 404)
    return item


def _variation(ctx: Ctx, product_id: int, variation_id: int, method: str) -> dict:
    item = ctx.store.products.get(variation_id)
    if item is None or item["type"] != "variation" or item["parent_id"] != product_id:
        status = 400 if method in EDITABLE else 404
        raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", status)
    return item


def product_list(ctx: Ctx):
    """GET /products: filters, ordering and pagination."""
    items = list(ctx.store.products.values())
    params = ctx.params
    if params.get("sku"):
        wanted = set(params["sku"].split(",")) | {params["sku"]}
        items = [i for i in items if i["sku"] in wanted]
    elif params.get("search_sku"):
        items = [i for i in items if params["search_sku"].lower() in i["sku"].lower()]
    else:
        items = [i for i in items if i["type"] != "variation"]
    status = params.get("status", "any")
    items = [i for i in items if i["status"] == status or (status == "any" and i["status"] != "trash")]
    for key in ("type", "slug"):
        if params.get(key):
            items = [i for i in items if i[key] == params[key]]
    if params.get("stock_status"):
        items = [i for i in items if stock_status(i) == params["stock_status"]]
    if params.get("search"):
        term = params["search"].lower()
        items = [i for i in items if term in (i["name"] + i["description"] + i["short_description"]).lower()]
    if "min_stock_quantity" in params:
        items = [
            i for i in items if i["manage_stock"] is True and i["stock_quantity"] >= int(params["min_stock_quantity"])
        ]
    if params.get("parent"):
        parents = {int(x) for x in sc.parse_list(params["parent"])}
        items = [i for i in items if i["parent_id"] in parents]
    items = _sorted(ctx, _common_filters(ctx, items))
    return _page(ctx, items, "/wc/v3/products", lambda i: _product_view(ctx, i))


def _product_view(ctx: Ctx, item: dict) -> dict:
    if item["type"] == "variation":
        out = product_out(ctx.store, item)
        out.pop("image", None)
        return out
    out = product_out(ctx.store, item)
    out.pop("image", None)
    out["attributes"] = [{k: v for k, v in a.items() if k != "slug"} for a in item["attributes"]]
    return out


def product_create(ctx: Ctx):
    """POST /products (201)."""
    if ctx.params.get("id"):
        raise WPError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
    item = _new_item(ctx, ctx.params.get("type", "simple"))
    _apply_item(ctx, item, ctx.params, sc.PRODUCT, variation=False)
    ctx.store.products[item["id"]] = item
    ctx.sandbox._fire(ctx.store, "product", "created", item["id"])
    return _product_view(ctx, item), 201, {}


def product_get(ctx: Ctx, product_id: int):
    """GET /products/<id>."""
    return _fields(ctx, _product_view(ctx, _product(ctx, product_id, "GET")))


def product_update(ctx: Ctx, product_id: int):
    """PUT /products/<id>; variations must go through /variations."""
    item = _product(ctx, product_id, "PUT")
    if item["type"] == "variation":
        raise WPError(
            "woocommerce_rest_invalid_product_id",
            "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt;"
            " endpoint.",
            404,
        )
    _apply_item(ctx, item, ctx.params, sc.PRODUCT, variation=False)
    ctx.sandbox._fire(ctx.store, "product", "updated", item["id"])
    return _product_view(ctx, item)


def product_delete(ctx: Ctx, product_id: int):
    """DELETE /products/<id>: trash, or remove with force=true."""
    item = _product(ctx, product_id, "DELETE")
    out = _product_view(ctx, item)
    if sc.to_bool(ctx.params.get("force", False)):
        for child in item["variations"]:
            ctx.store.products.pop(child, None)
        ctx.store.products.pop(product_id)
        if item["type"] == "variation" and item["parent_id"] in ctx.store.products:
            ctx.store.products[item["parent_id"]]["variations"].remove(product_id)
    elif item["status"] == "trash":
        raise WPError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
    else:
        item["status"] = "trash"
        out["status"] = "trash"
    ctx.sandbox._fire(ctx.store, "product", "deleted", product_id)
    return out


def variation_list(ctx: Ctx, product_id: int):
    """GET /products/<id>/variations."""
    parent = _product(ctx, product_id, "GET")
    items = [ctx.store.products[v] for v in parent["variations"]]
    if ctx.params.get("sku"):
        items = [i for i in items if i["sku"] == ctx.params["sku"]]
    items = _sorted(ctx, _common_filters(ctx, items))
    return _page(ctx, items, f"/wc/v3/products/{product_id}/variations", lambda i: _variation_view(ctx, i))


def all_variations(ctx: Ctx):
    """GET /variations: every variation of the store (WooCommerce 10.3+)."""
    items = [i for i in ctx.store.products.values() if i["type"] == "variation"]
    items = _sorted(ctx, _common_filters(ctx, items))
    return _page(ctx, items, "/wc/v3/variations", lambda i: _variation_view(ctx, i))


def _variation_view(ctx: Ctx, item: dict) -> dict:
    out = variation_out(ctx.store, item)
    parent = ctx.store.products.get(item["parent_id"])
    if item["manage_stock"] is not True and parent and parent["manage_stock"] is True:
        out["manage_stock"] = "parent"  # stock managed by the parent product
        out["stock_quantity"] = parent["stock_quantity"]
        out["stock_status"] = stock_status(parent)
    return out


def variation_create(ctx: Ctx, product_id: int):
    """POST /products/<id>/variations (201)."""
    parent = _product(ctx, product_id, "GET")
    item = _new_item(ctx, "variation", parent_id=product_id)
    item["name"] = parent["name"]
    _apply_item(ctx, item, ctx.params, sc.VARIATION, variation=True)
    ctx.store.products[item["id"]] = item
    parent["variations"].append(item["id"])
    touch(ctx.sandbox, parent)
    ctx.sandbox._fire(ctx.store, "product", "created", item["id"])
    return _variation_view(ctx, item), 201, {}


def variation_get(ctx: Ctx, product_id: int, variation_id: int):
    """GET /products/<id>/variations/<vid>."""
    return _fields(ctx, _variation_view(ctx, _variation(ctx, product_id, variation_id, "GET")))


def variation_update(ctx: Ctx, product_id: int, variation_id: int):
    """PUT /products/<id>/variations/<vid>."""
    item = _variation(ctx, product_id, variation_id, "PUT")
    _apply_item(ctx, item, ctx.params, sc.VARIATION, variation=True)
    ctx.sandbox._fire(ctx.store, "product", "updated", item["id"])
    return _variation_view(ctx, item)


def variation_delete(ctx: Ctx, product_id: int, variation_id: int):
    """DELETE /products/<id>/variations/<vid> (force=true required)."""
    item = _variation(ctx, product_id, variation_id, "DELETE")
    out = _variation_view(ctx, item)
    if not sc.to_bool(ctx.params.get("force", False)):
        raise WPError("woocommerce_rest_trash_not_supported", "Variations do not support trashing.", 501)
    ctx.store.products.pop(variation_id)
    ctx.store.products[product_id]["variations"].remove(variation_id)
    ctx.sandbox._fire(ctx.store, "product", "deleted", variation_id)
    return out


def _batch(ctx: Ctx, create, update, delete, *route_ids):
    """create/update/delete lists; 100 items in total at most; 200 with per-item errors.

    WC_REST_Controller::batch_items hands each item to create_item/update_item as a new request that WordPress never
    validates against the endpoint args: a batch item is not refused with rest_invalid_param, its values go to the
    controller as sent (an unknown status becomes "draft", an unknown stock_status "instock", numbers intval)."""
    params = ctx.params
    total = sum(len(params.get(k) or []) for k in ("create", "update", "delete"))
    if total > BATCH_LIMIT:
        raise WPError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )
    out: dict = {}

    def run(kind, item, fn):
        sub = Ctx(ctx.sandbox, ctx.store, ctx.request, item if isinstance(item, dict) else {}, ctx.site)
        try:
            result = fn(sub)
            return result[0] if isinstance(result, tuple) else result
        except WPError as err:
            error = {"code": err.code, "message": err.message, "data": {"status": err.status, **err.data}}
            item_id = 0 if kind == "create" else (item.get("id", 0) if isinstance(item, dict) else item)
            return {"id": item_id, "error": error}

    for item in params.get("create") or []:
        out.setdefault("create", []).append(run("create", item, lambda sub: create(sub, *route_ids)))
    for item in params.get("update") or []:
        item_id = int(item.get("id") or 0) if isinstance(item, dict) else 0
        out.setdefault("update", []).append(run("update", item, lambda sub, i=item_id: update(sub, *route_ids, i)))
    for item_id in params.get("delete") or []:
        sub_params = {"force": True}  # batch deletes are permanent
        out.setdefault("delete", []).append(
            run("delete", sub_params, lambda sub, i=int(item_id): delete(sub, *route_ids, i))
        )
    return out


def product_batch(ctx: Ctx):
    """POST /products/batch."""
    return _batch(ctx, product_create, product_update, product_delete)


def variation_batch(ctx: Ctx, product_id: int):
    """POST /products/<id>/variations/batch."""
    _product(ctx, product_id, "GET")
    return _batch(ctx, variation_create, variation_update, variation_delete, product_id)


# --- orders -----------------------------------------------------------------------------------------------------------
def _address(fields, given: dict | None, base: dict | None = None) -> dict:
    out = dict(base or {f: "" for f in fields})
    for key, value in (given or {}).items():
        if key in out:
            out[key] = value
    return out


BILLING_FIELDS = (*sc.ADDRESS_FIELDS, "country", "email", "phone")
SHIPPING_FIELDS = (*sc.ADDRESS_FIELDS, "country", "phone")


def _order(ctx: Ctx, order_id: int, method: str) -> dict:
    order = ctx.store.orders.get(order_id)
    if order is None:
        raise WPError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400 if method in EDITABLE else 404)
    return order


def _line_item(ctx: Ctx, order: dict, given: dict) -> dict:
    product = None
    if given.get("variation_id"):
        product = ctx.store.products.get(int(given["variation_id"]))
    elif given.get("product_id"):
        product = ctx.store.products.get(int(given["product_id"]))
    elif given.get("sku"):
        product = ctx.store.by_sku(given["sku"])
    else:
        raise WPError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
    if product is None:
        raise WPError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
    quantity = int(given.get("quantity", 1))
    unit = Decimal(active_price_of(ctx.store, product) or "0")
    subtotal = Decimal(given["subtotal"]) if given.get("subtotal") else unit * quantity
    total = Decimal(given["total"]) if given.get("total") else subtotal
    is_variation = product["type"] == "variation"
    item = {
        "id": next(ctx.store.note_ids) + 5000,
        "name": given.get("name") or product["name"],
        "product_id": product["parent_id"] if is_variation else product["id"],
        "variation_id": product["id"] if is_variation else 0,
        "quantity": quantity,
        "tax_class": "",
        "subtotal": money(subtotal),
        "subtotal_tax": "0.00",
        "total": money(total),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [],
        "sku": product["sku"],
        "price": float(total / quantity) if quantity else 0.0,
        "image": {"id": "", "src": ""},
        "parent_name": ctx.store.products[product["parent_id"]]["name"] if is_variation else None,
    }
    _apply_meta(item, given.get("meta_data"), ctx)
    return item


def active_price_of(store: Store, product: dict) -> str:
    """The price an order line is charged: sale price if set, else regular price."""
    return product.get("sale_price") or product.get("regular_price") or ""


def _totals(order: dict) -> None:
    lines = sum(Decimal(i["total"]) for i in order["line_items"])
    shipping = sum(Decimal(s["total"] or 0) for s in order["shipping_lines"])
    fees = sum(Decimal(f["total"] or 0) for f in order["fee_lines"])
    order["shipping_total"] = money(shipping)
    order["total"] = money(lines + shipping + fees)


def _stock_item(store: Store, line: dict) -> dict | None:
    item = store.products.get(line["variation_id"] or line["product_id"])
    if item and item["type"] == "variation" and item["manage_stock"] is not True:
        item = store.products.get(item["parent_id"])
    return item if item and item["manage_stock"] is True else None


def _set_status(ctx: Ctx, order: dict, status: str) -> None:
    """Status transitions move stock like wc_maybe_reduce/increase_stock_levels."""
    order["status"] = status
    if not ctx.store.manage_stock:
        return
    reduce = status in ("processing", "completed", "on-hold") and not order["_stock_reduced"]
    restore = status in ("cancelled", "pending") and order["_stock_reduced"]
    if reduce or restore:
        for line in order["line_items"]:
            item = _stock_item(ctx.store, line)
            if item is not None:
                item["stock_quantity"] += -line["quantity"] if reduce else line["quantity"]
                touch(ctx.sandbox, item)
        order["_stock_reduced"] = reduce


def _stamp_order(ctx: Ctx, order: dict) -> None:
    touch(ctx.sandbox, order)
    order["date_modified"], order["date_modified_gmt"] = dates(ctx.store, order["_modified"])


def order_create(ctx: Ctx):
    """POST /orders (201): items, totals, meta_data, set_paid, status."""
    params, now = ctx.params, ctx.now()
    order_id = next(ctx.store.order_ids)
    created = dates(ctx.store, now)
    order = {
        "id": order_id,
        "parent_id": int(params.get("parent_id", 0)),
        "status": "pending",
        "currency": params.get("currency", ctx.store.currency),
        "version": WC_VERSION,
        "prices_include_tax": False,
        "date_created": created[0],
        "date_created_gmt": created[1],
        "date_modified": created[0],
        "date_modified_gmt": created[1],
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": "0.00",
        "total_tax": "0.00",
        "customer_id": int(params.get("customer_id", 0)),
        "order_key": "wc_order_" + secrets.token_hex(6),
        "billing": _address(BILLING_FIELDS, params.get("billing")),
        "shipping": _address(SHIPPING_FIELDS, params.get("shipping")),
        "payment_method": params.get("payment_method", ""),
        "payment_method_title": params.get("payment_method_title", ""),
        "transaction_id": params.get("transaction_id", ""),
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": "rest-api",
        "customer_note": params.get("customer_note", ""),
        "date_completed": None,
        "date_paid": None,
        "cart_hash": "",
        "number": str(order_id),
        "meta_data": [],
        "line_items": [],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "_created": now,
        "_modified": now,
        "_stock_reduced": False,
    }
    order["line_items"] = [_line_item(ctx, order, li) for li in params.get("line_items") or []]
    order["shipping_lines"] = [
        {
            "id": next(ctx.store.note_ids) + 5000,
            "method_title": s.get("method_title", ""),
            "method_id": s.get("method_id", ""),
            "instance_id": "",
            "total": money(s.get("total", 0)),
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
        }
        for s in params.get("shipping_lines") or []
    ]
    order["fee_lines"] = [
        {"id": next(ctx.store.note_ids) + 5000, "name": f.get("name", ""), "total": money(f.get("total", 0))}
        for f in params.get("fee_lines") or []
    ]
    _apply_meta(order, params.get("meta_data"), ctx)
    _totals(order)
    ctx.store.orders[order_id] = order
    status = params.get("status", "pending")
    if sc.to_bool(params.get("set_paid", False)):
        order["date_paid"], order["date_paid_gmt"] = dates(ctx.store, now)
        status = "processing" if status == "pending" else status
    _set_status(ctx, order, status)
    ctx.sandbox._fire(ctx.store, "order", "created", order_id)
    return order_out(ctx.store, order), 201, {}


def order_list(ctx: Ctx):
    """GET /orders: status array, customer, product, search, dates."""
    items = list(ctx.store.orders.values())
    statuses = sc.parse_list(ctx.params.get("status", "any"))
    if "any" in statuses:
        items = [o for o in items if o["status"] not in ("trash", "checkout-draft")]
    else:
        items = [o for o in items if o["status"] in statuses]
    if "customer" in ctx.params:
        items = [o for o in items if o["customer_id"] == int(ctx.params["customer"])]
    if ctx.params.get("product"):
        pid = int(ctx.params["product"])
        items = [o for o in items if any(pid in (li["product_id"], li["variation_id"]) for li in o["line_items"])]
    if ctx.params.get("search"):
        items = [o for o in items if _order_matches(o, ctx.params["search"])]
    items = _sorted(ctx, _common_filters(ctx, items), title_key="number")
    return _page(ctx, items, "/wc/v3/orders", lambda o: order_out(ctx.store, o))


def _order_matches(order: dict, term: str) -> bool:
    """Order search covers the id, address fields and item names; not meta_data (there is no meta filter)."""
    term = term.lower().strip()
    haystack = [str(order["id"])]
    haystack += [str(v) for v in order["billing"].values()] + [str(v) for v in order["shipping"].values()]
    haystack += [li["name"] for li in order["line_items"]]
    return any(term in h.lower() for h in haystack)


def order_get(ctx: Ctx, order_id: int):
    """GET /orders/<id>."""
    return _fields(ctx, order_out(ctx.store, _order(ctx, order_id, "GET")))


def order_update(ctx: Ctx, order_id: int):
    """PUT /orders/<id>: status (stock moves), addresses, meta_data, set_paid."""
    order, params = _order(ctx, order_id, "PUT"), ctx.params
    for key in ("customer_note", "payment_method", "payment_method_title", "transaction_id", "currency"):
        if key in params:
            order[key] = params[key]
    if "billing" in params:
        order["billing"] = _address(BILLING_FIELDS, params["billing"], order["billing"])
    if "shipping" in params:
        order["shipping"] = _address(SHIPPING_FIELDS, params["shipping"], order["shipping"])
    _apply_meta(order, params.get("meta_data"), ctx)
    status = params.get("status", order["status"])
    if sc.to_bool(params.get("set_paid", False)) and not order["date_paid"]:
        order["date_paid"], order["date_paid_gmt"] = dates(ctx.store, ctx.now())
        status = "processing" if status == "pending" else status
    if status == "completed" and order["status"] != "completed":
        order["date_completed"], order["date_completed_gmt"] = dates(ctx.store, ctx.now())
    _set_status(ctx, order, status)
    _stamp_order(ctx, order)
    ctx.sandbox._fire(ctx.store, "order", "updated", order_id)
    return order_out(ctx.store, order)


def order_delete(ctx: Ctx, order_id: int):
    """DELETE /orders/<id>: trash, or remove with force=true."""
    order = _order(ctx, order_id, "DELETE")
    out = order_out(ctx.store, order)
    if sc.to_bool(ctx.params.get("force", False)):
        ctx.store.orders.pop(order_id)
    elif order["status"] == "trash":
        raise WPError("woocommerce_rest_already_trashed", "The order has already been deleted.", 410)
    else:
        order["status"] = out["status"] = "trash"
    ctx.sandbox._fire(ctx.store, "order", "deleted", order_id)
    return out


def _note_out(note: dict) -> dict:
    return {k: v for k, v in note.items() if not k.startswith("_")}


def note_list(ctx: Ctx, order_id: int):
    """GET /orders/<id>/notes (newest first; type=any|customer|internal)."""
    _order(ctx, order_id, "GET")
    notes = ctx.store.notes.get(order_id, [])
    kind = ctx.params.get("type", "any")
    if kind == "customer":
        notes = [n for n in notes if n["customer_note"]]
    elif kind == "internal":
        notes = [n for n in notes if not n["customer_note"]]
    return [_note_out(n) for n in sorted(notes, key=lambda n: n["id"], reverse=True)]


def note_create(ctx: Ctx, order_id: int):
    """POST /orders/<id>/notes (201)."""
    _order(ctx, order_id, "GET")
    created = dates(ctx.store, ctx.now())
    by_user = sc.to_bool(ctx.params.get("added_by_user", False))
    note = {
        "id": next(ctx.store.note_ids),
        "author": "admin" if by_user else "system",
        "date_created": created[0],
        "date_created_gmt": created[1],
        "note": ctx.params["note"],
        "customer_note": sc.to_bool(ctx.params.get("customer_note", False)),
    }
    ctx.store.notes.setdefault(order_id, []).append(note)
    return _note_out(note), 201, {}


def _note(ctx: Ctx, order_id: int, note_id: int) -> dict:
    _order(ctx, order_id, "GET")
    note = next((n for n in ctx.store.notes.get(order_id, []) if n["id"] == note_id), None)
    if note is None:
        raise WPError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
    return note


def note_get(ctx: Ctx, order_id: int, note_id: int):
    """GET /orders/<id>/notes/<nid>."""
    return _note_out(_note(ctx, order_id, note_id))


def note_delete(ctx: Ctx, order_id: int, note_id: int):
    """DELETE /orders/<id>/notes/<nid> (force=true required)."""
    note = _note(ctx, order_id, note_id)
    if not sc.to_bool(ctx.params.get("force", False)):
        raise WPError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
    ctx.store.notes[order_id].remove(note)
    return _note_out(note)


# --- webhooks ---------------------------------------------------------------------------------------------------------
def _webhook_out(ctx: Ctx, hook: dict) -> dict:
    out = {k: v for k, v in hook.items() if not k.startswith("_") and k not in ("secret", "failure_count")}
    created, modified = dates(ctx.store, hook["_created"]), dates(ctx.store, hook["_modified"])
    out.update(date_created=created[0], date_created_gmt=created[1], date_modified=modified[0])
    out["date_modified_gmt"] = modified[1]
    if ctx.params.get("context") == "edit":
        out["secret"] = hook["secret"]
    return out


def _check_webhook(params: dict, creating: bool) -> None:
    """create_item/update_item (V1 controller): on update only non-empty values are checked and applied."""
    if (creating or params.get("topic")) and not valid_topic(str(params.get("topic", "")).lower()):
        message = "Webhook topic is required and must be valid." if creating else "Webhook topic must be valid."
        raise WPError("woocommerce_rest_shop_webhook_invalid_topic", message, 400)
    if (creating or params.get("delivery_url")) and not re.match(r"^https?://", str(params.get("delivery_url", ""))):
        raise WPError(
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )


def _set_topic(hook: dict, topic: str) -> None:
    resource, _, event = topic.partition(".")
    hook.update(topic=topic, resource=resource, event=event, hooks=[f"woocommerce_{event}_{resource}"])


def webhook_create(ctx: Ctx):
    """POST /webhooks (201), then the unsigned creation ping."""
    _check_webhook(ctx.params, creating=True)
    now = ctx.now()
    alphabet = string.ascii_letters + string.digits
    hook = {
        "id": next(ctx.store.webhook_ids),
        "name": ctx.params.get("name") or f"Webhook created on {dates(ctx.store, now)[0]}",
        "status": "active",  # create_item: the new post is "publish", so the hook is active whatever was sent
        "delivery_url": ctx.params["delivery_url"],
        "secret": ctx.params.get("secret") or "".join(secrets.choice(alphabet) for _ in range(50)),
        "failure_count": 0,
        "_created": now,
        "_modified": now,
    }
    _set_topic(hook, ctx.params["topic"])
    ctx.store.webhooks[hook["id"]] = hook
    ctx.sandbox.ping(hook)
    return _webhook_out(ctx, hook), 201, {}


def _webhook(ctx: Ctx, hook_id: int, method: str) -> dict:
    """GET and PUT answer prepare_item_for_response's 400 "ID is invalid."; DELETE its own 404 "Invalid ID."."""
    hook = ctx.store.webhooks.get(hook_id)
    if hook is None:
        if method == "DELETE":
            raise WPError("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        raise WPError("woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.", 400)
    return hook


def webhook_list(ctx: Ctx):
    """GET /webhooks."""
    hooks = list(ctx.store.webhooks.values())
    status = ctx.params.get("status", "all")
    if status != "all":
        hooks = [h for h in hooks if h["status"] == status]
    hooks = _sorted(ctx, _common_filters(ctx, hooks))
    return _page(ctx, hooks, "/wc/v3/webhooks", lambda h: _webhook_out(ctx, h))


def webhook_get(ctx: Ctx, hook_id: int):
    """GET /webhooks/<id>."""
    return _webhook_out(ctx, _webhook(ctx, hook_id, "GET"))


def webhook_update(ctx: Ctx, hook_id: int):
    """PUT /webhooks/<id> (re-activating keeps failure_count)."""
    hook = _webhook(ctx, hook_id, "PUT")
    _check_webhook(ctx.params, creating=False)
    for key in ("name", "status", "delivery_url", "secret"):
        if ctx.params.get(key):
            hook[key] = ctx.params[key]
    if ctx.params.get("topic"):
        _set_topic(hook, ctx.params["topic"])
    hook["_modified"] = ctx.now()
    return _webhook_out(ctx, hook)


def webhook_delete(ctx: Ctx, hook_id: int):
    """DELETE /webhooks/<id> (force=true required)."""
    if not sc.to_bool(ctx.params.get("force", False)):  # checked before the id, as delete_item does
        raise WPError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
    hook = _webhook(ctx, hook_id, "DELETE")
    ctx.store.webhooks.pop(hook_id)
    return _webhook_out(ctx, hook)


# --- Shipment Tracking extension --------------------------------------------------------------------------------------
TRACKING_META = "_wc_shipment_tracking_items"


def _tracking_order(ctx: Ctx, order_id: int) -> dict:
    order = ctx.store.orders.get(order_id)
    if order is None:
        raise WPError("woocommerce_rest_order_invalid_id", "Order ID is invalid.", 404)
    return order


def _tracking_items(order: dict) -> list:
    meta = next((m for m in order["meta_data"] if m["key"] == TRACKING_META), None)
    return meta["value"] if meta else []


def _tracking_out(ctx: Ctx, item: dict) -> dict:
    provider = TRACKING_PROVIDERS.get(item["tracking_provider"])
    link = provider[1].replace("%1$s", item["tracking_number"]) if provider else item["custom_tracking_link"]
    shipped = time.strftime("%Y-%m-%d", time.gmtime(int(item["date_shipped"])))
    return {
        "tracking_id": item["tracking_id"],
        "tracking_provider": provider[0] if provider else item["custom_tracking_provider"],
        "tracking_link": link,
        "tracking_number": item["tracking_number"],
        "date_shipped": shipped,
    }


def tracking_list(ctx: Ctx, order_id: int):
    """GET .../orders/<id>/shipment-trackings."""
    return [_tracking_out(ctx, i) for i in _tracking_items(_tracking_order(ctx, order_id))]


def tracking_create(ctx: Ctx, order_id: int):
    """POST .../orders/<id>/shipment-trackings (201)."""
    order, params = _tracking_order(ctx, order_id), ctx.params
    shipped = params.get("date_shipped")
    stamp = int(time.mktime(time.strptime(shipped, "%Y-%m-%d"))) if shipped else int(ctx.now())
    item = {
        "tracking_provider": _slug(params.get("tracking_provider", "")),
        "custom_tracking_provider": params.get("custom_tracking_provider", ""),
        "custom_tracking_link": params.get("custom_tracking_link", ""),
        "tracking_number": params["tracking_number"],
        "date_shipped": str(stamp),
        "tracking_id": secrets.token_hex(16),
    }
    items = [*_tracking_items(order), item]
    _apply_meta(order, [{"key": TRACKING_META, "value": items}], ctx)
    _stamp_order(ctx, order)
    ctx.sandbox._fire(ctx.store, "order", "updated", order_id)
    return _tracking_out(ctx, item), 201, {}


def tracking_get(ctx: Ctx, order_id: int, tracking_id: str):
    """GET .../orders/<id>/shipment-trackings/<tracking_id>."""
    item = next((i for i in _tracking_items(_tracking_order(ctx, order_id)) if i["tracking_id"] == tracking_id), None)
    if item is None:
        raise WPError("woocommerce_rest_order_invalid_id", "Invalid tracking ID.", 404)
    return _tracking_out(ctx, item)


def tracking_delete(ctx: Ctx, order_id: int, tracking_id: str):
    """DELETE .../orders/<id>/shipment-trackings/<tracking_id>."""
    order = _tracking_order(ctx, order_id)
    items = _tracking_items(order)
    kept = [i for i in items if i["tracking_id"] != tracking_id]
    if len(kept) == len(items):
        raise WPError("woocommerce_rest_cannot_delete_tracking", "Unable to delete shipment tracking item.", 500)
    _apply_meta(order, [{"key": TRACKING_META, "value": kept}], ctx)
    _stamp_order(ctx, order)
    ctx.sandbox._fire(ctx.store, "order", "updated", order_id)
    return {"message": "Successfully deleted shipment tracking item."}


def tracking_providers(ctx: Ctx):
    """GET .../shipment-trackings/providers."""
    return {"United States": {name: link for name, link in TRACKING_PROVIDERS.values()}}


def system_status(ctx: Ctx):
    """GET /system_status: versions, currency, active plugins."""
    plugins = [{"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce", "version": WC_VERSION}]
    if ctx.store.shipment_tracking:
        plugins.append({"plugin": "woocommerce-shipment-tracking/woocommerce-shipment-tracking.php"})
    return {
        "environment": {"home_url": ctx.site, "site_url": ctx.site, "version": WC_VERSION, "wp_version": "6.9"},
        "settings": {"api_enabled": True, "currency": ctx.store.currency, "manage_stock": ctx.store.manage_stock},
        "active_plugins": plugins,
    }


# --- route table: pattern -> {method: (handler, permission action, argument schema)} ----------------------------------
P = r"(\d+)"
PRODUCT_ARGS = {**sc.PRODUCT, **sc.FORCE}
ROUTES = [
    ("/wc/v3/system_status", {"GET": (system_status, "view", {})}),
    (
        "/wc/v3/products",
        {"GET": (product_list, "list", sc.PRODUCT_COLLECTION), "POST": (product_create, "create", sc.PRODUCT)},
    ),
    ("/wc/v3/products/batch", {m: (product_batch, "batch", {}) for m in EDITABLE}),
    (
        f"/wc/v3/products/{P}",
        {
            "GET": (product_get, "view", {}),
            **{m: (product_update, "edit", sc.PRODUCT) for m in EDITABLE},
            "DELETE": (product_delete, "delete", sc.FORCE),
        },
    ),
    ("/wc/v3/variations", {"GET": (all_variations, "list", sc.COLLECTION)}),
    (
        f"/wc/v3/products/{P}/variations",
        {"GET": (variation_list, "list", sc.COLLECTION), "POST": (variation_create, "create", sc.VARIATION)},
    ),
    (f"/wc/v3/products/{P}/variations/batch", {m: (variation_batch, "batch", {}) for m in EDITABLE}),
    (
        f"/wc/v3/products/{P}/variations/{P}",
        {
            "GET": (variation_get, "view", {}),
            **{m: (variation_update, "edit", sc.VARIATION) for m in EDITABLE},
            "DELETE": (variation_delete, "delete", sc.FORCE),
        },
    ),
    ("/wc/v3/orders", {"GET": (order_list, "list", sc.ORDER_COLLECTION), "POST": (order_create, "create", sc.ORDER)}),
    (
        f"/wc/v3/orders/{P}",
        {
            "GET": (order_get, "view", {}),
            **{m: (order_update, "edit", sc.ORDER) for m in EDITABLE},
            "DELETE": (order_delete, "delete", sc.FORCE),
        },
    ),
    (
        f"/wc/v3/orders/{P}/notes",
        {"GET": (note_list, "list", sc.NOTE_COLLECTION), "POST": (note_create, "create", sc.ORDER_NOTE)},
    ),
    (
        f"/wc/v3/orders/{P}/notes/{P}",
        {"GET": (note_get, "view", {}), "DELETE": (note_delete, "delete", sc.FORCE)},
    ),
    (
        "/wc/v3/webhooks",
        {"GET": (webhook_list, "list", sc.WEBHOOK_COLLECTION), "POST": (webhook_create, "create", sc.WEBHOOK_CREATE)},
    ),
    (
        f"/wc/v3/webhooks/{P}",
        {
            "GET": (webhook_get, "view", {}),
            **{m: (webhook_update, "edit", sc.WEBHOOK) for m in EDITABLE},
            "DELETE": (webhook_delete, "delete", sc.FORCE),
        },
    ),
    (
        f"/wc-shipment-tracking/v3/orders/{P}/shipment-trackings",
        {"GET": (tracking_list, "list", {}), "POST": (tracking_create, "create", sc.TRACKING)},
    ),
    (
        rf"/wc-shipment-tracking/v3/orders/{P}/shipment-trackings/([\w]+)",
        {"GET": (tracking_get, "view", {}), "DELETE": (tracking_delete, "delete", {})},
    ),
    ("/wc-shipment-tracking/v3/shipment-trackings/providers", {"GET": (tracking_providers, "list", {})}),
]


# --- application authentication (/wc-auth/v1) -------------------------------------------------------------------------
AUTH_PARAMS = ("app_name", "user_id", "return_url", "callback_url", "scope")


def _auth_error(message: str) -> Response:
    page = f"<!DOCTYPE html><title>Access denied</title><p>Error: {html.escape(message)}.</p>"
    return Response(page, 401, content_type="text/html; charset=UTF-8")


def _auth_validate(sandbox, args) -> str | None:
    for param in AUTH_PARAMS:
        if not args.get(param):
            return f"Missing parameter {param}"
    if args["scope"] not in ("read", "write", "read_write"):
        return f"Invalid scope {args['scope']}"
    for param in ("return_url", "callback_url"):
        parts = urlsplit(args[param])
        if not parts.scheme or not parts.netloc:
            return f"The {args[param]} is not a valid URL"
    if not args["callback_url"].lower().startswith("https://") and not sandbox.allow_http_callbacks:
        return "The callback_url needs to be over SSL"
    return None


def _with_query(url: str, **params) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def wc_auth(sandbox, store: Store, request: Request, endpoint: str, site: str) -> Response:
    """authorize shows an approve/deny page; access_granted creates the key and POSTs it to callback_url."""
    args = request.args
    problem = _auth_validate(sandbox, args)
    if problem:
        return _auth_error(problem)
    query = {p: args[p] for p in AUTH_PARAMS}
    if endpoint == "authorize":
        nonce = secrets.token_hex(8)
        store.auth_nonces.add(nonce)
        approve = f"{site}/wc-auth/v1/access_granted?{urlencode({**query, 'wc_auth_nonce': nonce})}"
        deny = f"{site}/wc-auth/v1/access_denied?{urlencode(query)}"
        page = (
            f"<!DOCTYPE html><title>{html.escape(store.name)} &rsaquo; Authorize</title>"
            f"<h1>{html.escape(args['app_name'])} would like to connect to your store</h1>"
            f"<p>This will give &ldquo;{html.escape(args['app_name'])}&rdquo; <b>{html.escape(args['scope'])}</b>"
            " access.</p>"
            f'<a class="wc-auth-approve" href="{html.escape(approve)}">Approve</a> '
            f'<a class="wc-auth-deny" href="{html.escape(deny)}">Deny</a>'
        )
        return Response(page, 200, content_type="text/html; charset=UTF-8")
    if endpoint == "access_denied":
        return Response("", 302, {"Location": _with_query(args["return_url"], success=0, user_id=args["user_id"])})
    if endpoint == "access_granted":
        if args.get("wc_auth_nonce") not in store.auth_nonces:
            return _auth_error("Invalid nonce. Please try again")
        store.auth_nonces.discard(args["wc_auth_nonce"])
        consumer_key, consumer_secret = new_key_pair()
        key = sandbox.issue_key(store.name, args["scope"], consumer_key=consumer_key, consumer_secret=consumer_secret)
        key.description = f"{args['app_name']} - API ({time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(sandbox.now()))})"
        payload = {
            "key_id": key.key_id,
            "user_id": args["user_id"],
            "consumer_key": key.consumer_key,
            "consumer_secret": key.consumer_secret,
            "key_permissions": key.permissions,
        }
        body = json.dumps(payload).encode()
        # The app's callback usually calls the store back to check the key: WordPress serves that concurrently, so
        # the sandbox's state lock is not held while waiting for the answer.
        sandbox._lock.release()
        try:
            status = sandbox.send(args["callback_url"], {"Content-Type": JSON_CALLBACK}, body)
        except Exception:  # a transport error is treated like a non-200 answer
            status = None
        finally:
            sandbox._lock.acquire()
        sandbox.deliveries.append(Delivery(0, args["callback_url"], {"Content-Type": JSON_CALLBACK}, body, status))
        if status != 200:
            store.keys.pop(key.consumer_key, None)  # the key is revoked when the app did not take it
            return _auth_error("An error occurred in the request and at the time were unable to send the consumer data")
        return Response("", 302, {"Location": _with_query(args["return_url"], success=1, user_id=args["user_id"])})
    return Response("<h1>Not Found</h1>", 404, content_type="text/html")


# --- control API ------------------------------------------------------------------------------------------------------
def control(sandbox, request: Request, path: str) -> Response:
    """/_sandbox/stores (POST), /_sandbox/stores/<s> (GET), .../stock, .../faults, /_sandbox/deliver (POST)."""
    body = request.get_json(silent=True) or {}
    parts = [p for p in path.split("/") if p]
    with sandbox._lock:
        if parts == ["stores"] and request.method == "POST":
            options = {k: body[k] for k in ("ssl", "manage_stock", "shipment_tracking", "currency") if k in body}
            sandbox.add_store(body["store"], **options)
            key = sandbox.issue_key(
                body["store"],
                body.get("permissions", "read_write"),
                consumer_key=body.get("consumer_key"),
                consumer_secret=body.get("consumer_secret"),
            )
            return _json(
                {"store": body["store"], "consumer_key": key.consumer_key, "consumer_secret": key.consumer_secret}
            )
        if parts == ["deliver"] and request.method == "POST":
            return _json({"delivered": sandbox.deliver_webhooks()})
        if len(parts) >= 2 and parts[0] == "stores" and parts[1] in sandbox.stores:
            store = sandbox.stores[parts[1]]
            if len(parts) == 2 and request.method == "GET":
                return _json(
                    {
                        "store": store.name,
                        "products": len(store.products),
                        "orders": len(store.orders),
                        "webhooks": len(store.webhooks),
                        "stock": {p["sku"]: p["stock_quantity"] for p in store.products.values() if p["sku"]},
                    }
                )
            if parts[2:] == ["stock"] and request.method == "POST":
                try:
                    item = sandbox.set_stock(store.name, body["sku"], int(body["quantity"]))
                except KeyError:
                    return _json({"error": "unknown sku"}, 404)
                return _json({"id": item["id"], "stock_quantity": item["stock_quantity"]})
            if parts[2:] == ["faults"] and request.method == "POST":
                sandbox.inject(
                    store.name,
                    str(body["kind"]),
                    int(body.get("count", 1)),
                    int(body.get("retry_after", 1)),
                    float(body.get("seconds", 2.0)),
                )
                return _json({"ok": True})
    return _json({"error": "not found"}, 404)
