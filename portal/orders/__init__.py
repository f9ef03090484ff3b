"""Orders with filters and the order timeline."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")

from portal.orders import views  # noqa: E402,F401
