"""Which database and Redis the tests use: DATABASE_URL / REDIS_URL when set (CI), else SQLite + embedded Redis."""

from __future__ import annotations

import os
from pathlib import Path

from portal.config import database_url
from portal.embedded_redis import ensure_embedded_redis, stop_embedded_redis


class TestServices:
    """Resolved once per test session; subprocesses (workers) get the same URLs through `env()`."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.database_url = database_url(os.environ.get("DATABASE_URL"), tmp)
        self.embedded_redis = not os.environ.get("REDIS_URL")
        self.redis_url = os.environ.get("REDIS_URL") or ensure_embedded_redis(tmp / "redis")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    def env(self) -> dict[str, str]:
        """Environment for a child process that must share this session's database and Redis."""
        return {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}

    def close(self) -> None:
        if self.embedded_redis:
            stop_embedded_redis(self.tmp / "redis")
