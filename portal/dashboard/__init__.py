"""The wholesaler's dashboard: the front door and the overview of sync health."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from portal.dashboard import views  # noqa: E402,F401
