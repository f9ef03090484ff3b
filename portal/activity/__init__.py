"""The activity log: every add, edit and delete, by day."""

from flask import Blueprint

bp = Blueprint("activity", __name__, url_prefix="/activity")

from portal.activity import views  # noqa: E402,F401
