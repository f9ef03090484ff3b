"""Configuration: every setting the app reads comes from the environment, with a default that runs on a laptop.

Production refuses to start without its secrets; a laptop generates them once into instance/.
"""

import re
from pathlib import Path

import pytest

from portal import create_app
from portal.config import database_url, engine_options, load_config


def test_database_url_defaults_to_sqlite_under_instance(tmp_path):
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'wholesync.sqlite'}"


def test_heroku_postgres_url_gets_the_psycopg3_driver():
    assert database_url("postgres://u:p@h:5432/db", Path(".")) == "postgresql+psycopg://u:p@h:5432/db"
    assert database_url("postgresql://u@h/db", Path(".")) == "postgresql+psycopg://u@h/db"


def test_on_postgresql_no_statement_waits_longer_than_the_lock_timeout(monkeypatch, tmp_path):
    pg = "postgresql+psycopg://u@h/db"
    assert engine_options(pg, 2.5) == {"pool_pre_ping": True, "connect_args": {"options": "-c lock_timeout=2500"}}
    assert "connect_args" not in engine_options(f"sqlite:///{tmp_path / 'x.sqlite'}", 60)  # SQLite has no such setting
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")  # the app is then given SQLite: the options follow it
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'y.sqlite'}", "INSTANCE_PATH": str(tmp_path)})
    assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_the_lock_timeout_is_in_force_on_the_database_the_app_uses(app):
    from sqlalchemy import text

    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        assert db.session.execute(text("SHOW lock_timeout")).scalar() == "1min"
    else:
        assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_production_refuses_to_start_without_secrets_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WHOLESYNC_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(tmp_path)


def test_laptop_secrets_are_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("TOKEN_ENCRYPTION_KEYS", raising=False)
    first, second = load_config(tmp_path), load_config(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) == 64
    assert first["TOKEN_ENCRYPTION_KEYS"] == second["TOKEN_ENCRYPTION_KEYS"]


# Every setting the app reads, the value set in the environment and the value the config must then hold.
FROM_ENVIRONMENT = {
    "SECRET_KEY": ("s3cret", "s3cret"),
    "TOKEN_ENCRYPTION_KEYS": ("k1,k2", "k1,k2"),
    "DATABASE_URL": ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    "REDIS_URL": ("redis://cache:6380/2", "redis://cache:6380/2"),
    "SESSION_COOKIE_SECURE": ("0", False),
    "LOGIN_LIMIT_PER_IP": ("7 per minute", "7 per minute"),
    "LOGIN_LIMIT_PER_EMAIL": ("3 per minute", "3 per minute"),
    "RQ_WORKER_TTL": ("45", 45),
    "RQ_MAINTENANCE_INTERVAL": ("9", 9),
    "RQ_JOB_TIMEOUT": ("120", 120),
    "RQ_RECEIPT_TIMEOUT": ("30", 30),
    "DATABASE_LOCK_TIMEOUT": ("2.5", 2.5),
    "RQ_RETRY_INTERVALS": ("1,2,3", [1, 2, 3]),
    "SCHEDULER_INTERVAL": ("11", 11),
    "SHOPIFY_API_KEY": ("client-id", "client-id"),
    "SHOPIFY_API_SECRET": ("new-secret", "new-secret"),
    "SHOPIFY_API_SECRET_OLD": ("old-secret", "old-secret"),
    "SHOPIFY_API_VERSION": ("2026-10", "2026-10"),
    "SHOPIFY_SCOPES": ("read_products", "read_products"),
    "SHOPIFY_APP_URL": ("https://hub.example", "https://hub.example"),
    "SHOPIFY_ADMIN_BASE_URL": ("http://sandbox:5001", "http://sandbox:5001"),
    "SHOPIFY_HTTP_TIMEOUT": ("12.5", 12.5),
    "SHOPIFY_HMAC_MAX_AGE_SECONDS": ("600", 600),
    "STRIPE_API_BASE": ("http://stripe-fake", "http://stripe-fake"),
    "STRIPE_WEBHOOK_SECRET": ("whsec_x", "whsec_x"),
    "STRIPE_MAX_NETWORK_RETRIES": ("4", 4),
    "STRIPE_TIMEOUT_SECONDS": ("8", 8.0),
    "APRUVE_API_BASE": ("http://apruve-fake", "http://apruve-fake"),
    "APRUVE_WEBHOOK_SECRET": ("apruve-x", "apruve-x"),
    "APRUVE_TIMEOUT_SECONDS": ("6", 6.0),
    "APRUVE_MAX_NETWORK_RETRIES": ("3", 3),
}
CONFIG_KEY = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}
# Passed in by code, never by the environment: the tests' in-process Shopify transport and instance path.
# httpx transports injected by tests and the sandboxes (objects, not settings)
NOT_FROM_ENVIRONMENT = {"SHOPIFY_HTTP_TRANSPORT", "WOOCOMMERCE_HTTP_TRANSPORT", "FEEDS_HTTP_TRANSPORT", "INSTANCE_PATH"}
ROOT = Path(__file__).resolve().parents[1]
GATEWAYS = ("STRIPE", "APRUVE")  # payment gateways read their settings as f"{prefix}_<NAME>"


@pytest.mark.parametrize("variable", sorted(FROM_ENVIRONMENT))
def test_each_setting_is_read_from_the_environment(monkeypatch, tmp_path, variable):
    raw, expected = FROM_ENVIRONMENT[variable]
    monkeypatch.setenv(variable, raw)
    assert load_config(tmp_path)[CONFIG_KEY.get(variable, variable)] == expected


def test_without_the_environment_every_setting_has_a_laptop_default(monkeypatch, tmp_path):
    for variable in FROM_ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    config = load_config(tmp_path)
    assert config["SHOPIFY_API_SECRET_OLD"] == ""  # no rotation under way
    assert config["SHOPIFY_HTTP_TIMEOUT"] == 30.0 and config["SHOPIFY_HMAC_MAX_AGE_SECONDS"] == 24 * 3600
    assert config["STRIPE_TIMEOUT_SECONDS"] == 30.0 and config["STRIPE_MAX_NETWORK_RETRIES"] == 2
    assert config["APRUVE_TIMEOUT_SECONDS"] == 30.0
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and config["REDIS_URL"] is None


def test_the_remember_cookie_follows_the_session_cookie_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert load_config(tmp_path)["REMEMBER_COOKIE_SECURE"] is False


def test_every_setting_the_code_reads_is_in_the_config(tmp_path):
    read = set()
    for package in ("portal", "jobs", "integrations"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            read |= set(re.findall(r"(?:config|cfg)(?:\[|\.get\()\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
            read |= {f"{g}_{name}" for name in re.findall(r"\{prefix\}_([A-Z][A-Z0-9_]+)", text) for g in GATEWAYS}
    assert {"SHOPIFY_API_SECRET_OLD", "STRIPE_TIMEOUT_SECONDS", "APRUVE_MAX_NETWORK_RETRIES"} <= read
    assert read - NOT_FROM_ENVIRONMENT - set(load_config(tmp_path)) == set()
