"""GET /healthz: is the app able to reach its database and Redis right now."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal.extensions import db
from portal.redis_conn import get_redis

bp = Blueprint("health", __name__)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure of the dependency counts as down
        return f"down: {type(exc).__name__}"


@bp.get("/healthz")
def healthz():
    """200 with each dependency "ok", or 503 naming what is down."""
    checks = {
        "database": _check(lambda: db.session.execute(text("SELECT 1"))),
        "redis": _check(lambda: get_redis().ping()),
    }
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "down", **checks), 200 if healthy else 503
