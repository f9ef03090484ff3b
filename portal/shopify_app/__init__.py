"""The embedded retailer app (App URL /shopify) and the wholesaler's Shopify store connection."""

from flask import Blueprint

bp = Blueprint("shopify_app", __name__)

from portal.shopify_app import views  # noqa: E402,F401
