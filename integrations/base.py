"""The two small interfaces the sync flows talk to: a wholesaler's system of record and a retailer's store.

Shopify implements both (integrations/shopify/); WooCommerce and CSV feeds will implement them later. The flows
never build requests themselves: they get one of these from `portal.services.platforms` (via integrations.registry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

OnCall = Callable[..., None]  # RunContext.api_call: counts every platform call and every wait for budget


class StaleQuantities(Exception):
    """A compare-and-set of stock found the store's quantities moved since we last set them; nothing was applied."""


class ChangeRefused(Exception):
    """The platform refused a change to an existing order (it has shipped, is already cancelled, ...); the message
    says why in the platform's words. Nothing was changed; sending the same change again gets the same answer."""


class NothingToFulfil(ChangeRefused):
    """A shipment the retailer's order has no units left for: the retailer removed them (an edit, a cancellation)
    after the wholesaler had shipped them. Sending it again gets the same answer."""


class AccessRevoked(Exception):
    """The platform refused our credentials for a store (Shopify: HTTP 401) and they could not be renewed: there is
    no refresh token, the platform refused the refresh, or it refused the renewed token too. The message says so in
    words a merchant can act on.

    Nothing more was sent to that store after the refusal. By the time an adapter raises it, the application's
    token source (`RenewableToken.rejected`) has marked the connection as needing to be reconnected; with a fixed
    token it is raised at once. Retrying cannot help until a person reconnects the store (reopening the app, or the
    grant again), so a run that meets it ends failed at once instead of being retried."""


class RenewableToken(Protocol):
    """An access-token source an adapter may ask for a new token after the platform rejected the current one."""

    def __call__(self) -> str:
        """The access token to send now; raises AccessRevoked once access is known to be lost."""
        ...

    def rejected(self, token: str) -> str:
        """The platform answered 401 to `token`: return a token worth one more try (renewed at most once per
        source, or the one another worker renewed meanwhile), or raise AccessRevoked after marking the connection
        as needing to be reconnected."""
        ...


class OutcomeUnknown(Exception):
    """A write that is not safe to send twice (a create without platform idempotency) got no usable answer: a
    timeout, a dropped connection after the request left, or a 5xx. The platform may have committed it or not.

    Nothing was resent. The caller must look the object up by its own marker before any later attempt creates it
    again (and must not read "not found by a lagging search" as "not created")."""


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
    compare_at_price: Decimal | None = None
    taxable: bool = True
    requires_shipping: bool = True
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
    collections: list[str] = field(default_factory=list)  # collection titles (WooCommerce: category names)
    image_urls: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)  # [{"url", "alt"}] in display order (image_urls: their urls)
    options: list[dict] = field(default_factory=list)  # [{"name": "Size", "values": ["S", "M"]}]
    variants: list[RemoteVariant] = field(default_factory=list)
    status: str = "active"  # active | draft | archived | unlisted: archived products leave retailers' catalogs


WHOLE_STOCK = "whole-stock"  # the one pseudo-location of a platform with a single stock figure per item


@dataclass
class StockLevel:
    """The available quantity of one variant at one location of the system of record (a platform with one stock
    figure per item reports it at its single pseudo-location, WHOLE_STOCK)."""

    variant_remote_id: str
    sku: str
    quantity: int
    location_id: str = WHOLE_STOCK


@dataclass
class RemoteLocation:
    """A place the wholesaler keeps stock, as its system of record names it."""

    remote_id: str
    name: str
    fulfills_online_orders: bool = True
    active: bool = True


def single_location(name: str) -> list[RemoteLocation]:
    """The locations of a platform with one stock figure per item: one pseudo-location that fulfils orders."""
    return [RemoteLocation(WHOLE_STOCK, name)]


@dataclass
class StockEvent:
    """What a system of record's stock event names: the item whose level moved and where (None: unknown)."""

    inventory_item_id: str
    location_id: str | None = None


@dataclass
class RemoteOrderLine:
    """One line of a retailer's order."""

    remote_id: str
    sku: str
    quantity: int  # current: after the retailer's edits and refunds
    title: str = ""
    returned: int = 0  # shipped units refunded as returns (restocked at the retailer); not in `quantity`


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
    phone: str | None = None
    note: str | None = None  # the order note (often a gift message)
    attributes: list[dict] = field(default_factory=list)  # [{"key", "value"}]: checkout fields such as gift notes
    shipping: OrderShipping | None = None


