"""The records behind every sync: runs and their progress, the activity log, webhook receipts and cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.tenancy import TenantOwned


class SyncRun(TenantOwned, Base):
    """One execution of a job of the sync plan for one target: the durable record behind a progress bar."""

    __tablename__ = "sync_run"
    # One open run per (job, target): a second trigger coalesces with the open run instead of racing it.
    __table_args__ = (
        Index(
            "uq_sync_run_open",
            "job_name",
            "target_key",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnership.id"))
    target_key: Mapped[str] = mapped_column(String(64))  # e.g. "connection:3" — what the per-target lock is on
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual | webhook | chain
    status: Mapped[str] = mapped_column(String(24), default="queued", index=True)  # done_with_failures fits
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
    # The fencing token of the lease this run last took; a commit by a holder whose token is no longer the
    # highest for (job, target) is refused (jobs.runtime).
    fence: Mapped[int | None] = mapped_column(Integer)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "done_with_failures", "failed", "skipped")


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


class OutboxMessage(Base):
    """An enqueue that must not be lost, committed with the change that asks for it and drained to RQ.

    kind says what it starts: `run` (run_job of SyncRun `ref_id`), `webhook` (process_receipt of receipt `ref_id`)
    or `chain` (a follow-up run of `args` = [job, target], requested when drained). `sent_at` is set once RQ has
    the job, `done_at` once its effect is recorded; rows not done are re-published if their RQ job vanished.
    """

    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # run | webhook | chain
    ref_id: Mapped[int | None] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(32))
    rq_job_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    args: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    publishes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SyncCursor(Base):
    """High-water mark of an incremental pull stream on one connection; advanced only after commit."""

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"))
    stream: Mapped[str] = mapped_column(String(64))
    high_water_mark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RecordFailure(Base):
    """One record a job could not sync on one target, kept until a later run syncs it: the pull cursor never
    passes the oldest unresolved one, each run retries it, and after FAILED_AFTER attempts it is shown as failed.

    UNIQUE(job, target_key, record_key): a replayed failure updates its row instead of adding one."""

    __tablename__ = "record_failure"
    __table_args__ = (UniqueConstraint("job_name", "target_key", "record_key"),)
    FAILED_AFTER = 3  # attempts after which the operator is shown the record as failed (it is still retried)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    target_key: Mapped[str] = mapped_column(String(64), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    record_key: Mapped[str] = mapped_column(String(255))  # the platform's id of the record (e.g. an order gid)
    label: Mapped[str] = mapped_column(String(255), default="")  # what people call it (e.g. "#1001")
    record_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its remote updated_at when it failed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
