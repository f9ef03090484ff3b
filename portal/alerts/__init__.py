"""Alerts: the open alerts of the organization and each person's e-mail settings (immediate, digest, muted kinds)."""

from flask import Blueprint

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

from portal.alerts import views  # noqa: E402,F401
