"""Partnerships between a wholesaler and a retailer, and the price lists that set retail prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, Money, Rate, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned

# The eight sync toggles: each flow, each direction (orders, order updates, products, product updates).
SYNC_TOGGLES = (
    "sync_orders_from_retailer",
    "sync_orders_to_wholesaler",
    "sync_order_updates_from_wholesaler",
    "sync_order_updates_to_retailer",
    "sync_products_from_wholesaler",
    "sync_products_to_retailer",
    "sync_inventory_from_wholesaler",
    "sync_inventory_to_retailer",
)


class PriceList(TenantOwned, Base):
    """How a wholesaler turns its wholesale price into the retail price a retailer's store shows."""

    __tablename__ = "price_list"
    __tenant_columns__ = ("wholesaler_id",)
    id: Mapped[int] = mapped_column(primary_key=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    fx_rate: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("1"))
    markup_percent: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    rounding_ending: Mapped[Decimal | None] = mapped_column(Money())  # e.g. 0.99
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[PriceListItem]] = relationship(back_populates="price_list", cascade="all, delete-orphan")
    exceptions: Mapped[list[PriceException]] = relationship(back_populates="price_list", cascade="all, delete-orphan")


class PriceListItem(Base):
    """A per-SKU markup that replaces the list markup: fixed amount or percent."""

    __tablename__ = "price_list_item"
    __table_args__ = (UniqueConstraint("price_list_id", "sku"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id"), index=True)
    sku: Mapped[str] = mapped_column(String(255))
    markup_kind: Mapped[str] = mapped_column(String(8))  # fixed | percent
    markup_value: Mapped[Decimal] = mapped_column(Rate())

    price_list: Mapped[PriceList] = relationship(back_populates="items")


class PriceException(Base):
    """A date-bounded price (a sale) that applies between starts_at and ends_at and reverts by itself."""

    __tablename__ = "price_exception"
    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # fixed_price | percent_off
    value: Mapped[Decimal] = mapped_column(Money())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    price_list: Mapped[PriceList] = relationship(back_populates="exceptions")


class Partnership(TenantOwned, Base):
    """A trading relationship: one wholesaler supplies one retailer under a price list and billing terms."""

    __tablename__ = "partnership"
    __tenant_columns__ = ("wholesaler_id", "retailer_id")
    __table_args__ = (UniqueConstraint("wholesaler_id", "retailer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    retailer_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    invite_email: Mapped[str | None] = mapped_column(String(254))
    invite_code: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="invited")  # invited | active | paused | ended
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id"))
    force_overwrite: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_buffer: Mapped[int] = mapped_column(Integer, default=0)
    # The wholesaler's StockLocation ids whose stock this retailer is offered; None: every active location that
    # fulfils online orders (portal.services.stock.counted_location_ids).
    stock_location_ids: Mapped[list | None] = mapped_column(JSON)
    billing_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_gateway: Mapped[str | None] = mapped_column(String(16))  # stripe | apruve
    billing_terms: Mapped[str] = mapped_column(String(8), default="card")  # card | net
    net_days: Mapped[int] = mapped_column(Integer, default=15)
    bill_shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    # Minutes a received order waits before it goes to the wholesaler, so an order cancelled at once never reaches it.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Credit owed to the retailer beyond its last invoice (an invoice is never negative): applied to the next one.
    credit_balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"), server_default="0")
    # daily: an invoice for each day with shipments; monthly: one statement on the month's last day.
    invoice_period: Mapped[str] = mapped_column(String(8), default="daily", server_default="daily")
    # Whether lines returned after they shipped are credited on the next invoice.
    returns_credit: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    gateway_customer_ref: Mapped[str | None] = mapped_column(String(255))
    # What the retailer's platform needs to place this wholesaler's goods, as its store adapter's prepare() returned
    # it (Shopify: the fulfillment service and its location); None until the first products.push.
    placement: Mapped[dict | None] = mapped_column(JSON)
    sync_orders_from_retailer: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_orders_to_wholesaler: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_order_updates_from_wholesaler: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_order_updates_to_retailer: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_products_from_wholesaler: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_products_to_retailer: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_inventory_from_wholesaler: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_inventory_to_retailer: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    price_list: Mapped[PriceList | None] = relationship()
