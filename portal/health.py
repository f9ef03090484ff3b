"""GET /healthz: is the app able to reach its database and Redis right now, and (in production) is Redis durable.

Every probe uses the fast-failing Redis client, so a hung Redis answers 503 in about a second.
"""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from portal.extensions import db
from portal.redis_conn import durability_problems, get_redis

bp = Blueprint("health", __name__)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure of the dependency counts as down
        return f"down: {type(exc).__name__}"


@bp.get("/healthz")
def healthz():
    """200 with each dependency "ok"; 503 naming what is down; 200 "degraded" when production Redis is not durable."""
    checks = {
        "database": _check(lambda: db.session.execute(text("SELECT 1"))),
        "redis": _check(lambda: get_redis().ping()),
    }
    if not all(v == "ok" for v in checks.values()):
        return jsonify(status="down", **checks), 503
    if current_app.config.get("WHOLESYNC_ENV") == "production":
        problems = durability_problems(get_redis())
        if problems:
            return jsonify(status="degraded", redis_durability="; ".join(problems), **checks), 200
        checks["redis_durability"] = "ok"
    return jsonify(status="ok", **checks), 200
