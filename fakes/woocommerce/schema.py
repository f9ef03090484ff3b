"""Endpoint argument schemas of WooCommerce REST `wc/v3`, and WordPress's rules for validating request values.

Read from WooCommerce's source (woocommerce/woocommerce, plugins/woocommerce/includes/rest-api/Controllers/; no code
copied), file and commit per schema:
- products: Version3/class-wc-rest-products-controller.php get_item_schema/get_collection_params (e9d8453f),
  collection params of Version3/class-wc-rest-crud-controller.php.
- product variations: Version3/class-wc-rest-product-variations-controller.php get_item_schema (50b6b3ae);
  routes from Version2/class-wc-rest-product-variations-v2-controller.php register_routes (88902259).
- orders: Version2/class-wc-rest-orders-v2-controller.php get_item_schema/get_collection_params/register_routes
  (b326ba12) with Version3/class-wc-rest-orders-controller.php (0379e4ee: status collection param an array,
  coupon_lines[].discount read-only).
- order notes: Version3/class-wc-rest-order-notes-controller.php get_item_schema (51a62bf2),
  Version2/class-wc-rest-order-notes-v2-controller.php get_collection_params (9b5f9270),
  Version1/class-wc-rest-order-notes-v1-controller.php register_routes (51a62bf2: `note` required on create).
- webhooks: Version2/class-wc-rest-webhooks-v2-controller.php get_item_schema (51a62bf2),
  Version1/class-wc-rest-webhooks-v1-controller.php register_routes/create_item/update_item/get_collection_params
  (0b3e699b); Version3/class-wc-rest-webhooks-controller.php only changes the API version (read in the
  MathiasReker/woocommerce mirror, 270e4e76: the file is not in the stored woocommerce/woocommerce index).
- batches: Version3/class-wc-rest-controller.php batch_items (e555e3b3): items are not validated against the args.
"""

from __future__ import annotations

import re

# --- schema building blocks ----------------------------------------------------------------------------------------
S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741
N = {"type": "number"}
B = {"type": "boolean"}
DT = {"type": "date-time"}  # not a JSON-schema type: WordPress skips validation for it
DT_ARG = {"type": ["null", "string"]}  # a writable date-time property as an endpoint arg (WordPress 5.5+)
MIXED = {"type": "mixed"}
RO = {"readonly": True}


def ro(spec: dict) -> dict:
    """The same field, read-only (WordPress leaves read-only fields out of the endpoint args: ignored on write)."""
    return {**spec, **RO}


# get_woocommerce_currencies() (includes/wc-core-functions.php): the codes an order's `currency` may take.
# fmt: off
CURRENCIES = (
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTC", "BTN", "BWP", "BYR", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY",
    "COP", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
    "GBP", "GEL", "GGP", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS",
    "IMP", "INR", "IQD", "IRR", "IRT", "ISK", "JEP", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
    "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PRB", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
    "SGD", "SHP", "SLL", "SOS", "SRD", "SSP", "STN", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VEF", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF",
    "YER", "ZAR", "ZMW",
)
# fmt: on


def enum(*values: str, default: str | None = None) -> dict:
    """A string field limited to `values`."""
    return {"type": "string", "enum": list(values), **({"default": default} if default else {})}


def arr(items: dict) -> dict:
    """An array of `items`."""
    return {"type": "array", "items": items}


def obj(properties: dict) -> dict:
    """An object with `properties`."""
    return {"type": "object", "properties": properties}


META_DATA = arr(obj({"id": ro(I), "key": S, "value": MIXED}))
DIMENSIONS = obj({"length": S, "width": S, "height": S})
IMAGE = obj({"id": I, "src": S, "name": S, "alt": S})
PRODUCT_STATUSES = ("draft", "pending", "private", "publish", "future", "auto-draft", "trash")
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")

