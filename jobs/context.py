"""RunContext: what a flow receives — its target, progress counters, failures, activity log and chaining."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from integrations.base import AccessRevoked
from portal.extensions import db
from portal.models import ActivityLog, SyncRun

MAX_FAILURES_KEPT = 50
PROGRESS_EVERY_SECONDS = 1.0


def stop_if_access_lost() -> None:
    """Re-raise the exception being handled if it is AccessRevoked (flows catch Exception around each record)."""
    handling = sys.exc_info()[1]
    if isinstance(handling, AccessRevoked):
        raise handling


@dataclass
class RunContext:
    """Handed to every flow. Counters live on the SyncRun and are written in batches, not per item."""

    run: SyncRun
    target: object
    chained: list[tuple[str, str]] = field(default_factory=list)
    _last_flush: float = field(default=0.0)

    @property
    def organization_id(self) -> int | None:
        return self.run.organization_id

    def set_total(self, total: int) -> None:
        self.run.total = total
        self.flush(force=True)

    def count(self, outcome: str, n: int = 1) -> None:
        """Count `n` records as done with an outcome: created | updated | skipped | unchanged."""
        self.run.done += n
        if outcome == "created":
            self.run.created += n
        elif outcome == "updated":
            self.run.updated += n
        elif outcome in ("skipped", "unchanged"):
            self.run.skipped += n
        self.flush()

    def fail(self, record: str, reason: str) -> None:
        """A record that could not be synced: counted, kept with its reason, and the run goes on.

        Called while handling AccessRevoked, it raises that instead: the store shut us out, so every other record
        would fail the same way; the run ends failed once with the reason (jobs.runtime), no record is blamed."""
        stop_if_access_lost()
        self.run.done += 1
        self.run.failed += 1
        if len(self.run.failures or []) < MAX_FAILURES_KEPT:
            self.run.failures = [*(self.run.failures or []), {"record": record, "reason": reason[:500]}]
        self.flush(force=True)  # a later record's rollback must not take this failure with it

    def api_call(self, waited_seconds: float = 0.0) -> None:
        """Called by integration clients for every platform call and every wait for API budget."""
        self.run.api_calls += 1
        self.run.throttled_seconds += waited_seconds

    def log(
        self, action: str, record_type: str, record_id, summary: str = "", organization_id=None, partnership_id=None
    ):
        """One activity-log entry per record the hub adds, edits or deletes."""
        db.session.add(
            ActivityLog(
                organization_id=organization_id or self.run.organization_id,
                partnership_id=partnership_id or self.run.partnership_id,
                sync_run_id=self.run.id,
                action=action,
                record_type=record_type,
                record_id=str(record_id),
                summary=summary[:1000],
            )
        )

    def chain(self, job_name: str, target_key: str) -> None:
        """Ask for `job_name` on `target_key` to run right after this run commits (e.g. push after pull)."""
        if (job_name, target_key) not in self.chained:
            self.chained.append((job_name, target_key))

    def flush(self, force: bool = False) -> None:
        """Commit progress at most once a second (and whenever forced), so polling panels see it."""
        now = time.monotonic()
        if force or now - self._last_flush >= PROGRESS_EVERY_SECONDS:
            db.session.commit()
            self._last_flush = now
