"""What the sync flows share: content hashes, cursors that move only after commit and never past a failed record,
per-record failure state, and finding the connections and partnerships a run works with.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import select, update

from integrations.timeutil import parse_iso
from jobs.context import stop_if_access_lost
from portal.extensions import db
from portal.models import Partnership, RecordFailure, SyncCursor, WebhookReceipt, utcnow

STALE_LOOKBACK = 500  # receipts of the same shop and topics compared with a delivery for "is there a newer one"
OVERLAP = timedelta(minutes=10)  # incremental pulls re-read this much before the cursor (late commits, clock skew)


def digest(value) -> str:
    """A stable sha256 of any JSON-able value (keys sorted, Decimals as strings)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def cursor_at(connection_id: int, stream: str) -> datetime | None:
    """The stored high-water mark of a stream (None: never advanced)."""
    return db.session.execute(
        select(SyncCursor.high_water_mark).where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream)
    ).scalar_one_or_none()


def cursor_since(connection_id: int, stream: str, overlap: timedelta = OVERLAP) -> datetime | None:
    """Where an incremental pull starts: the stored high-water mark minus the overlap window (None: from scratch)."""
    mark = cursor_at(connection_id, stream)
    return mark - overlap if mark else None


def advance_cursor(connection_id: int, stream: str, mark: datetime | None) -> None:
    """Move the high-water mark forward (never back). Call only after the data it covers is committed."""
    if mark is None:
        return
    row = db.session.execute(
        select(SyncCursor).where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream)
    ).scalar_one_or_none()
    if row is None:
        db.session.add(SyncCursor(connection_id=connection_id, stream=stream, high_water_mark=mark))
    elif row.high_water_mark is None or mark > row.high_water_mark:
        row.high_water_mark = mark
    db.session.commit()


def open_failures(job_name: str, target_key: str) -> list[RecordFailure]:
    """The records of this job and target that failed and have not been synced since, oldest failure first."""
    return list(
        db.session.execute(
            select(RecordFailure)
            .where(RecordFailure.job_name == job_name, RecordFailure.target_key == target_key,
                   RecordFailure.resolved_at.is_(None))
            .order_by(RecordFailure.first_failed_at, RecordFailure.id)
        ).scalars()
    )  # fmt: skip


def record_failed(ctx, record_key: str, label: str, error: str, record_updated_at: datetime | None = None) -> None:
    """Keep (or bump) the failure of one record and count it on the run; commits. Replays update the same row.
    Called while handling AccessRevoked, it raises that instead (see RunContext.fail): the record did not fail."""
    stop_if_access_lost()
    job, target = ctx.run.job_name, ctx.run.target_key
    row = db.session.execute(
        select(RecordFailure).where(RecordFailure.job_name == job, RecordFailure.target_key == target,
                                    RecordFailure.record_key == record_key)
    ).scalar_one_or_none()  # fmt: skip
    stamp = utcnow()
    if row is None:
        row = RecordFailure(job_name=job, target_key=target, record_key=record_key, attempts=0,
                            organization_id=ctx.run.organization_id, first_failed_at=stamp)  # fmt: skip
        db.session.add(row)
    elif row.resolved_at is not None:  # failing again after a success: a new episode
        row.attempts, row.first_failed_at, row.resolved_at = 0, stamp, None
    row.attempts += 1
    row.label, row.last_error, row.last_failed_at = label[:255], error[:2000], stamp
    if record_updated_at is not None:
        # The oldest version that failed is what the cursor must not pass.
        kept = row.record_updated_at
        row.record_updated_at = record_updated_at if kept is None else min(kept, record_updated_at)
    db.session.commit()
    ctx.fail(label, error)


def record_synced(ctx, record_key: str) -> None:
    """A record that failed before went through: its failure is resolved (not committed here)."""
    db.session.execute(
        update(RecordFailure)
        .where(RecordFailure.job_name == ctx.run.job_name, RecordFailure.target_key == ctx.run.target_key,
               RecordFailure.record_key == record_key, RecordFailure.resolved_at.is_(None))
        .values(resolved_at=utcnow())
    )  # fmt: skip


def cursor_mark(ctx, mark: datetime | None) -> datetime | None:
    """The highest mark a pull may store: `mark`, but never past the oldest unresolved failed record's update, so
    the next pull reads that record again (it is re-read from there, minus the overlap, until it syncs)."""
    held = [f.record_updated_at for f in open_failures(ctx.run.job_name, ctx.run.target_key) if f.record_updated_at]
    if not held or mark is None:
        return mark
    return min(mark, min(held))


def partnerships_of(org_column, org_id: int, toggle: str | None = None) -> list[Partnership]:
    """Active partnerships where `org_column` (wholesaler_id / retailer_id) is `org_id`, with `toggle` on."""
    query = select(Partnership).where(org_column == org_id, Partnership.status == "active")
    if toggle:
        query = query.where(getattr(Partnership, toggle).is_(True))
    return list(db.session.execute(query.order_by(Partnership.id)).scalars())


def chain_for_partnerships(ctx, job_name: str, partnerships: list[Partnership]) -> None:
    """Ask for `job_name` on each partnership right after this run commits."""
    for partnership in partnerships:
        ctx.chain(job_name, f"partnership:{partnership.id}")


def now() -> datetime:
    return utcnow()


def delivery_version(receipt: WebhookReceipt) -> datetime | None:
    """How new the state a delivery carries is: the object's `updated_at`, else Shopify's Triggered-At."""
    payload = receipt.payload if isinstance(receipt.payload, dict) else {}
    try:
        return parse_iso(payload.get("updated_at")) or receipt.triggered_at
    except (TypeError, ValueError):
        return receipt.triggered_at


def newer_delivery(receipt: WebhookReceipt, topics: tuple[str, ...]) -> WebhookReceipt | None:
    """An already processed delivery about the same object (payload `id`) that carried a newer state, if any.

    Deliveries are at-least-once and unordered: one older than what we already acted on must not act again (its
    state is stale; the newer delivery's refetch already read the current one).
    """
    version = delivery_version(receipt)
    object_id = (receipt.payload or {}).get("id") if isinstance(receipt.payload, dict) else None
    if version is None or object_id is None:
        return None
    recent = db.session.execute(
        select(WebhookReceipt)
        .where(
            WebhookReceipt.source == receipt.source,
            WebhookReceipt.shop_domain == receipt.shop_domain,
            WebhookReceipt.topic.in_(topics),
            WebhookReceipt.id != receipt.id,
            WebhookReceipt.processed_at.is_not(None),
        )
        .order_by(WebhookReceipt.id.desc())
        .limit(STALE_LOOKBACK)
    ).scalars()
    for other in recent:
        theirs = delivery_version(other)
        if (other.payload or {}).get("id") == object_id and theirs is not None and theirs > version:
            return other
    return None


class CallCounter:
    """An `on_call` that threads may share: counts platform calls and waits, then hands them to the run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls, self.waited = 0, 0.0

    def __call__(self, waited_seconds: float = 0.0) -> None:
        with self._lock:
            self.calls += 1
            self.waited += waited_seconds

    def apply(self, ctx) -> None:
        """Move what was counted so far onto the SyncRun (main thread only: the ORM object is not thread-safe)."""
        with self._lock:
            calls, waited, self.calls, self.waited = self.calls, self.waited, 0, 0.0
        ctx.run.api_calls += calls
        ctx.run.throttled_seconds += waited
