"""Which of the wholesaler's products a retailer carries, per partnership (no row: the whole catalog)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class ProductSelection(TenantOwned, Base):
    """A partnership's product selection: `all` | `rules` (tags, product types, vendors, collections: AND across
    kinds, OR within one) | `picked` (hub product ids). portal.services.selection decides membership."""

    __tablename__ = "product_selection"
    __tenant_columns__ = ("wholesaler_id",)
    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), unique=True)
    wholesaler_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8), default="all")
    rules: Mapped[dict] = mapped_column(JSON, default=dict)  # {"tags": [...], "product_types": [...], ...}
    product_ids: Mapped[list] = mapped_column(JSON, default=list)  # hub product ids, for `picked`
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
