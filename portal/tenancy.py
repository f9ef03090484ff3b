"""Every read of tenant data goes through here: rows are scoped to the signed-in organization."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, select

from portal.extensions import db


def current_org_id() -> int:
    """The organization of this request: the embedded app's shop, or the signed-in dashboard user's."""
    org_id = g.get("org_id")
    if org_id is None and current_user.is_authenticated:
        org_id = current_user.organization_id
    if org_id is None:
        abort(403)
    return org_id


def scoped(model) -> Select:
    """SELECT of `model` limited to rows the current organization owns."""
    return select(model).where(model.owned_by(current_org_id()))


def get_owned_or_404(model, row_id: int):
    """The row with `row_id` if the current organization owns it; 404 otherwise (never reveal foreign ids)."""
    row = db.session.execute(scoped(model).where(model.id == row_id)).scalar_one_or_none()
    if row is None:
        abort(404)
    return row
