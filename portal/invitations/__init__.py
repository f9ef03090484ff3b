"""The invitation link's public page (/join/<code>): install the Shopify app, or sign up on another platform."""

from flask import Blueprint

bp = Blueprint("invitations", __name__, url_prefix="/join")

from portal.invitations import views  # noqa: E402,F401
