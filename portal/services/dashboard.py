"""Sync health for the overview: per partner and per flow, the last success, recent failures and the lag.

One grouped query over the organization's runs; a flow is late when its last success is older than twice its
interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select

from integrations.timeutil import parse_iso
from jobs.plan import SYNC_PLAN, JobSpec
from portal.extensions import db
from portal.models import Order, Organization, Partnership, RecordFailure, SyncRun

FAILURE_WINDOW = timedelta(hours=24)


@dataclass
class FlowHealth:
    """One flow for one partner (or for the system of record)."""

    spec: JobSpec
    last_success: datetime | None
    failures: int

    @property
    def lag(self) -> timedelta | None:
        return datetime.now(UTC) - self.last_success if self.last_success else None

    @property
    def late(self) -> bool:
        return self.lag is None or self.lag > timedelta(seconds=2 * self.spec.interval_seconds)


@dataclass
class PartnerHealth:
    """A row of the overview: a retailer (or the system of record) and its flows."""

    label: str
    partnership_id: int | None
    flows: list[FlowHealth]
    last_order_at: datetime | None = None


def _stats(org_id: int) -> dict[tuple[str, str], tuple[datetime | None, int]]:
    """(job, target key) -> (last success, failures in the window) over the organization's runs."""
    since = datetime.now(UTC) - FAILURE_WINDOW
    failed = case((SyncRun.status == "failed", 1), (SyncRun.failed > 0, 1), else_=0)
    rows = db.session.execute(
        select(
            SyncRun.job_name,
            SyncRun.target_key,
            func.max(case((SyncRun.status == "done", SyncRun.finished_at))),
            func.sum(case((SyncRun.created_at >= since, failed), else_=0)),
        )
        .where(SyncRun.owned_by(org_id))
        .group_by(SyncRun.job_name, SyncRun.target_key)
    )
    return {(job, key): (parse_iso(last), int(n or 0)) for job, key, last, n in rows}


def _flows(stats, scope: str, keys: list[str]) -> list[FlowHealth]:
    flows = []
    for spec in SYNC_PLAN:
        if spec.scope != scope:
            continue
        found = [stats[(spec.name, k)] for k in keys if (spec.name, k) in stats]
        last = max((s[0] for s in found if s[0]), default=None)
        flows.append(FlowHealth(spec, last, sum(s[1] for s in found)))
    return flows


def overview(org_id: int) -> list[PartnerHealth]:
    """The system of record's flows first, then each partner's."""
    from portal.models import Connection

    stats = _stats(org_id)
    sor_keys = [
        f"connection:{cid}"
        for cid in db.session.execute(
            select(Connection.id).where(Connection.organization_id == org_id, Connection.role == "system_of_record")
        ).scalars()
    ]
    rows = [PartnerHealth("Your system of record", None, _flows(stats, "sor", sor_keys))]
    partners = db.session.execute(
        select(Partnership, Organization.name)
        .outerjoin(Organization, Partnership.retailer_id == Organization.id)
        .where(Partnership.owned_by(org_id), Partnership.status.in_(("active", "paused")))
        .order_by(Partnership.id)
    ).all()
    last_orders = dict(
        db.session.execute(
            select(Order.partnership_id, func.max(Order.received_at))
            .where(Order.owned_by(org_id))
            .group_by(Order.partnership_id)
        ).all()
    )
    for partnership, name in partners:
        flows = _flows(stats, "partnership", [f"partnership:{partnership.id}"])
        rows.append(PartnerHealth(name or partnership.invite_email or "retailer", partnership.id, flows,
                                  parse_iso(last_orders.get(partnership.id))))  # fmt: skip
    return rows


def failed_records(org_id: int | None = None, limit: int = 50) -> tuple[int, list[RecordFailure]]:
    """Records that failed at least RecordFailure.FAILED_AFTER times and are still not synced (they are retried on
    every run): how many, and the most recent `limit`. `org_id` None: every organization (the operator)."""
    query = select(RecordFailure).where(
        RecordFailure.resolved_at.is_(None), RecordFailure.attempts >= RecordFailure.FAILED_AFTER
    )
    if org_id is not None:
        query = query.where(RecordFailure.organization_id == org_id)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(RecordFailure.last_failed_at.desc()).limit(limit)).scalars()
    return total, list(rows)
