"""What a job runs on: the connections or partnerships in scope for it right now."""

from __future__ import annotations

from sqlalchemy import select

from jobs.plan import JobSpec
from portal.extensions import db
from portal.models import Connection, Partnership


def target_key(kind: str, row_id: int) -> str:
    """The string that names a target in job ids, locks and SyncRuns, e.g. "connection:3"."""
    return f"{kind}:{row_id}"


def parse_target(key: str) -> tuple[str, int]:
    """Split "connection:3" into ("connection", 3); ValueError on anything else."""
    kind, _, raw = key.partition(":")
    if kind not in ("connection", "partnership") or not raw.isdigit():
        raise ValueError(f"malformed target {key!r}")
    return kind, int(raw)


def _active_partnerships(spec: JobSpec):
    query = select(Partnership).where(Partnership.status == "active")
    if spec.toggle:
        query = query.where(getattr(Partnership, spec.toggle).is_(True))
    return query


def targets_for(spec: JobSpec, partnership_id: int | None = None) -> list[str]:
    """Target keys the job should run on: every one in scope, or only those of one partnership."""
    partnerships = _active_partnerships(spec)
    if partnership_id is not None:
        partnerships = partnerships.where(Partnership.id == partnership_id)
    if spec.scope == "partnership":
        ids = db.session.execute(partnerships.with_only_columns(Partnership.id)).scalars()
        return [target_key("partnership", i) for i in sorted(ids)]
    org_column = Partnership.wholesaler_id if spec.scope == "sor" else Partnership.retailer_id
    role = "system_of_record" if spec.scope == "sor" else "store"
    orgs = partnerships.with_only_columns(org_column).scalar_subquery()
    ids = db.session.execute(
        select(Connection.id).where(
            Connection.role == role, Connection.status == "active", Connection.organization_id.in_(orgs)
        )
    ).scalars()
    return [target_key("connection", i) for i in sorted(set(ids))]


def load_target(key: str):
    """The Connection or Partnership a target key names (None if it no longer exists)."""
    kind, row_id = parse_target(key)
    return db.session.get(Connection if kind == "connection" else Partnership, row_id)


def owner_org_id(target) -> int:
    """The organization a run on this target belongs to (a partnership's runs are the wholesaler's)."""
    return target.organization_id if isinstance(target, Connection) else target.wholesaler_id
