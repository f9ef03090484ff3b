"""Shopify fulfillment-service callbacks: fulfillment requests and fetch_stock."""

from flask import Blueprint

bp = Blueprint("fulfillment_service", __name__, url_prefix="/fulfillment-service")

from portal.fulfillment_service import views  # noqa: E402,F401
