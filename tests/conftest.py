"""Fixtures: the app on this session's database and Redis, a client with a login helper, the CLI runner."""

from __future__ import annotations

import contextlib
import ctypes
import re

import psutil
import pytest
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.redis_conn import get_redis
from tests.support.factories import PASSWORD
from tests.support.services import TestServices

PR_SET_CHILD_SUBREAPER = 36


def pytest_configure(config):
    """Orphans of the processes tests start (an RQ work-horse whose worker was killed) become this process's
    children instead of init's, so `_no_stray_processes` can find and end them."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@pytest.fixture(autouse=True)
def _no_stray_processes():
    """Every process a test starts ends with the test, so a leftover worker can never take a later test's jobs."""
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    yield
    stray = [child for child in me.children(recursive=True) if child.pid not in before]
    for child in stray:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(stray, timeout=10)


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    svc = TestServices(tmp_path_factory.mktemp("services"))
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def _schema(services, tmp_path_factory):
    """Create the schema once per session (migrations are tested separately)."""
    app = create_app(_config(services, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return True


def _config(services, instance) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": services.database_url,
        "REDIS_URL": services.redis_url,
        "RQ_RETRY_INTERVALS": [0, 0],
        "SECRET_KEY": "test-secret",
        "TOKEN_ENCRYPTION_KEYS": "2Q2Jq3bqs8f6HT8NUwzB8UtSbw8y_yl6wzcf3LNyHxk=",
    }


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            db.session.execute(text(f'DELETE FROM "{t}"'))
    db.session.commit()


@pytest.fixture
def app(services, _schema, tmp_path):
    app = create_app(_config(services, tmp_path))
    with app.app_context():
        _empty_tables()
        get_redis().flushdb()
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        token = csrf_token(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def token(self, path: str = "/dashboard") -> str:
        return csrf_token(self.client.get(path).get_data(as_text=True))


@pytest.fixture
def auth(client):
    return Auth(client)
