"""Alerts: what was told to whom and when (deduplicated per organization, kind and subject), and each person's
choice of immediate e-mails, a daily digest, or neither."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class Alert(TenantOwned, Base):
    """One problem worth telling people about, kept once per (organization, kind, subject).

    A problem seen again while its row exists is the same alert: it is e-mailed again only after the repeat window
    (services.alerts.REPEAT_AFTER) and only if it is still there; `resolved_at` is set when a scan no longer sees it.
    """

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("organization_id", "kind", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    # job_failed | record_failing | order_late | store_access | gateway_access | payment_failed
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))  # what it is about, e.g. "connection:3" or "order:12"
    title: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))  # a dashboard path, e.g. /orders/12
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # last immediate e-mail
    times_notified: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertSetting(TenantOwned, Base):
    """One person's alert preferences; a person without a row gets immediate e-mails and no digest."""

    __tablename__ = "alert_setting"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    immediate: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kinds this person does not want e-mailed at once (they still appear in the digest).
    muted_kinds: Mapped[str] = mapped_column(String(500), default="")
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
