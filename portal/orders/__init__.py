"""Orders with filters and the order timeline."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")
