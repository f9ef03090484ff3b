"""The wholesaler's catalog as the hub holds it, and where each product is listed."""

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

from portal.catalog import views  # noqa: E402,F401
