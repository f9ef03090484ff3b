"""Platform webhooks: verify, record once, enqueue, answer fast."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from portal.webhooks import views, woocommerce  # noqa: E402,F401