PRODUCT = {
    "id": ro(I),
    "name": S,
    "slug": S,
    "permalink": ro(S),
    "date_created": DT,
    "date_created_gmt": DT,
    "date_modified": ro(DT),
    "date_modified_gmt": ro(DT),
    "type": enum(*PRODUCT_TYPES, default="simple"),
    "status": enum(*PRODUCT_STATUSES, default="publish"),
    "featured": B,
    "catalog_visibility": enum("visible", "catalog", "search", "hidden", default="visible"),
    "description": S,
    "short_description": S,
    "sku": S,
    "global_unique_id": S,
    "price": ro(S),
    "regular_price": S,
    "sale_price": S,
    "date_on_sale_from": DT,
    "date_on_sale_from_gmt": DT,
    "date_on_sale_to": DT,
    "date_on_sale_to_gmt": DT,
    "on_sale": ro(B),
    "purchasable": ro(B),
    "total_sales": ro(I),
    "virtual": B,
    "downloadable": B,
    "download_limit": I,
    "download_expiry": I,
    "external_url": S,
    "button_text": S,
    "tax_status": enum("taxable", "shipping", "none", default="taxable"),
    "tax_class": S,
    "manage_stock": B,
    "stock_quantity": I,  # "number" when the store allows fractional stock (wc_is_stock_amount_integer false)
    "stock_status": enum(*STOCK_STATUSES, default="instock"),
    "backorders": enum("no", "notify", "yes", default="no"),
    "backorders_allowed": ro(B),
    "backordered": ro(B),
    "low_stock_amount": {"type": ["integer", "null"]},
    "sold_individually": B,
    "weight": S,
    "dimensions": DIMENSIONS,
    "shipping_required": ro(B),
    "shipping_taxable": ro(B),
    "shipping_class": S,
    "shipping_class_id": ro(S),
    "reviews_allowed": B,
    "post_password": S,
    "average_rating": ro(S),
    "rating_count": ro(I),
    "related_ids": ro(arr(I)),
    "upsell_ids": arr(I),
    "cross_sell_ids": arr(I),
    "parent_id": I,
    "purchase_note": S,
    "categories": arr(obj({"id": I, "name": ro(S), "slug": ro(S)})),
    "brands": arr(obj({"id": I, "name": ro(S), "slug": ro(S)})),
    "tags": arr(obj({"id": I, "name": ro(S), "slug": ro(S)})),
    "images": arr(IMAGE),
    "has_options": ro(B),
    "attributes": arr(
        obj({"id": I, "name": S, "position": I, "visible": B, "variation": B, "options": arr(S)}),
    ),
    "default_attributes": arr(obj({"id": I, "name": S, "option": S})),
    "variations": ro(arr(I)),
    "grouped_products": ro(arr(I)),
    "menu_order": I,
    "meta_data": META_DATA,
}

# class-wc-rest-product-variations-controller.php (V3) get_item_schema. WordPress's args for these endpoints are the
# writable properties; WC_REST_Controller::adjust_wp_5_5_datatype_compatibility turns "date-time" into
# ["null", "string"] and "mixed" into any type on create/edit, so DT_ARG/MIXED below.
VARIATION = {
    "id": ro(I),
    "date_created": ro(DT),
    "date_modified": ro(DT),
    "description": S,
    "permalink": ro({"type": "string", "format": "uri"}),
    "sku": S,
    "global_unique_id": S,  # not in the stored controller version; newer WooCommerce declares it for variations
    "price": ro(S),
    "regular_price": S,
    "sale_price": S,
    "date_on_sale_from": DT_ARG,
    "date_on_sale_from_gmt": DT_ARG,
    "date_on_sale_to": DT_ARG,
    "date_on_sale_to_gmt": DT_ARG,
    "on_sale": ro(B),
    "status": enum("draft", "pending", "private", "publish", default="publish"),  # array_keys(get_post_statuses())
    "purchasable": ro(B),
    "virtual": {**B, "default": False},
    "downloadable": {**B, "default": False},
    "downloads": arr(obj({"id": S, "name": S, "file": S})),
    "download_limit": {**I, "default": -1},
    "download_expiry": {**I, "default": -1},
    "tax_status": enum("taxable", "shipping", "none", default="taxable"),
    "tax_class": S,
    "manage_stock": {**B, "default": False},  # a boolean on write; "parent" only appears in responses
    "stock_quantity": I,
    "stock_status": enum(*STOCK_STATUSES, default="instock"),
    "backorders": enum("no", "notify", "yes", default="no"),
    "backorders_allowed": ro(B),
    "backordered": ro(B),
    "low_stock_amount": {"type": ["integer", "null"]},
    "weight": S,
    "dimensions": DIMENSIONS,
    "shipping_class": S,
    "shipping_class_id": ro(S),
    "image": obj(
        {
            "id": I,
            "date_created": ro(DT),
            "date_created_gmt": ro(DT),
            "date_modified": ro(DT),
            "date_modified_gmt": ro(DT),
            "src": {"type": "string", "format": "uri"},
            "name": S,
            "alt": S,
        }
    ),
    "attributes": arr(obj({"id": I, "name": S, "option": S})),
    "menu_order": I,
    "meta_data": META_DATA,
}

