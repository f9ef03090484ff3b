"""The wholesaler's catalog as the hub holds it, and where each product is listed in retailers' stores."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, Money, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class Product(TenantOwned, Base):
    """A product from a wholesaler's system of record; `content_hash` covers every field that syncs."""

    __tablename__ = "product"
    __tenant_columns__ = ("wholesaler_id",)
    __table_args__ = (UniqueConstraint("connection_id", "remote_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"))
    remote_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    description_html: Mapped[str] = mapped_column(Text, default="")
    vendor: Mapped[str] = mapped_column(String(255), default="")
    product_type: Mapped[str] = mapped_column(String(255), default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    collections: Mapped[list | None] = mapped_column(JSON, default=list)  # titles (WooCommerce: categories)
    image_urls: Mapped[list] = mapped_column(JSON, default=list)
    images: Mapped[list | None] = mapped_column(JSON, default=list)  # [{"url", "alt"}] in display order
    options: Mapped[list] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variants: Mapped[list[Variant]] = relationship(back_populates="product", order_by="Variant.id")


class Variant(TenantOwned, Base):
    """A sellable variant; its SKU is unique per wholesaler and is how retailers' products are matched."""

    __tablename__ = "variant"
    __tenant_columns__ = ("wholesaler_id",)
    __table_args__ = (UniqueConstraint("wholesaler_id", "sku"), UniqueConstraint("connection_id", "remote_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"))
    remote_id: Mapped[str] = mapped_column(String(255))
    inventory_item_remote_id: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    option_values: Mapped[list] = mapped_column(JSON, default=list)
    barcode: Mapped[str | None] = mapped_column(String(255))
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    wholesale_price: Mapped[Decimal] = mapped_column(Money())
    retail_price: Mapped[Decimal | None] = mapped_column(Money())  # the wholesaler's suggested retail price
    compare_at_price: Mapped[Decimal | None] = mapped_column(Money())
    taxable: Mapped[bool | None] = mapped_column(Boolean)
    requires_shipping: Mapped[bool | None] = mapped_column(Boolean)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    inventory_quantity: Mapped[int] = mapped_column(Integer, default=0)
    inventory_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship(back_populates="variants")


class StockLocation(TenantOwned, Base):
    """A place the wholesaler keeps stock, as its system of record names it (one pseudo-location for platforms
    with a single stock figure); `fulfills_online_orders` and `active` decide the default partnership choice."""

    __tablename__ = "stock_location"
    __tenant_columns__ = ("wholesaler_id",)
    __table_args__ = (UniqueConstraint("connection_id", "remote_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    remote_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    fulfills_online_orders: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VariantStock(Base):
    """A variant's available quantity at one of the wholesaler's locations (Variant.inventory_quantity: the sum)."""

    __tablename__ = "variant_stock"
    __table_args__ = (UniqueConstraint("variant_id", "location_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)


class Listing(Base):
    """A product as placed in one retailer's store under one partnership."""

    __tablename__ = "listing"
    __table_args__ = (
        UniqueConstraint("partnership_id", "product_id"),
        UniqueConstraint("retailer_connection_id", "remote_product_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    retailer_connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"))
    remote_product_id: Mapped[str | None] = mapped_column(String(255))
    pushed_hash: Mapped[str | None] = mapped_column(String(64))
    created_unpublished: Mapped[bool] = mapped_column(Boolean, default=False)
    matched_by_sku: Mapped[bool] = mapped_column(Boolean, default=False)
    last_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_media: Mapped[list | None] = mapped_column(JSON)  # [{"url", "id"}]: our images -> the store's media ids

    variants: Mapped[list[ListingVariant]] = relationship(back_populates="listing", cascade="all, delete-orphan")


class ListingVariant(Base):
    """One variant of a listing: its remote ids in the retailer's store and what we last pushed."""

    __tablename__ = "listing_variant"
    __table_args__ = (UniqueConstraint("listing_id", "variant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"), index=True)
    remote_variant_id: Mapped[str | None] = mapped_column(String(255))
    remote_inventory_item_id: Mapped[str | None] = mapped_column(String(255))
    pushed_price: Mapped[Decimal | None] = mapped_column(Money())
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_compare_at: Mapped[Decimal | None] = mapped_column(Money())

    listing: Mapped[Listing] = relationship(back_populates="variants")
