"""The one rule of multi-tenancy: a row belongs to an organization through a declared column."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_


class TenantOwned:
    """Mixin: `__tenant_columns__` names the column(s) holding the owning organization id.

    A row is visible to an organization when any of those columns equals its id (a partnership is visible to
    both its wholesaler and its retailer).
    """

    __tenant_columns__: tuple[str, ...] = ("organization_id",)

    @classmethod
    def owned_by(cls, org_id: int) -> ColumnElement[bool]:
        """SQL condition: this row belongs to organization `org_id`."""
        clauses = [getattr(cls, name) == org_id for name in cls.__tenant_columns__]
        return clauses[0] if len(clauses) == 1 else or_(*clauses)