@dataclass
class OrderShipping:
    """The shipping the customer chose at the retailer: method (service level), its code and what was charged."""

    title: str
    code: str | None = None
    source: str | None = None
    price: Decimal = Decimal("0")


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
    phone: str | None = None
    attributes: list[dict] = field(default_factory=list)  # shown to the wholesaler: retailer order, gift notes
    shipping: OrderShipping | None = None  # price is what the partnership's terms pass on (0 when they do not)


@dataclass
class CreatedOrder:
    """An order as it exists in the system of record: its id and its line ids by SKU."""

    remote_id: str
    line_ids_by_sku: dict[str, str] = field(default_factory=dict)


@dataclass
class OrderState:
    """An order we created in a system of record as it stands there now: whether the wholesaler cancelled it (and
    why), and each line's current quantity by its remote line id (after the wholesaler's edits or removals)."""

    cancelled: bool
    reason: str | None = None
    line_quantities: dict[str, int] = field(default_factory=dict)


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
    product_key: str | None = None  # the store's key of the product: our ProductPush.key if we created it


@dataclass
class ProductPush:
    """A product to create or update in a retailer's store. `full` False sends only prices (no overwrite).

    `key` is our deterministic name for the product (same partnership and product, same key): a store finds by it
    the product an interrupted create already made. `placement` is what `RetailerStore.prepare` returned; a new
    variant gets its first stock there."""

    key: str
    product: RemoteProduct | None  # None when only prices are sent
    variants: list[dict]  # [{"sku", "price": Decimal, "variant_id": str|None, "quantity": int, option values...}]
    remote_product_id: str | None = None
    placement: dict | None = None
    full: bool = True
    # [{"url", "id"}]: the store's media ids of the images last placed; a full push keeps these and sends only new
    # images, and the store writes back here what it now holds (the same shape) for the hub to record.
    remote_media: list[dict] | None = None


@dataclass
class QuantitySet:
    """Set one item's quantity; `change_from` is what we believe it is now (None: set without comparing)."""

    inventory_item_id: str
    quantity: int
    change_from: int | None


class SystemOfRecord(Protocol):
    """A wholesaler's system of record: its catalog, stock, the orders we create in it and their shipments.

    Every method may raise the platform's transport or refusal errors; reads are safe to retry."""

    def products(self, updated_since: datetime | None, bulk: bool = True) -> Iterator[RemoteProduct]:
        """Products changed since `updated_since` (all of them when None), with their variants.

        Read-only, safe to retry. `bulk` False never starts a long-running export (dry runs use plain reads)."""
        ...

    def product_ids(self) -> set[str]:
        """The remote id of every product that exists now (to notice deletions). Read-only, safe to retry."""
        ...

    def stock_levels(self, bulk: bool = True) -> Iterator[StockLevel]:
        """Every variant's available quantity at each location that stocks it. Read-only, safe to retry; `bulk` as
        in `products`. With `bulk`, one variant's levels come one after another (inventory.pull records the
        stream a few variants at a time and takes a variant's locations missing from its run as gone)."""
        ...

    def locations(self) -> list[RemoteLocation]:
        """Every place the wholesaler keeps stock, active or not; a platform with one stock figure per item returns
        `single_location(...)`, and its StockLevels carry WHOLE_STOCK. Read-only, safe to retry."""
        ...

    def find_order(self, marker: str, created_since: datetime | None = None) -> CreatedOrder | None:
        """The order an earlier `create_order` made with this marker, or None; `created_since` (when known) is when
        the first of those attempts began, so older orders need not be read. Read-only, safe to retry."""
        ...

    def create_order(self, draft: OrderDraft) -> CreatedOrder:
        """Create the order. Not idempotent by itself: callers look for `draft.marker` with `find_order` first.

        Raises the platform's refusal (e.g. an unknown SKU) without creating anything."""
        ...

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        """The shipments of an order we created, with tracking; [] when none. Read-only, safe to retry."""
        ...

    def cancel_order(self, remote_order_id: str, reason: str, note: str) -> bool:
        """Cancel an order we created (restocking it); True once the platform reports the cancellation done.

        `reason`: customer | declined | fraud | inventory | other | staff. Raises ChangeRefused when the platform
        will not cancel (shipped, already cancelled). Safe to retry: a second call is refused as already cancelled."""
        ...