# class-wc-rest-orders-v2-controller.php get_item_schema (V3 only makes coupon_lines[].discount read-only).
# get_order_statuses(): "auto-draft" plus wc_get_order_statuses() without the "wc-" prefix.
ORDER_STATUSES = (
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode")
BILLING = obj(
    {
        **{f: S for f in ADDRESS_FIELDS},
        "country": S,
        "email": {"type": ["string", "null"], "format": "email"},
        "phone": S,
    }
)
SHIPPING = obj({**{f: S for f in ADDRESS_FIELDS}, "country": S, "phone": S})
ITEM_META = arr(obj({"id": ro(I), "key": S, "value": MIXED, "display_key": S, "display_value": S}))
TAXES = ro(arr(obj({"id": I, "total": S, "subtotal": S})))
LINE_ITEM = obj(
    {
        "id": ro(I),
        "name": MIXED,
        "parent_name": S,
        "product_id": MIXED,
        "variation_id": I,
        "quantity": I,
        "tax_class": S,
        "subtotal": S,
        "subtotal_tax": ro(S),
        "total": S,
        "total_tax": ro(S),
        "taxes": TAXES,
        "meta_data": ITEM_META,
        # Read-only, but get_product_id() reads a posted sku first (wc_get_product_id_by_sku), then product_id,
        # then variation_id: a line named by SKU alone is accepted.
        "sku": ro(S),
        "price": ro(N),
        "image": ro(obj({"id": I, "src": {"type": "string", "format": "uri"}})),
    }
)
ORDER = {
    "id": ro(I),
    "parent_id": I,
    "number": ro(S),
    "order_key": ro(S),
    "created_via": ro(S),
    "version": ro(I),
    "status": enum(*ORDER_STATUSES, default="pending"),
    # WooCommerce: "enum" => array_keys(get_woocommerce_currencies()), default the store's currency.
    "currency": enum(*CURRENCIES),
    "date_created": ro(DT),
    "date_created_gmt": ro(DT),
    "date_modified": ro(DT),
    "date_modified_gmt": ro(DT),
    "discount_total": ro(S),
    "discount_tax": ro(S),
    "shipping_total": ro(S),
    "shipping_tax": ro(S),
    "cart_tax": ro(S),
    "total": ro(S),
    "total_tax": ro(S),
    "prices_include_tax": ro(B),
    "customer_id": {**I, "default": 0},
    "customer_ip_address": ro(S),
    "customer_user_agent": ro(S),
    "customer_note": S,
    "billing": BILLING,
    "shipping": SHIPPING,
    "payment_method": S,
    "payment_method_title": S,
    "transaction_id": S,
    "date_paid": ro(DT),
    "date_paid_gmt": ro(DT),
    "date_completed": ro(DT),
    "date_completed_gmt": ro(DT),
    "cart_hash": ro(S),
    "meta_data": META_DATA,
    "line_items": arr(LINE_ITEM),
    "tax_lines": ro(arr(obj({"id": ro(I), "rate_code": ro(S)}))),
    "shipping_lines": arr(
        obj(
            {
                "id": ro(I),
                "method_title": MIXED,
                "method_id": MIXED,
                "instance_id": S,
                "total": S,
                "total_tax": ro(S),
                "taxes": TAXES,
                "meta_data": META_DATA,
            }
        )
    ),
    "fee_lines": arr(
        obj(
            {
                "id": ro(I),
                "name": MIXED,
                "tax_class": S,
                "tax_status": enum("taxable", "none"),
                "total": S,
                "total_tax": ro(S),
                "taxes": TAXES,
                "meta_data": META_DATA,
            }
        )
    ),
    "coupon_lines": arr(
        obj({"id": ro(I), "code": MIXED, "discount": ro(S), "discount_tax": ro(S), "meta_data": META_DATA})
    ),
    "refunds": ro(arr(obj({"id": ro(I), "reason": ro(S), "total": ro(S)}))),
    "payment_url": ro(S),
    "set_paid": {**B, "default": False},
    "is_editable": ro(B),
    "needs_payment": ro(B),
    "needs_processing": ro(B),
}

# class-wc-rest-order-notes-controller.php (V3) get_item_schema; the create route (V1 register_routes) adds
# "note" => required string.
ORDER_NOTE = {
    "id": ro(I),
    "author": ro(S),
    "date_created": ro(DT),
    "date_created_gmt": ro(DT),
    "note": {**S, "required": True},
    "customer_note": {**B, "default": False},
    "added_by_user": {**B, "default": False},
}
# class-wc-rest-order-notes-v2-controller.php get_collection_params.
NOTE_COLLECTION = {"context": enum("view", "edit"), "type": enum("any", "customer", "internal", default="any")}

# class-wc-rest-webhooks-v2-controller.php get_item_schema (V3 only changes the API version). delivery_url is
# read-only in the schema, so on update WordPress does not check it; update_item checks it with wc_is_valid_url.
WEBHOOK = {
    "id": ro(I),
    "name": S,
    "status": enum("active", "paused", "disabled", default="active"),  # array_keys(wc_get_webhook_statuses())
    "topic": S,
    "resource": ro(S),
    "event": ro(S),
    "hooks": ro(arr(S)),
    "delivery_url": ro({"type": "string", "format": "uri"}),
    "secret": S,
    "date_created": ro(DT),
    "date_created_gmt": ro(DT),
    "date_modified": ro(DT),
    "date_modified_gmt": ro(DT),
}
# The create route (class-wc-rest-webhooks-v1-controller.php register_routes) merges two required args over it.
WEBHOOK_CREATE = {**WEBHOOK, "topic": {**S, "required": True}, "delivery_url": {**S, "required": True}}

TRACKING = {
    "tracking_provider": S,
    "custom_tracking_provider": S,
    "custom_tracking_link": S,
    "tracking_number": {**S, "required": True},
    "date_shipped": S,
}

# Collection params shared by the CRUD controllers (class-wc-rest-crud-controller.php get_collection_params).
COLLECTION = {
    "context": enum("view", "edit"),
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": S,
    "after": DT,
    "before": DT,
    "modified_after": DT,
    "modified_before": DT,
    "dates_are_gmt": B,
    "exclude": arr(I),
    "include": arr(I),
    "offset": I,
    "order": enum("asc", "desc"),
    "orderby": enum("date", "id", "include", "title", "slug", "modified"),
    "parent": arr(I),
    "parent_exclude": arr(I),
}
PRODUCT_COLLECTION = {
    **COLLECTION,
    "orderby": enum("date", "id", "include", "title", "slug", "modified", "price", "popularity", "rating"),
    "slug": S,
    "status": enum("any", "draft", "pending", "private", "publish", "future", "trash"),
    "type": enum(*PRODUCT_TYPES),
    "sku": S,
    "search_sku": S,
    "featured": B,
    "stock_status": enum(*STOCK_STATUSES),
    "min_stock_quantity": I,
    "max_stock_quantity": I,
    "include_types": arr(enum(*PRODUCT_TYPES)),
    "exclude_types": arr(enum(*PRODUCT_TYPES)),
}
# class-wc-rest-orders-controller.php (V3) get_collection_params over the V2 one.
ORDER_COLLECTION = {
    **COLLECTION,
    "status": {**arr(enum("any", "trash", *ORDER_STATUSES)), "default": "any"},
    "customer": I,
    "product": I,
    "dp": I,
    "order_item_display_meta": B,
    "include_meta": arr(S),
    "exclude_meta": arr(S),
}
# class-wc-rest-webhooks-v1-controller.php get_collection_params (over WP_REST_Controller's context/page/per_page/
# search): no modified_*, dates_are_gmt or parent, and orderby only date, id or title.
WEBHOOK_COLLECTION = {
    "context": enum("view", "edit"),
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": S,
    "after": {"type": "string", "format": "date-time"},
    "before": {"type": "string", "format": "date-time"},
    "exclude": arr(I),
    "include": arr(I),
    "offset": I,
    "order": enum("asc", "desc"),
    "orderby": enum("date", "id", "title"),
    "status": enum("all", "active", "paused", "disabled", default="all"),
}
FORCE = {"force": B}


# --- WordPress's request validation (rest_validate_value_from_schema) --------------------------------------------
def _is_integer(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and _is_numeric(value) and float(value).is_integer()


def _is_numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value) is not None


def is_boolean(value) -> bool:
    """rest_is_boolean: true/false, "true"/"false"/"1"/"0" (any case), 1/0."""
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.lower() in ("true", "false", "1", "0")
    return isinstance(value, int) and value in (0, 1)


def to_bool(value) -> bool:
    """rest_sanitize_boolean."""
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def parse_list(value) -> list:
    """wp_parse_list: a comma/space separated string becomes a list."""
    if isinstance(value, list):
        return value
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def _list_words(values: list) -> str:
    """wp_sprintf_l: "a", "a and b", "a, b, and c"."""
    values = [str(v) for v in values]
    if len(values) <= 2:
        return " and ".join(values)
    return ", ".join(values[:-1]) + ", and " + values[-1]


def _type_ok(kind: str, value) -> bool:
    return {
        "string": lambda v: isinstance(v, str),
        "integer": _is_integer,
        "number": _is_numeric,
        "boolean": is_boolean,
        "null": lambda v: v is None or v == "",
        "array": lambda v: isinstance(v, (list, str)),
        "object": lambda v: isinstance(v, dict) or v == "" or isinstance(v, list),
    }[kind](value)


def validate_value(spec: dict, value, param: str) -> tuple[str, str] | None:
    """(code, message) for the first problem with `value`, or None: WordPress's wording and codes."""
    kinds = spec.get("type")
    if kinds in (None, "mixed", "date-time"):
        return None  # not a JSON-schema type: WordPress does not check it
    kinds = kinds if isinstance(kinds, list) else [kinds]
    matched = next((k for k in kinds if _type_ok(k, value)), None)
    if matched is None:
        return "rest_invalid_type", f"{param} is not of type {','.join(kinds)}."
    if matched == "array":
        for index, item in enumerate(parse_list(value)):
            problem = validate_value(spec.get("items", {}), item, f"{param}[{index}]")
            if problem:
                return problem
    elif matched == "object" and isinstance(value, dict):
        for key, sub in spec.get("properties", {}).items():
            if key in value:
                problem = validate_value(sub, value[key], f"{param}[{key}]")
                if problem:
                    return problem
    if "enum" in spec and value not in spec["enum"]:
        return "rest_not_in_enum", f"{param} is not one of {_list_words(spec['enum'])}."
    if matched in ("integer", "number"):
        number = float(value)
        low, high = spec.get("minimum"), spec.get("maximum")
        if low is not None and high is not None and not low <= number <= high:
            return "rest_out_of_bounds", f"{param} must be between {low} (inclusive) and {high} (inclusive)"
        if low is not None and number < low:
            return "rest_out_of_bounds", f"{param} must be greater than or equal to {low}"
    if matched == "string":
        if spec.get("format") == "email" and value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            return "rest_invalid_email", "Invalid email address."
        if spec.get("format") == "uri" and value and not re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I):
            return "rest_invalid_uri", "Invalid URI."
        if "pattern" in spec and not re.search(spec["pattern"], value):
            return "rest_invalid_pattern", f"{param} does not match pattern {spec['pattern']}."
    return None


def validate_args(args: dict, params: dict) -> tuple[dict, list[str]]:
    """Validate every declared, writable argument present in `params`; undeclared and read-only ones are ignored.

    Returns ({param: (code, message)} for invalid ones, [missing required params]).
    """
    invalid = {}
    for name, spec in args.items():
        if spec.get("readonly") or name not in params:
            continue
        problem = validate_value(spec, params[name], name)
        if problem:
            invalid[name] = problem
    missing = [n for n, s in args.items() if s.get("required") and params.get(n) in (None, "")]
    return invalid, missing
