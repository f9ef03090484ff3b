"""The operator view: every tenant's sync health, failed jobs, queue depths."""

from flask import Blueprint

bp = Blueprint("ops", __name__, url_prefix="/ops")

from portal.ops import views  # noqa: E402,F401
