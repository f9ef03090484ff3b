"""Organizations, their people and their platform connections (stores and systems of record)."""

from __future__ import annotations

from datetime import datetime, time

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto import EncryptedText
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class Organization(Base):
    """A wholesaler or a retailer: the tenant every other row hangs from."""

    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # wholesaler | retailer
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    billing_time: Mapped[time] = mapped_column(Time, default=time(6, 0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organization")
    connections: Mapped[list[Connection]] = relationship(back_populates="organization")


class User(UserMixin, TenantOwned, Base):
    """A person who signs in to the dashboard; belongs to one organization."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="admin")  # admin | member | operator
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


class Connection(TenantOwned, Base):
    """An organization's store or system of record on a platform, with its encrypted credentials."""

    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("platform", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32), default="shopify")  # shopify | woocommerce | csv
    role: Mapped[str] = mapped_column(String(24))  # system_of_record | store
    # Where the store lives on its platform: a Shopify shop domain, a WooCommerce site URL; None for a file feed.
    address: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str | None] = mapped_column(EncryptedText)
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # WooCommerce: the consumer key (its secret is the access token) and the secret that signs its webhooks.
    api_key: Mapped[str | None] = mapped_column(EncryptedText)
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)
    # Non-secret settings of a platform that has no API to ask (a file feed's server, folders, column mapping).
    settings: Mapped[dict | None] = mapped_column(JSON)
    # Set (and committed) before a single-use refresh token is spent, cleared when the new pair is stored: a value
    # found later means a refresh was interrupted and its refresh token may already be spent.
    refresh_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(24), default="active")  # active | needs_reauth | uninstalled
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship(back_populates="connections")


class GatewayAccount(TenantOwned, Base):
    """A wholesaler's own payment gateway account (Stripe or Apruve), secrets encrypted."""

    __tablename__ = "gateway_account"
    __table_args__ = (UniqueConstraint("organization_id", "gateway"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(16))  # stripe | apruve
    account_ref: Mapped[str | None] = mapped_column(String(255))  # Stripe Connect account id / Apruve merchant id
    secret: Mapped[str | None] = mapped_column(EncryptedText)  # restricted key / API key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
