"""What the sync flows share: content hashes, cursors that move only after commit, and finding the connections
and partnerships a run works with.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Partnership, SyncCursor, utcnow

OVERLAP = timedelta(minutes=10)  # incremental pulls re-read this much before the cursor (late commits, clock skew)


def digest(value) -> str:
    """A stable sha256 of any JSON-able value (keys sorted, Decimals as strings)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def cursor_since(connection_id: int, stream: str) -> datetime | None:
    """Where an incremental pull starts: the stored high-water mark minus the overlap window (None: from scratch)."""
    mark = db.session.execute(
        select(SyncCursor.high_water_mark).where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream)
    ).scalar_one_or_none()
    return mark - OVERLAP if mark else None


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
