"""Invoices, tomorrow's invoice preview, gateway setup, and the gateways' webhooks."""

from flask import Blueprint

bp = Blueprint("billing", __name__, url_prefix="/billing")

from portal.billing import views  # noqa: E402, F401 - registers the routes
