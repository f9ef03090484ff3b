"""Account operations shared by the sign-up page and the `flask users` commands."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import Organization, User, utcnow
from portal.services.passwords import hash_password, verify_password


class AccountError(ValueError):
    """An account operation that cannot be done, with a message fit for the user."""


def _check_new_account(email: str, password: str) -> str:
    """The normalised e-mail address if it is free and the password acceptable; AccountError otherwise."""
    email = email.strip().lower()
    if db.session.execute(select(User.id).where(func.lower(User.email) == email)).first():
        raise AccountError("An account with this e-mail address already exists.")
    if len(password) < 10:
        raise AccountError("Passwords need at least 10 characters.")
    return email


def create_wholesaler(org_name: str, email: str, password: str) -> User:
    """Create a wholesaler organization and its first (admin) user."""
    _check_new_account(email, password)
    org = Organization(kind="wholesaler", name=org_name.strip())
    db.session.add(org)
    return create_user(email, password, role="admin", organization=org)


def create_user(email: str, password: str, role: str = "admin", organization: Organization | None = None) -> User:
    """Create a user; e-mail addresses are unique regardless of case."""
    email = _check_new_account(email, password)
    user = User(email=email, password_hash=hash_password(password), role=role, organization=organization)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None (same answer for unknown e-mail and wrong password)."""
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None or not verify_password(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    try:
        db.session.commit()
    except OperationalError:
        # The time stamp is bookkeeping: a database busy beyond its timeout (SQLite's one writer, on a laptop whose
        # workers are pushing a catalog) must not turn a correct password into a server error.
        db.session.rollback()
    return user
