"""What a person may start by hand on Settings -> Sync: the targets an organization owns, Run now, the next run.

The workers' side of the page (targets, rq-scheduler's entries, request_run); what each job would do for the
account is described by portal.services.sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from jobs.plan import SYNC_PLAN, JobSpec, get_manual_job
from jobs.runtime import request_run
from jobs.scheduler import entry_id
from jobs.targets import load_target, owner_org_id, targets_for
from portal.extensions import db
from portal.models import SyncRun
from portal.redis_conn import get_redis
from portal.services import sync

SCHEDULED_SET = "rq:scheduler:scheduled_jobs"  # rq-scheduler's sorted set: entry id -> next run (unix time)


@dataclass
class JobRow:
    """One line of Settings -> Sync."""

    spec: JobSpec
    description: str
    targets: list[str]
    last_run: SyncRun | None
    next_run: datetime | None
    open_runs: list[SyncRun] = field(default_factory=list)

    @property
    def can_run(self) -> bool:
        return self.spec.manual and bool(self.targets)


# Jobs a wholesaler may also start on its partners' stores: the retailers' orders are what it has to fulfil.
ON_PARTNER_STORES = ("orders.pull",)


def org_targets(spec: JobSpec, org_id: int) -> list[str]:
    """Targets of `spec` this organization may start: in its partnerships AND owned by it (so it sees the run), or,
    for a wholesaler, its active partners' stores for the jobs in ON_PARTNER_STORES."""
    keys: list[str] = []
    for partnership in sync.org_partnerships(org_id, spec):
        partner_store = spec.name in ON_PARTNER_STORES and partnership.wholesaler_id == org_id
        for key in targets_for(spec, partnership.id):
            row = load_target(key)
            if key not in keys and row is not None and (owner_org_id(row) == org_id or partner_store):
                keys.append(key)
    return keys


def next_run(spec: JobSpec, org_id: int) -> datetime | None:
    """When the scheduler next fires this job: rq-scheduler's entry, else the last scheduled run plus the interval."""
    score = get_redis().zscore(SCHEDULED_SET, entry_id(spec))
    if score is not None:
        return datetime.fromtimestamp(score, UTC)
    query = select(func.max(SyncRun.created_at)).where(
        SyncRun.owned_by(org_id), SyncRun.job_name == spec.name, SyncRun.trigger == "schedule"
    )
    last = db.session.execute(query).scalar_one_or_none()
    return last + timedelta(seconds=spec.interval_seconds) if last else None


def job_rows(org_id: int) -> list[JobRow]:
    """Every job of the plan, billing included (listed, never runnable), for this organization."""
    running = sync.open_runs(org_id)
    return [
        JobRow(
            spec=spec,
            description=sync.describe(spec, org_id),
            targets=org_targets(spec, org_id) if spec.manual else [],
            last_run=sync.last_run(spec, org_id),
            next_run=next_run(spec, org_id),
            open_runs=[r for r in running if r.job_name == spec.name],
        )
        for spec in SYNC_PLAN
    ]


def start_manual_run(job_name: str, org_id: int) -> list[SyncRun]:
    """Run now: one run per target of this organization; billing raises ManualRunRefused before anything happens."""
    spec = get_manual_job(job_name)
    return [request_run(spec.name, key, "manual") for key in org_targets(spec, org_id)]
