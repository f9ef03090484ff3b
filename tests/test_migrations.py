"""Alembic migrations upgrade an empty database to exactly the models, on SQLite and on PostgreSQL."""

import uuid

import pytest
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal import create_app


def _migrate_and_check(url: str, instance, redis_url: str) -> set[str]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "REDIS_URL": redis_url})
    with app.app_context():
        upgrade()
        check()  # raises if the models and the migrated schema differ
        tables = set(inspect(app.extensions["sqlalchemy"].engine).get_table_names())
        downgrade(revision="base")
        app.extensions["sqlalchemy"].engine.dispose()
    return tables


def test_migrations_upgrade_an_empty_sqlite_database_to_the_models(services, tmp_path):
    tables = _migrate_and_check(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path, services.redis_url)
    assert {"invoice", "partnership", "webhook_receipt", "sync_run", "variant"} <= tables


def test_migrations_upgrade_an_empty_postgres_database_to_the_models(services, tmp_path):
    if not services.is_postgres:
        pytest.skip("PostgreSQL is exercised when DATABASE_URL points at it (CI does)")
    admin = create_engine(services.database_url, isolation_level="AUTOCOMMIT")
    name = f"wholesync_migrate_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(services.database_url).set(database=name).render_as_string(False)
        tables = _migrate_and_check(url, tmp_path, services.redis_url)
        assert {"invoice", "partnership", "webhook_receipt"} <= tables
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
