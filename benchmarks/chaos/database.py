"""A scratch PostgreSQL database for one soak: created on the server DATABASE_URL names, dropped at the end.

The soak never touches the database DATABASE_URL itself names (other test runs use it); SQLite needs nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _admin_url(url):
    return url.set(drivername="postgresql+psycopg", database="postgres")


@contextlib.contextmanager
def scratch_database(raw: str | None, keep: bool = False) -> Iterator[str | None]:
    """Yield the URL of a fresh database `wholesync_chaos_<pid>` on `raw`'s server (None stays None: SQLite).

    With `keep` the database outlives the soak, for reading what happened to the orders a violation names.
    """
    if not raw:
        yield None
        return
    url = make_url(raw.replace("postgres://", "postgresql://", 1))
    name = f"wholesync_chaos_{os.getpid()}"
    admin = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # PG may have restarted
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"chaos: database {name} kept", flush=True)
        else:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
