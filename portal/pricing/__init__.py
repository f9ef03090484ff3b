"""Price lists: markups, rounding, exceptions, CSV upload and 'explain this price'."""

from flask import Blueprint

bp = Blueprint("pricing", __name__, url_prefix="/price-lists")

from portal.pricing import views  # noqa: E402,F401
