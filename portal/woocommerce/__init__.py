"""Connecting a WooCommerce shop: WooCommerce's application authentication or pasted keys."""

from flask import Blueprint

bp = Blueprint("woocommerce", __name__, url_prefix="/woocommerce")

from portal.woocommerce import views  # noqa: E402,F401
