"""Settings -> Sync: the jobs of the plan, Run now, and the live progress panel of a run."""

from flask import Blueprint

bp = Blueprint("sync", __name__, url_prefix="/sync")

from portal.sync import views  # noqa: E402,F401
