"""The app's Redis connections: REDIS_URL when set, otherwise the embedded server under instance/."""

from __future__ import annotations

import redis
from flask import Flask, current_app

from portal.embedded_redis import ensure_embedded_redis


def init_redis(app: Flask) -> None:
    """Resolve the Redis URL once per app and point Flask-Limiter's storage at it."""
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = ensure_embedded_redis(app.instance_path)
    url = app.config["REDIS_URL"]
    storage = "redis+unix://" + url[len("unix://") :] if url.startswith("unix://") else url
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)


def get_redis(app: Flask | None = None) -> redis.Redis:
    """A shared client with short timeouts, so a hung Redis makes the web answer 503 quickly, not hang."""
    app = app or current_app._get_current_object()
    client = app.extensions.get("wholesync_redis")
    if client is None:
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)
        app.extensions["wholesync_redis"] = client
    return client


def worker_redis(app: Flask) -> redis.Redis:
    """A client for RQ workers and the scheduler: no read timeout, since they block on queue pops."""
    return redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
