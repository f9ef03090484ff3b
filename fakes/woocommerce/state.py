"""State of the WooCommerce sandbox: stores, errors in WordPress's shape, and resource representations.

Products and variations share one id sequence (they are posts); orders have their own (HPOS tables).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fakes.woocommerce import schema as sc

BATCH_LIMIT = 100  # woocommerce_rest_batch_items_limit
TRACKING_PROVIDERS = {
    "usps": ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels=%1$s"),
    "ups": ("UPS", "https://www.ups.com/track?loc=en_US&tracknum=%1$s"),
    "fedex": ("FedEx", "https://www.fedex.com/fedextrack/?tracknumbers=%1$s"),
    "dhl": ("DHL", "https://www.dhl.com/en/express/tracking.html?AWB=%1$s"),
    "canada-post": ("Canada Post", "https://www.canadapost-postescanada.ca/track-reperage/en#/details/%1$s"),
}


class WPError(Exception):
    """A WordPress REST error: `{"code", "message", "data": {"status", ...}}`."""

    def __init__(self, code: str, message: str, status: int = 400, **data):
        super().__init__(message)
        self.code, self.message, self.status, self.data = code, message, status, data

    def body(self) -> dict:
        """The JSON error body."""
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def invalid_params(invalid: dict) -> WPError:
    """400 rest_invalid_param for {param: (code, message)}, with data.params and data.details."""
    return WPError(
        "rest_invalid_param",
        "Invalid parameter(s): " + ", ".join(invalid),
        400,
        params={k: msg for k, (_code, msg) in invalid.items()},
        details={k: {"code": code, "message": msg, "data": None} for k, (code, msg) in invalid.items()},
    )


def money(value) -> str:
    """A 2-decimal string, as WooCommerce renders amounts."""
    return f"{Decimal(str(value or 0)).quantize(Decimal('0.01'))}"


@dataclass
class Fault:
    """A failure injected into the next `count` requests of a store."""

    kind: str  # "500" | "503" | "429" | "slow"
    count: int
    retry_after: int = 1
    seconds: float = 2.0


@dataclass
class Store:
    """One WooCommerce site: options, keys, and its data (posts share one id sequence, HPOS orders another)."""

    name: str
    ssl: bool = True  # WordPress's is_ssl(): Basic/query keys are only tried on HTTPS, else OAuth 1.0a
    manage_stock: bool = True  # option woocommerce_manage_stock
    shipment_tracking: bool = False  # the Shipment Tracking extension is active
    utc_offset_hours: float = 0.0  # site timezone, for the non-GMT dates
    currency: str = "USD"
    keys: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)  # products and variations by id
    orders: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)  # order id -> [note]
    webhooks: dict = field(default_factory=dict)
    faults: list = field(default_factory=list)
    pending: list = field(default_factory=list)  # queued webhook deliveries (webhook id, resource id, topic)
    auth_nonces: set = field(default_factory=set)  # wc-auth approval links handed out

    def __post_init__(self):
        self.post_ids = itertools.count(10)
        self.order_ids = itertools.count(100)
        self.key_ids = itertools.count(1)
        self.note_ids = itertools.count(1)
        self.webhook_ids = itertools.count(1)

    def by_sku(self, sku: str) -> dict | None:
        """The product or variation holding `sku`, if any."""
        return next((p for p in self.products.values() if sku and p["sku"] == sku), None)


# --- representations -------------------------------------------------------------------------------------------------
def dates(store: Store, stamp: float) -> tuple[str, str]:
    """(site-local, GMT) timestamps as WooCommerce formats them."""
    gmt = datetime.fromtimestamp(int(stamp), UTC)
    local = gmt + timedelta(hours=store.utc_offset_hours)
    return local.strftime("%Y-%m-%dT%H:%M:%S"), gmt.strftime("%Y-%m-%dT%H:%M:%S")


def touch(sandbox, item: dict) -> None:
    """Bump the modified stamp (the sandbox clock)."""
    item["_modified"] = sandbox.now()


def stock_status(item: dict) -> str:
    """Recomputed from the quantity when stock is managed (set_stock_status in the product data store)."""
    if item.get("manage_stock") is True and item.get("stock_quantity") is not None:
        if item["stock_quantity"] > 0:
            return "instock"
        return "onbackorder" if item.get("backorders") in ("notify", "yes") else "outofstock"
    return item.get("stock_status") or "instock"


def active_price(item: dict) -> str:
    """Sale price if set, else regular price (WooCommerce's active price)."""
    return item.get("sale_price") or item.get("regular_price") or ""


def product_out(store: Store, item: dict) -> dict:
    """GET /products/<id> (for a variation id: the products controller's view of it, type "variation")."""
    created, modified = dates(store, item["_created"]), dates(store, item["_modified"])
    price = active_price(item)
    if item["type"] == "variable":
        prices = [active_price(store.products[v]) for v in item["variations"] if active_price(store.products[v])]
        price = str(min(prices, key=Decimal)) if prices else ""
    out = {k: v for k, v in item.items() if not k.startswith("_")}
    out.update(
        permalink=f"https://{store.name}/product/{item['slug']}/",
        date_created=created[0],
        date_created_gmt=created[1],
        date_modified=modified[0],
        date_modified_gmt=modified[1],
        price=price,
        on_sale=bool(item.get("sale_price")),
        purchasable=bool(price),
        stock_status=stock_status(item),
        backorders_allowed=item.get("backorders") in ("notify", "yes"),
        backordered=False,
        has_options=item["type"] == "variable",
    )
    return out


def variation_out(store: Store, item: dict) -> dict:
    """GET /products/<id>/variations/<vid>."""
    out = product_out(store, item)
    keep = set(sc.VARIATION) | {"date_created_gmt", "date_modified_gmt", "parent_id"}
    out = {k: v for k, v in out.items() if k in keep}
    out["image"] = item.get("image")
    return out


def order_out(store: Store, order: dict) -> dict:
    """GET /orders/<id>."""
    return {k: v for k, v in order.items() if not k.startswith("_")}
