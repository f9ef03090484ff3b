"""The records behind every sync: runs and their progress, the activity log, webhook receipts and cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class SyncRun(TenantOwned, Base):
    """One execution of a job of the sync plan for one target: the durable record behind a progress bar."""

    __tablename__ = "sync_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnership.id"))
    target_key: Mapped[str] = mapped_column(String(64))  # e.g. "connection:3" — what the per-target lock is on
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual | webhook | chain
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    rq_job_id: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    throttled_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    failures: Mapped[list] = mapped_column(JSON, default=list)  # [{"record": str, "reason": str}], capped
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "skipped")


class ActivityLog(TenantOwned, Base):
    """Every add, edit or delete the hub performs on a record, with the run that did it."""

    __tablename__ = "activity_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnership.id"))
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # add | edit | delete
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookReceipt(Base):
    """A received webhook; UNIQUE(source, event_id) turns at-least-once delivery into exactly-once processing."""

    __tablename__ = "webhook_receipt"
    __table_args__ = (UniqueConstraint("source", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # shopify | stripe | apruve
    event_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(64))
    shop_domain: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict | None] = mapped_column(JSON)
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)  # what processing produced (e.g. a customer data export)


class SyncCursor(Base):
    """High-water mark of an incremental pull stream on one connection; advanced only after commit."""

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"))
    stream: Mapped[str] = mapped_column(String(64))
    high_water_mark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
