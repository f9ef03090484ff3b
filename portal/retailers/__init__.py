"""A way in for retailers not on Shopify: sign up with the standalone login by accepting a wholesaler's invitation."""

from flask import Blueprint

bp = Blueprint("retailers", __name__, url_prefix="/retailers")

from portal.retailers import views  # noqa: E402,F401
