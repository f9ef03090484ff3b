"""Orders from retailers' stores, the lines that belong to one wholesaler, and their shipments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, Money, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class Order(TenantOwned, Base):
    """One hub order per (retailer order, wholesaler), with its lifecycle timestamps."""

    __tablename__ = "order"
    __tenant_columns__ = ("wholesaler_id", "retailer_id")
    __table_args__ = (UniqueConstraint("partnership_id", "remote_order_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    retailer_connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"))
    remote_order_id: Mapped[str] = mapped_column(String(255))
    retailer_order_name: Mapped[str] = mapped_column(String(64), default="")
    sor_remote_order_id: Mapped[str | None] = mapped_column(String(255), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    email: Mapped[str | None] = mapped_column(String(254))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    shipping_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the hub last wrote this order (received, edited, cancelled, sent, ...), by the hub's clock: a full stock
    # push reads the retailer store's own level of the variants of orders changed since the last one.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    # When the hub first tried to create the order in the system of record (committed before the create): only an
    # order tried before may be there already, so only such an order is looked up by its marker first.
    sor_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_to_sor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The system of record's `updatedAt` of the order as order_updates.pull last read it whole: a pull skips the
    # order while the store's stamp is the same.
    sor_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    billed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The cancellation carried into the wholesaler's system of record, or why it could not be (e.g. shipped).
    sor_cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_note: Mapped[str | None] = mapped_column(Text)
    # What the wholesaler needs to fulfil it, as the retailer's customer gave it.
    phone: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    note_attributes: Mapped[list | None] = mapped_column(JSON)  # [{"key", "value"}], e.g. a gift message
    shipping_method: Mapped[str | None] = mapped_column(String(255))
    shipping_code: Mapped[str | None] = mapped_column(String(255))
    # The retailer edited the order after it reached the system of record: the edit is still to be applied there.
    edit_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The wholesaler cancelled or rejected lines it cannot fill (rejected_quantity on them), with the reason; sent
    # to the retailer's store at rejection_sent_at (None while the store is still to be told).
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    rejection_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")
    fulfillments: Mapped[list[Fulfillment]] = relationship(back_populates="order", order_by="Fulfillment.id")


class OrderLine(Base):
    """A line of a hub order, at the partnership's wholesale price; billing claims it by quantity."""

    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_id", "remote_line_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id"))
    remote_line_id: Mapped[str] = mapped_column(String(255))
    sor_remote_line_id: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    wholesale_price: Mapped[Decimal] = mapped_column(Money())
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    billed_quantity: Mapped[int] = mapped_column(Integer, default=0)
    credited_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # Units the wholesaler would not fill (part of cancelled_quantity), and units returned after they shipped.
    rejected_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")


class Fulfillment(Base):
    """A shipment made in the wholesaler's system of record, with tracking, and where it was pushed."""

    __tablename__ = "fulfillment"
    __table_args__ = (UniqueConstraint("order_id", "sor_remote_fulfillment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    sor_remote_fulfillment_id: Mapped[str] = mapped_column(String(255))
    retailer_remote_fulfillment_id: Mapped[str | None] = mapped_column(String(255))
    carrier: Mapped[str | None] = mapped_column(String(255))
    tracking_numbers: Mapped[list] = mapped_column(JSON, default=list)
    tracking_urls: Mapped[list] = mapped_column(JSON, default=list)
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [{"order_line_id": int, "quantity": int}]
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="fulfillments")
