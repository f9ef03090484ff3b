"""The app's Redis connections: REDIS_URL when set, otherwise the embedded server under instance/.

Web-side clients fail fast (short socket timeouts, no silent retries) so a hung Redis costs a request about a
second; production warns loudly when Redis could lose or evict queued jobs.
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from portal.embedded_redis import ensure_embedded_redis

log = logging.getLogger(__name__)


def init_redis(app: Flask) -> None:
    """Resolve the Redis URL once per app and point Flask-Limiter's storage at it; warn about durability."""
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = ensure_embedded_redis(app.instance_path)
    url = app.config["REDIS_URL"]
    storage = "redis+unix://" + url[len("unix://") :] if url.startswith("unix://") else url
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)
    if app.config.get("WHOLESYNC_ENV") == "production":
        for problem in durability_problems(fast_redis(app)):
            log.warning("REDIS IS NOT SAFE FOR PRODUCTION: %s; queued jobs can be lost", problem)


def fast_redis(app: Flask, timeout: float | None = None) -> redis.Redis:
    """A new client whose connects and reads give up after REDIS_SOCKET_TIMEOUT seconds, without retrying."""
    timeout = timeout if timeout is not None else float(app.config.get("REDIS_SOCKET_TIMEOUT", 1.0))
    return redis.Redis.from_url(
        app.config["REDIS_URL"],
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The shared fast-failing client, so a hung Redis makes the web answer 503 quickly instead of hanging."""
    app = app or current_app._get_current_object()
    client = app.extensions.get("wholesync_redis")
    if client is None:
        client = app.extensions["wholesync_redis"] = fast_redis(app)
    return client


def worker_redis(app: Flask) -> redis.Redis:
    """A client for RQ workers and the scheduler: no read timeout, since they block on queue pops."""
    return redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)


def durability_problems(client: redis.Redis) -> list[str]:
    """Why this Redis could lose queued jobs: no append-only file, or a maxmemory policy that evicts keys."""
    try:
        persistence = client.info("persistence")
        memory = client.info("memory")
    except redis.RedisError as exc:
        return [f"cannot read its settings ({type(exc).__name__})"]
    problems = []
    if not int(persistence.get("aof_enabled", 0)):
        problems.append("appendonly is off (a restart loses every queued job)")
    policy = memory.get("maxmemory_policy", "noeviction")
    if policy != "noeviction":
        problems.append(f"maxmemory-policy is {policy} (keys, i.e. jobs, can be evicted)")
    return problems
