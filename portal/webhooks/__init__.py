"""Platform webhooks: verify, record once, enqueue, answer fast."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from portal.webhooks import views  # noqa: E402,F401
