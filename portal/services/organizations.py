"""An organization's connections: the store or system of record that a flow or a platform callback works with.

An organization has at most one active connection per role that the flows use: the oldest active one.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection


def org_connection(org_id: int | None, role: str) -> Connection | None:
    """The active store (role "store") or system of record (role "system_of_record") of an organization, or None."""
    if org_id is None:
        return None
    return (
        db.session.execute(
            select(Connection)
            .where(Connection.organization_id == org_id, Connection.role == role, Connection.status == "active")
            .order_by(Connection.id)
        )
        .scalars()
        .first()
    )
