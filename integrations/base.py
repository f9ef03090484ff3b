"""The two small interfaces the sync flows talk to: a wholesaler's system of record and a retailer's store.

Shopify implements both (integrations/shopify/); WooCommerce and CSV feeds will implement them later. The flows
never build requests themselves: they get one of these from `system_of_record()` / `retailer_store()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

OnCall = Callable[..., None]  # RunContext.api_call: counts every platform call and every wait for budget


@dataclass
class RemoteVariant:
    """A sellable variant as the system of record holds it."""

    remote_id: str
    sku: str
    price: Decimal  # the wholesale price
    title: str = ""
    option_values: list[dict] = field(default_factory=list)  # [{"name": "Size", "value": "S"}]
    barcode: str | None = None
    weight_grams: int | None = None
    retail_price: Decimal | None = None
    inventory_item_id: str | None = None
    quantity: int = 0


@dataclass
class RemoteProduct:
    """A product of the wholesaler's catalog, with every field that syncs."""

    remote_id: str
    title: str
    updated_at: datetime | None = None
    description_html: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)  # [{"name": "Size", "values": ["S", "M"]}]
    variants: list[RemoteVariant] = field(default_factory=list)


@dataclass
class StockLevel:
    """The available quantity of one variant in the system of record."""

    variant_remote_id: str
    sku: str
    quantity: int


@dataclass
class RemoteOrderLine:
    remote_id: str
    sku: str
    quantity: int
    title: str = ""


@dataclass
class RemoteOrder:
    """An order in a retailer's store (every line; the flow keeps those of one wholesaler)."""

    remote_id: str
    name: str
    updated_at: datetime
    created_at: datetime | None = None
    cancelled_at: datetime | None = None
    currency: str = "USD"
    email: str | None = None
    customer_name: str | None = None
    shipping_address: dict | None = None
    lines: list[RemoteOrderLine] = field(default_factory=list)


@dataclass
class OrderDraft:
    """What the hub asks a system of record to create; `marker` is our id, used to find it again on retry."""

    marker: str
    name: str
    currency: str
    email: str | None
    shipping_address: dict | None
    lines: list[dict]  # [{"sku", "quantity", "price": Decimal, "title", "variant_remote_id"}]
    note: str = ""


@dataclass
class CreatedOrder:
    """An order as it exists in the system of record: its id and its line ids by SKU."""

    remote_id: str
    line_ids_by_sku: dict[str, str] = field(default_factory=dict)


@dataclass
class Shipment:
    """A fulfillment with tracking: from a system of record (line ids are its lines) or to a store."""

    remote_id: str
    lines: list[tuple[str, int]]  # [(remote line id, quantity)]
    carrier: str | None = None
    tracking_numbers: list[str] = field(default_factory=list)
    tracking_urls: list[str] = field(default_factory=list)
    created_at: datetime | None = None


@dataclass
class PlacedVariant:
    """A variant as it exists in a retailer's store."""

    sku: str
    product_id: str
    variant_id: str
    inventory_item_id: str | None = None
    product_handle: str | None = None


@dataclass
class ProductPush:
    """A product to create or update in a retailer's store. `full` False sends only prices (no overwrite)."""

    handle: str
    product: RemoteProduct | None  # None when only prices are sent
    variants: list[dict]  # [{"sku", "price": Decimal, "variant_id": str|None, "quantity": int, option values...}]
    remote_product_id: str | None = None
    location_id: str | None = None
    full: bool = True


@dataclass
class QuantitySet:
    inventory_item_id: str
    quantity: int
    change_from: int | None


class SystemOfRecord(Protocol):
    """A wholesaler's system of record: its catalog, stock, the orders we create in it and their shipments."""

    def products(self, updated_since: datetime | None, bulk: bool = True) -> Iterator[RemoteProduct]: ...

    def product_ids(self) -> set[str]: ...

    def stock_levels(self, bulk: bool = True) -> Iterator[StockLevel]: ...

    def find_order(self, marker: str) -> CreatedOrder | None: ...

    def create_order(self, draft: OrderDraft) -> CreatedOrder: ...

    def shipments(self, remote_order_id: str) -> list[Shipment]: ...


class RetailerStore(Protocol):
    """A retailer's store: where our products are placed and from where orders come."""

    def ensure_fulfillment_service(self, name: str, callback_url: str) -> tuple[str, str]: ...

    def variants_by_sku(self, skus: Iterable[str]) -> dict[str, PlacedVariant]: ...

    def set_product(self, push: ProductPush) -> tuple[str, dict[str, PlacedVariant]]: ...

    def set_quantities(self, location_id: str, changes: list[QuantitySet], key: str, reference: str) -> None: ...

    def current_levels(self, location_id: str, inventory_item_ids: list[str]) -> dict[str, int | None]: ...

    def orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]: ...

    def accept_fulfillment_requests(self, remote_order_id: str, location_id: str) -> int: ...

    def shipments(self, remote_order_id: str) -> list[Shipment]: ...

    def create_shipment(self, remote_order_id: str, location_id: str, shipment: Shipment) -> str: ...


def system_of_record(connection, on_call: OnCall | None = None) -> SystemOfRecord:
    """The SystemOfRecord implementation for a wholesaler's connection."""
    if connection.platform == "shopify":
        from integrations.shopify.adapters import ShopifySystemOfRecord

        return ShopifySystemOfRecord(connection, on_call)
    raise NotImplementedError(f"no system-of-record integration for {connection.platform}")


def retailer_store(connection, on_call: OnCall | None = None) -> RetailerStore:
    """The RetailerStore implementation for a retailer's store connection."""
    if connection.platform == "shopify":
        from integrations.shopify.adapters import ShopifyRetailerStore

        return ShopifyRetailerStore(connection, on_call)
    raise NotImplementedError(f"no store integration for {connection.platform}")
