"""Retailer accounts outside Shopify: an invitation code, a retailer organization and its first user, in one go.

The code is checked before anything is created, so a wrong code leaves no orphan account behind.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Organization, Partnership, User
from portal.services import partnerships
from portal.services.accounts import AccountError, create_user


class SignupError(ValueError):
    """The sign-up cannot be done; the message is for the person signing up."""


def sign_up_with_invitation(code: str, org_name: str, email: str, password: str) -> tuple[User, Partnership]:
    """Create the retailer organization and its admin user, and accept the invitation `code` for it."""
    code = (code or "").strip()
    invited = db.session.execute(select(Partnership).where(Partnership.invite_code == code)).scalar_one_or_none()
    if invited is None or invited.status != "invited":
        raise SignupError("This invitation code is unknown or was already used.")
    org = Organization(kind="retailer", name=org_name.strip())
    db.session.add(org)
    try:
        user = create_user(email, password, role="admin", organization=org)
    except AccountError as exc:
        db.session.rollback()
        raise SignupError(str(exc)) from exc
    try:
        partnership = partnerships.accept(code, org.id)
    except partnerships.PartnershipError as exc:
        raise SignupError(str(exc).capitalize() + ".") from exc
    return user, partnership
