"""What the operator sees of every tenant: its sync runs of the last day, failures first.

Queue depths and failed RQ jobs are the workers' side (jobs.queues).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select

from integrations.timeutil import parse_iso
from portal.extensions import db
from portal.models import Organization, SyncRun

WINDOW = timedelta(hours=24)


@dataclass
class TenantHealth:
    """One organization's runs in the last day."""

    org_id: int
    name: str
    kind: str
    runs: int
    failed: int
    open: int
    last_success: datetime | None


def tenant_health() -> list[TenantHealth]:
    """Every organization with runs in the last day, those with failures first."""
    since = datetime.now(UTC) - WINDOW
    rows = db.session.execute(
        select(
            Organization.id, Organization.name, Organization.kind, func.count(SyncRun.id),
            func.sum(case((SyncRun.status == "failed", 1), else_=0)),
            func.sum(case((SyncRun.status.in_(("queued", "running")), 1), else_=0)),
            func.max(case((SyncRun.status == "done", SyncRun.finished_at))),
        )
        .join(SyncRun, SyncRun.organization_id == Organization.id)
        .where(SyncRun.created_at >= since)
        .group_by(Organization.id, Organization.name, Organization.kind)
    )  # fmt: skip
    health = [
        TenantHealth(i, n, k, runs, int(f or 0), int(o or 0), parse_iso(last)) for i, n, k, runs, f, o, last in rows
    ]
    return sorted(health, key=lambda h: (-h.failed, h.name))
