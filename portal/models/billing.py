"""The billing ledger: one invoice per partnership per billing date, claimed before any gateway call."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, Money, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class Invoice(TenantOwned, Base):
    """A day's bill for one retailer; UNIQUE(partnership, billing_date) is what makes billing exactly-once."""

    __tablename__ = "invoice"
    __tenant_columns__ = ("wholesaler_id", "retailer_id")
    __table_args__ = (UniqueConstraint("partnership_id", "billing_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    billing_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), default="claimed")
    gateway: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    shipping: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    credits: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    gateway_invoice_ref: Mapped[str | None] = mapped_column(String(255))
    steps: Mapped[dict] = mapped_column(JSON, default=dict)  # gateway step -> remote result, recorded as each succeeds
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.id")


class InvoiceLine(Base):
    """One charge, credit or shipping amount on an invoice, tied to the order line it bills."""

    __tablename__ = "invoice_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # charge | credit | shipping
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
