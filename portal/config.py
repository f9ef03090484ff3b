"""Configuration read from environment variables, with defaults that run on a laptop.

Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and TOKEN_ENCRYPTION_KEYS; a laptop sets nothing and gets
SQLite under instance/, an embedded Redis and keys generated once into instance/.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.engine import Engine

# How long a SQLite writer waits for another's lock before "database is locked" (Python's default is 5 s, too short
# for a web process, several workers and the scheduler writing one file at once).
SQLITE_BUSY_TIMEOUT_SECONDS = float(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS", "30"))


@event.listens_for(Engine, "connect")
def _sqlite_connection_setup(dbapi_connection, _record) -> None:
    """Give every SQLite connection a long busy timeout and the write-ahead log; other databases are untouched.

    Set on each new connection rather than through engine options, so a URL changed after the config was read (a
    test's PostgreSQL) never receives SQLite-only arguments. WAL lets readers go on while one process writes.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _instance_secret(instance_path: Path, name: str, make) -> str:
    """Read a development secret from instance/, creating it on first use (never used when the env var is set)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(raw: str | None, instance_path: Path) -> str:
    """Normalise DATABASE_URL (Heroku's postgres:// included) to a SQLAlchemy URL with the psycopg 3 driver."""
    if not raw:
        return f"sqlite:///{instance_path / 'wholesync.sqlite'}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    return raw


def engine_options(uri: str, lock_timeout: float) -> dict:
    """SQLAlchemy engine options. On PostgreSQL no statement waits longer than `lock_timeout` seconds for a lock: a
    run that waits for another's row while that one waits for something the first holds outside the database (a
    shop slot in Redis) would otherwise hang both workers for good; the waiter fails and RQ retries it."""
    options: dict = {"pool_pre_ping": True}
    if uri.startswith("postgresql") and lock_timeout > 0:
        options["connect_args"] = {"options": f"-c lock_timeout={int(lock_timeout * 1000)}"}
    return options


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from the environment."""
    env = os.environ.get
    production = env("WHOLESYNC_ENV", "development") == "production"
    if production and not (env("SECRET_KEY") and env("TOKEN_ENCRYPTION_KEYS")):
        raise RuntimeError("production needs SECRET_KEY and TOKEN_ENCRYPTION_KEYS in the environment")
    return {
        "WHOLESYNC_ENV": "production" if production else "development",
        "SECRET_KEY": env("SECRET_KEY") or _instance_secret(instance_path, "secret_key", lambda: secrets.token_hex(32)),
        "TOKEN_ENCRYPTION_KEYS": env("TOKEN_ENCRYPTION_KEYS")
        or _instance_secret(instance_path, "token_key", lambda: Fernet.generate_key().decode()),
        "SQLALCHEMY_DATABASE_URI": database_url(env("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},  # create_app adds the lock timeout (engine_options)
        "DATABASE_LOCK_TIMEOUT": float(env("DATABASE_LOCK_TIMEOUT", "60")),
        "REDIS_URL": env("REDIS_URL"),
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "1") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "1") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_LIMIT_PER_IP": env("LOGIN_LIMIT_PER_IP", "20 per 10 minutes"),
        "LOGIN_LIMIT_PER_EMAIL": env("LOGIN_LIMIT_PER_EMAIL", "5 per 10 minutes"),
        "SIGNUP_LIMIT_PER_IP": env("SIGNUP_LIMIT_PER_IP", "10 per hour"),
        # How many proxies in front of the app set X-Forwarded-For/-Proto: 0 on a laptop, 1 behind Heroku's router.
        # Too high lets a client pick its own address for the rate limits; too low keys them all on the router.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        # Request bodies: the largest anything may send (413 before the body is read), then per kind of endpoint.
        "MAX_CONTENT_LENGTH": int(env("MAX_CONTENT_LENGTH", str(5 * 1024 * 1024))),
        "WEBHOOK_MAX_BYTES": int(env("WEBHOOK_MAX_BYTES", str(2 * 1024 * 1024))),
        "UPLOAD_MAX_BYTES": int(env("UPLOAD_MAX_BYTES", str(5 * 1024 * 1024))),
        "FORM_MAX_BYTES": int(env("FORM_MAX_BYTES", str(256 * 1024))),
        # RQ: a dead worker's job is noticed in about two minutes instead of seven (docs/ARCHITECTURE.md §5).
        "RQ_WORKER_TTL": int(env("RQ_WORKER_TTL", "30")),
        "RQ_MAINTENANCE_INTERVAL": int(env("RQ_MAINTENANCE_INTERVAL", "5")),
        "RQ_JOB_TIMEOUT": int(env("RQ_JOB_TIMEOUT", "3600")),
        # A webhook receipt runs inside the urgent worker itself (jobs/worker.py): one that hangs would stop every
        # receipt behind it, so it is cut off (and retried) after this many seconds.
        "RQ_RECEIPT_TIMEOUT": int(env("RQ_RECEIPT_TIMEOUT", "120")),
        "RQ_RETRY_INTERVALS": [int(s) for s in env("RQ_RETRY_INTERVALS", "10,60,300").split(",")],
        # A lower queue whose oldest job has waited this long is taken before newer urgent work (no starvation).
        "RQ_STARVED_SECONDS": float(env("RQ_STARVED_SECONDS", "30")),
        "SCHEDULER_INTERVAL": int(env("SCHEDULER_INTERVAL", "30")),
        # A run's lease on (job, target): renewed by a heartbeat, so a dead work-horse frees it within this time.
        "RQ_LEASE_SECONDS": int(env("RQ_LEASE_SECONDS", "30")),
        # At most this many runs touch one shop (connection) at once, whatever the number of workers.
        "SYNC_SHOP_CONCURRENCY": int(env("SYNC_SHOP_CONCURRENCY", "2")),
        # The web's Redis socket timeouts (seconds): a hung Redis costs a request at most about this long.
        "REDIS_SOCKET_TIMEOUT": float(env("REDIS_SOCKET_TIMEOUT", "1")),
        "SHOPIFY_API_KEY": env("SHOPIFY_API_KEY", "wholesync-dev-client-id"),
        "SHOPIFY_API_SECRET": env("SHOPIFY_API_SECRET", "wholesync-dev-client-secret"),
        # During a client-secret rotation Shopify signs with either secret for a while; empty once it is over.
        "SHOPIFY_API_SECRET_OLD": env("SHOPIFY_API_SECRET_OLD", ""),
        "SHOPIFY_API_VERSION": env("SHOPIFY_API_VERSION", "2026-07"),
        "SHOPIFY_SCOPES": env(
            "SHOPIFY_SCOPES",
            "read_products,write_products,read_inventory,write_inventory,read_orders,write_orders,"
            "read_fulfillments,write_fulfillments,read_assigned_fulfillment_orders,write_assigned_fulfillment_orders,"
            "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,read_locations",
        ),
        "SHOPIFY_APP_URL": env("SHOPIFY_APP_URL", "http://localhost:5000"),
        # Transport injection: empty in production (https://{shop}); the sandbox base URL on a laptop and in tests.
        "SHOPIFY_ADMIN_BASE_URL": env("SHOPIFY_ADMIN_BASE_URL", ""),
        # Where WooCommerce shops deliver their webhooks (defaults to SHOPIFY_APP_URL, the app's public address).
        "WOOCOMMERCE_WEBHOOK_BASE_URL": env("WOOCOMMERCE_WEBHOOK_BASE_URL", ""),
        "WOOCOMMERCE_HTTP_TIMEOUT": float(env("WOOCOMMERCE_HTTP_TIMEOUT", "60")),  # self-hosted shops are slow
        "FEEDS_HTTP_TIMEOUT": float(env("FEEDS_HTTP_TIMEOUT", "60")),
        # A burst of stock events on one item within this many seconds becomes one push per retailer.
        "STOCK_EVENT_WINDOW_SECONDS": float(env("STOCK_EVENT_WINDOW_SECONDS", "2")),
        # App Bridge's script: Shopify's CDN in production; the local sandbox's stand-in under `make run`.
        "SHOPIFY_APP_BRIDGE_URL": env("SHOPIFY_APP_BRIDGE_URL", "https://cdn.shopify.com/shopifycloud/app-bridge.js"),
        # Origins besides the shop's admin allowed to frame the embedded app: the sandbox's admin under `make run`.
        "SHOPIFY_EXTRA_FRAME_ANCESTORS": env("SHOPIFY_EXTRA_FRAME_ANCESTORS", ""),
        "SHOPIFY_HTTP_TIMEOUT": float(env("SHOPIFY_HTTP_TIMEOUT", "30")),
        # An OAuth callback signed longer ago than this is refused (a replayed link).
        "SHOPIFY_HMAC_MAX_AGE_SECONDS": int(env("SHOPIFY_HMAC_MAX_AGE_SECONDS", str(24 * 3600))),
        "STRIPE_API_BASE": env("STRIPE_API_BASE", ""),
        "STRIPE_WEBHOOK_SECRET": env("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_MAX_NETWORK_RETRIES": int(env("STRIPE_MAX_NETWORK_RETRIES", "2")),
        "STRIPE_TIMEOUT_SECONDS": float(env("STRIPE_TIMEOUT_SECONDS", "30")),
        "APRUVE_API_BASE": env("APRUVE_API_BASE", "https://app.apruve.com/api/v4"),
        "APRUVE_WEBHOOK_SECRET": env("APRUVE_WEBHOOK_SECRET", ""),
        "APRUVE_TIMEOUT_SECONDS": float(env("APRUVE_TIMEOUT_SECONDS", "30")),
        # Apruve has no idempotency keys: a retried POST could create a second invoice, so none by default.
        "APRUVE_MAX_NETWORK_RETRIES": int(env("APRUVE_MAX_NETWORK_RETRIES", "0")),
    }
