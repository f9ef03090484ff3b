"""`make run`: the whole product on a laptop — embedded Redis, SQLite, sandbox shops, web, worker, scheduler.

Migrates, seeds the demo data, starts every process in its own session, prints the URL and the demo login,
and on Ctrl-C stops them all (work-horses included) and the embedded Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.demo import DEMO_EMAIL, DEMO_PASSWORD  # noqa: E402
from portal.embedded_redis import ensure_embedded_redis, stop_embedded_redis  # noqa: E402

PORT = int(os.environ.get("PORT", "5000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "5001"))
MAIL_PAGE_PORT = int(os.environ.get("MAIL_PAGE_PORT", "5002"))
SMTP_PORT = int(os.environ.get("MAIL_CATCHER_SMTP_PORT", "1025"))
BIN = Path(sys.executable).parent
INSTANCE = Path(os.environ.get("WHOLESYNC_INSTANCE_PATH", ROOT / "instance"))


def _environment() -> tuple[dict[str, str], bool]:
    env = dict(os.environ, FLASK_APP="wsgi", PYTHONUNBUFFERED="1")
    embedded = not env.get("REDIS_URL")
    if embedded:
        env["REDIS_URL"] = ensure_embedded_redis(INSTANCE / "redis")
    env.setdefault("SHOPIFY_ADMIN_BASE_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("SHOPIFY_APP_URL", f"http://localhost:{PORT}")
    # The sandbox's admin pages frame the embedded app and stand in for App Bridge (fakes/shopify/admin/embedded.py).
    env.setdefault("SHOPIFY_EXTRA_FRAME_ANCESTORS", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("SHOPIFY_APP_BRIDGE_URL", f"http://127.0.0.1:{SANDBOX_PORT}/_sandbox/app-bridge.js")
    # The Stripe and Apruve fakes share the sandbox's port under a path prefix (fakes/serve.py).
    env.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{SANDBOX_PORT}/stripe")
    env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_fake")
    env.setdefault("APRUVE_API_BASE", f"http://127.0.0.1:{SANDBOX_PORT}/apruve/api/v4")
    env.setdefault("APRUVE_WEBHOOK_SECRET", "apruve-fake-secret")
    # Alerts and invitations go to the local mail catcher (fakes/mail.py), whose page shows what was sent.
    env.setdefault("MAIL_SERVER", "127.0.0.1")
    env.setdefault("MAIL_PORT", str(SMTP_PORT))
    return env, embedded


def _processes(env: dict[str, str]) -> dict[str, list[str]]:
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    return {
        "sandbox": [
            sys.executable,
            "-m",
            "fakes.serve",
            "--port",
            str(SANDBOX_PORT),
            "--app-url",
            env["SHOPIFY_APP_URL"],
        ],
        "mail": [
            sys.executable,
            "-m",
            "fakes.mail",
            "--port",
            str(MAIL_PAGE_PORT),
            "--smtp-port",
            str(SMTP_PORT),
        ],
        "web": [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{PORT}", "--workers", "2", "--threads", "4", "wsgi:app"],
        "worker": [*flask, "worker"],
        "urgent": [*flask, "worker", "--queues", "webhooks,orders"],  # orders and events never wait behind a pass
        "scheduler": [*flask, "scheduler"],
    }


def _stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM each process group, then SIGKILL whatever of their trees (work-horses too) is still alive."""
    tree = []
    for proc in children.values():
        try:
            parent = psutil.Process(proc.pid)
            tree += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for proc in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=8)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


helpers: list[subprocess.Popen] = []  # short-lived commands run beside the processes (stopped with them)


def _demo_billing(env: dict[str, str], flask: list[str]) -> None:
    """Once the web and the sandbox answer, the demo retailers save a card on the Stripe fake's page (the fake tells
    the web by webhook), so the demo bills by card; in a thread, so Ctrl-C is never held up by it."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc = subprocess.Popen(
        [*flask, "demo", "billing"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    helpers.append(proc)
    out, _ = proc.communicate()
    lines = (out or "").strip().splitlines() or ["demo billing: no output"]
    print(f"  {lines[-1]}", flush=True)


def main() -> int:
    env, embedded = _environment()
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    subprocess.run([*flask, "demo", "seed"], env=env, cwd=ROOT, check=True)
    children = {
        name: subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True) for name, cmd in _processes(env).items()
    }
    threading.Thread(target=_demo_billing, args=(env, flask), daemon=True).start()
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"\n  Wholesync is running at http://localhost:{PORT}\n  Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
    print(f"  Sandbox shop pages (place orders, ship them) at {env['SHOPIFY_ADMIN_BASE_URL']}/_sandbox/admin/")
    print(f"  E-mails sent (alerts, invitations) at http://127.0.0.1:{MAIL_PAGE_PORT}/")
    print("  Press Ctrl-C to stop everything.\n", flush=True)
    try:
        while not stopping:
            dead = [name for name, proc in children.items() if proc.poll() is not None]
            if dead:
                print(f"process {', '.join(dead)} exited; stopping everything", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        for proc in helpers:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        _stop(children)
        if embedded:
            stop_embedded_redis(INSTANCE / "redis")
        print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