class StockEventSource(Protocol):
    """A system of record that sends stock events (Shopify's `inventory_levels/update`): the flow learns from the
    adapter which item moved and reads its levels back, never parsing a platform's payload itself."""

    def stock_event(self, payload: dict) -> StockEvent | None:
        """The item (and location) a stock event names, in the references the adapter's reads use; None when the
        payload names no item. Pure: no remote call."""
        ...

    def variant_levels(self, variant_remote_ids: list[str]) -> list[StockLevel]:
        """The current levels of a few variants at every location that stocks them (the event's own figure may be
        stale); variants that no longer exist are left out. Read-only, safe to retry."""
        ...

    def order_state(self, remote_order_id: str) -> OrderState | None:
        """The order's cancellation and current line quantities (None: the order is gone). Read-only, safe to
        retry. Optional: a system of record without it only reports shipments."""
        ...

    def changed_orders(self, updated_since: datetime) -> dict[str, datetime]:
        """The orders updated since `updated_since` (shipped, edited or cancelled there): remote id -> when the
        store last updated each. Read-only, safe to retry. Optional: without it every order awaiting shipment is
        read on each pull."""
        ...


class RetailerStore(Protocol):
    """A retailer's store: where our products are placed and from where orders come.

    `placement` arguments are what `prepare` returned for the partnership (stored as Partnership.placement). Every
    method may raise the platform's transport or refusal errors."""

    batch_size: int  # the most quantities one `set_quantities` call takes
    product_call_cost: int  # what one `set_product` costs against the store's rate limit (for previews)

    def prepare(self, partnership_key: str, name: str, callback_url: str) -> dict:
        """Make the store ready to receive this partnership's goods and return what later calls need to place them.

        Safe to retry: it finds what an interrupted attempt created (by `name`) instead of creating it again.
        Shopify creates a fulfillment service called `name` (calling back `callback_url`) and returns its id and
        location; a platform that needs nothing returns {}."""
        ...

    def variants_by_sku(self, skus: Iterable[str]) -> dict[str, PlacedVariant]:
        """The store's own variants with these SKUs, by SKU (to link instead of duplicating). Safe to retry."""
        ...

    def set_product(self, push: ProductPush) -> tuple[str, dict[str, PlacedVariant]]:
        """Create or update one product; returns its remote id and its variants by SKU ({} for a price-only push).

        Safe to retry: a create is keyed by `push.key`, so a retried create updates the product it made."""
        ...

    def set_quantities(self, placement: dict, changes: list[QuantitySet], key: str, reference: str) -> None:
        """Set at most `batch_size` quantities where our goods are placed, each compared against `change_from`.

        Safe to retry with the same `key` (the store answers a replay from its record). `reference` names the
        partnership in the store's history. Raises StaleQuantities, with nothing applied, when a compared
        quantity moved."""
        ...

    def current_levels(self, placement: dict, inventory_item_ids: list[str]) -> dict[str, int | None]:
        """What the store holds now for these items where our goods are placed (None: not stocked there).

        Read-only, safe to retry; used after StaleQuantities."""
        ...

    def orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        """Orders updated since `updated_since` (all when None), oldest update first. Read-only, safe to retry."""
        ...

    def accept_fulfillment_requests(self, remote_order_id: str, placement: dict) -> int:
        """Accept the store's pending requests to fulfil this order from our placement; returns how many.

        Safe to retry: an accepted request is not pending any more (0 the second time)."""
        ...

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        """The order's shipments in the store (to find one we created before a retry). Read-only, safe to retry."""
        ...

    def create_shipment(self, remote_order_id: str, placement: dict, shipment: Shipment) -> str:
        """Create the shipment (lines are the store's line ids) with its tracking; returns its remote id.

        Not idempotent: callers look for it with `shipments` first. Raises when no open line is left to fulfil."""
        ...

    def cancellation_requests(self, placement: dict) -> list[str]:
        """The store's orders whose cancellation waits for our answer (the retailer cancelled an order whose
        fulfillment request we had accepted). Read-only, safe to retry. Optional."""
        ...

    def answer_cancellation(self, remote_order_id: str, placement: dict, accept: bool, message: str) -> int:
        """Accept (the wholesaler's order was cancelled) or refuse with `message` (it has shipped) the order's
        cancellation requests; returns how many were answered. Safe to retry: an answered request is not asked again."""
        ...

    def reject_lines(self, remote_order_id: str, placement: dict, lines: list[tuple[str, int]], reason: str,
                     message: str) -> bool:  # fmt: skip
        """Tell the store the wholesaler will not fill these (store line id, quantity) lines, with the reason
        (`inventory` or `other`) and a message for the merchant. True once the store has recorded it; False when it
        must wait (Shopify: an accepted request is closed only once the rest of it has shipped). Safe to retry: what
        was already rejected or closed is not sent again."""
        ...
