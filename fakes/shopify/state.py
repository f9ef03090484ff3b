"""In-memory state of the sandbox's shops: one `ShopState` per shop domain, plain dataclasses, numeric ids.

Ids are numeric and unique across the whole sandbox (like Shopify's); `gid(kind, id)` makes the GraphQL id. Orders,
fulfillment orders, fulfillments and fulfillment services live here too so that all state is in one place.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

_ids = itertools.count(1001)
_ids_lock = threading.Lock()


def next_id() -> int:
    """A new numeric id, unique in this process."""
    with _ids_lock:
        return next(_ids)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(value: datetime | None) -> str | None:
    """Shopify's DateTime format: `2026-11-26T15:00:00Z`."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def gid(kind: str, numeric_id: int | str) -> str:
    return f"gid://shopify/{kind}/{numeric_id}"


def parse_gid(value: str, kind: str | None = None) -> int | None:
    """The numeric id of `gid://shopify/<kind>/<n>` (None when malformed or of another kind)."""
    if not isinstance(value, str) or not value.startswith("gid://shopify/"):
        return None
    parts = value[len("gid://shopify/") :].split("/")
    if len(parts) != 2 or (kind and parts[0] != kind):
        return None
    number = parts[1].split("?")[0]
    return int(number) if number.isdigit() else None


def gid_kind(value: str) -> str | None:
    if not isinstance(value, str) or not value.startswith("gid://shopify/"):
        return None
    return value[len("gid://shopify/") :].split("/")[0]


@dataclass
class Location:
    id: int
    name: str
    is_active: bool = True
    is_primary: bool = False
    fulfills_online_orders: bool = True
    fulfillment_service_id: int | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class InventoryItem:
    id: int
    sku: str | None = None
    tracked: bool = True
    requires_shipping: bool = True
    weight: dict | None = None  # {"unit": "GRAMS" | "KILOGRAMS" | "OUNCES" | "POUNDS", "value": float}
    variant_id: int | None = None
    # location id -> quantity name ("available", "on_hand", ...) -> quantity
    levels: dict[int, dict[str, int]] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Variant:
    id: int
    product_id: int
    inventory_item_id: int
    sku: str | None = None
    price: str = "0.00"
    compare_at_price: str | None = None
    barcode: str | None = None
    position: int = 1
    inventory_policy: str = "DENY"
    taxable: bool = True
    option_values: list[dict] = field(default_factory=list)  # [{"name": "Size", "value": "M"}]
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def title(self) -> str:
        return " / ".join(o["value"] for o in self.option_values) or "Default Title"


@dataclass
class Product:
    id: int
    title: str
    handle: str
    status: str = "ACTIVE"
    vendor: str = ""
    product_type: str = ""
    description_html: str = ""
    tags: list[str] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)  # [{"id": n, "name": "Size", "values": ["S", "M"]}]
    variant_ids: list[int] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)  # in display order
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Media:
    """A product's image (a MediaImage): where it came from, its alt text and its processing status."""

    id: int
    source: str  # the originalSource it was created from
    alt: str = ""
    content_type: str = "IMAGE"
    status: str = "READY"


@dataclass
class Publication:
    id: int
    name: str
    product_ids: set[int] = field(default_factory=set)


@dataclass
class Collection:
    """A collection of products (its membership only: `Product.collections` lists those holding a product)."""

    id: int
    title: str
    handle: str
    product_ids: set[int] = field(default_factory=set)


@dataclass
class WebhookSubscription:
    id: int
    topic: str  # the enum value, e.g. PRODUCTS_UPDATE
    uri: str
    format: str = "JSON"
    include_fields: list[str] = field(default_factory=list)
    filter: str | None = None
    created_at: datetime = field(default_factory=now)

    def matches(self, topic: str) -> bool:
        """Whether this subscription is for `topic` as in the X-Shopify-Topic header (`inventory_levels/update`)."""
        return self.topic == topic.replace("/", "_").upper()


@dataclass
class BulkOperation:
    id: int
    query: str
    status: str = "CREATED"
    type: str = "QUERY"
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    lines: list[str] = field(default_factory=list)
    error_code: str | None = None
    created_at: datetime = field(default_factory=now)
    completed_at: datetime | None = None


# Helper C extends these (orders and fulfillment resolvers); kept here so all shop state is in one place.
@dataclass
class FulfillmentService:
    id: int
    name: str
    callback_url: str | None
    location_id: int
    inventory_management: bool = True
    tracking_support: bool = True
    extra: dict = field(default_factory=dict)


@dataclass
class Order:
    id: int
    name: str
    data: dict = field(default_factory=dict)  # schema-keyed fields the resolvers need (lineItems, tags, ...)
    tags: list[str] = field(default_factory=list)
    custom_attributes: list[dict] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    assigned_location_id: int
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    line_items: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Fulfillment:
    id: int
    order_id: int
    fulfillment_order_ids: list[int] = field(default_factory=list)
    status: str = "SUCCESS"
    tracking_info: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)


@dataclass
class Fault:
    """An injected failure for the next request(s): kind is throttled | 429 | 500 | 503 | slow."""

    kind: str
    retry_after: float = 1.0
    seconds: float = 0.0


class ShopState:
    """Everything the sandbox knows about one shop. Guard mutations with `lock` (the server is threaded)."""

    def __init__(self, domain: str, *, maximum_available: float = 2000.0, restore_rate: float = 100.0):
        from fakes.shopify.cost import LeakyBucket

        self.domain = domain
        self.name = domain.split(".")[0].replace("-", " ").title()
        self.id = next_id()
        self.email = f"owner@{domain}"
        self.currency = "USD"
        self.plan = "Basic"
        self.lock = threading.RLock()
        self.installed = True
        self.scopes: str = ""
        self.bucket = LeakyBucket(maximum_available, restore_rate)
        self.faults: deque[Fault] = deque()
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.inventory_items: dict[int, InventoryItem] = {}
        self.locations: dict[int, Location] = {}
        self.publications: dict[int, Publication] = {}
        self.collections: dict[int, Collection] = {}
        self.webhooks: dict[int, WebhookSubscription] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.fulfillment_services: dict[int, FulfillmentService] = {}
        self.idempotency: dict[str, tuple[str, dict]] = {}  # key -> (request fingerprint, response body)
        self.requests: list[dict] = []  # a log of GraphQL calls: {"root_fields", "cost", "throttled", "at"}
        self.extra: dict = {}  # free space for extensions
        primary = Location(id=next_id(), name="Shop location", is_primary=True)
        self.locations[primary.id] = primary
        online = Publication(id=next_id(), name="Online Store")
        self.publications[online.id] = online

    @property
    def primary_location(self) -> Location:
        return next(loc for loc in self.locations.values() if loc.is_primary)

    def add_location(self, name: str, **kwargs) -> Location:
        loc = Location(id=next_id(), name=name, **kwargs)
        self.locations[loc.id] = loc
        return loc

    def variant_by_sku(self, sku: str) -> Variant | None:
        return next((v for v in self.variants.values() if v.sku == sku), None)

    def available(self, inventory_item_id: int, location_id: int | None = None) -> int | None:
        """The `available` quantity of an item at a location (the primary one by default), None if not stocked."""
        item = self.inventory_items[inventory_item_id]
        level = item.levels.get(location_id or self.primary_location.id)
        return None if level is None else level.get("available", 0)
