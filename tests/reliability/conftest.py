"""Fixtures for runtime fault tests: an app bound to a private redis-server the test may pause, kill or restart."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import _config, _empty_tables
from tests.reliability.servers import RedisServer


@pytest.fixture
def make_redis(tmp_path):
    """Start private redis-servers (appendonly on or off); every one is stopped at the end of the test."""
    started = []

    def start(appendonly: bool = True, name: str = "redis") -> RedisServer:
        server = RedisServer(tmp_path / name, appendonly).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def private_app(services, _schema, tmp_path):
    """Build an app on this session's database and the given Redis URL, inside its app context."""
    apps = []

    def build(redis_url: str, **config):
        app = create_app(_config(services, tmp_path / f"instance{len(apps)}") | {"REDIS_URL": redis_url} | config)
        ctx = app.app_context()
        ctx.push()
        apps.append(ctx)
        _empty_tables()
        return app

    yield build
    for ctx in reversed(apps):
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
        ctx.pop()


def worker_env(services, app, redis_url: str, **extra) -> dict:
    """Environment for a worker subprocess on this session's database and the given Redis."""
    return (
        services.env()
        | {
            "REDIS_URL": redis_url,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "TOKEN_ENCRYPTION_KEYS": app.config["TOKEN_ENCRYPTION_KEYS"],
            "RQ_RETRY_INTERVALS": "0,0",
        }
        | {k: str(v) for k, v in extra.items()}
    )
