"""Wholesaler accounts: sign-up, log in and out, password hashing and login throttling."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import views  # noqa: E402,F401
