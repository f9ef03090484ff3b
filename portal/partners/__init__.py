"""Partners: invitations, flags and the eight sync toggles, partner CSV upload."""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners")

from portal.partners import views  # noqa: E402,F401
