"""`make run` as a newcomer meets it: the login page is served, the demo login reaches the dashboard, and
Ctrl-C leaves no process behind (web, worker, scheduler, sandbox, work-horses, embedded Redis)."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_login_page(base: str, proc: subprocess.Popen, timeout: float = 240) -> httpx.Response:
    # Generous: on a loaded shared machine (load 18 on 2 cores) migrating, seeding and booting took about 2 minutes.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "make run exited early"
        try:
            response = httpx.get(f"{base}/login", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the login page never answered")


def test_make_run_serves_the_demo_and_ctrl_c_leaves_nothing_behind(tmp_path):
    port, sandbox_port, mail_port, smtp_port = _free_port(), _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT")}
    env |= {"WHOLESYNC_INSTANCE_PATH": str(tmp_path), "PORT": str(port), "SANDBOX_PORT": str(sandbox_port)}
    env |= {"MAIL_PAGE_PORT": str(mail_port), "MAIL_CATCHER_SMTP_PORT": str(smtp_port)}
    env["SESSION_COOKIE_SECURE"] = "0"  # httpx, unlike a browser, keeps no Secure cookie for http://localhost
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "devrun.py")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    # Read the output as a terminal would: a pipe nobody reads fills up and blocks every process writing to it.
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    base = f"http://localhost:{port}"
    tree: list[psutil.Process] = []
    try:
        login_page = _wait_for_login_page(base, proc)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page.text).group(1)
        with httpx.Client(base_url=base, cookies=login_page.cookies, follow_redirects=True, timeout=10) as browser:
            dashboard = browser.post(
                "/login", data={"email": "demo@example.com", "password": "demo-wholesaler", "csrf_token": token}
            )
        assert dashboard.status_code == 200 and str(dashboard.url).endswith("/dashboard")
        assert "Demo Wholesale Co." in dashboard.text
        assert f"http://127.0.0.1:{sandbox_port}/_sandbox/admin/" in dashboard.text  # "Local sandbox shops"
        shops = httpx.get(f"http://127.0.0.1:{sandbox_port}/_sandbox/admin/", timeout=10)
        assert shops.status_code == 200 and "demo-retailer-1.myshopify.com" in shops.text
        mail_page = httpx.get(f"http://127.0.0.1:{mail_port}/", timeout=10)  # the local mail catcher
        assert mail_page.status_code == 200 and "Local sandbox" in mail_page.text
        parent = psutil.Process(proc.pid)
        tree = [parent, *parent.children(recursive=True)]
        assert len(tree) >= 6  # devrun + sandbox + mail + web + worker + scheduler (and gunicorn's workers)
        redis_pid = int((tmp_path / "redis" / "redis.pid").read_text())
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        proc.wait(timeout=60)
        reader.join(timeout=10)
    output = "".join(lines)
    assert "Log in as demo@example.com / demo-wholesaler" in output
    assert f"http://127.0.0.1:{sandbox_port}/_sandbox/admin/" in output  # the sandbox shop pages
    assert f"http://127.0.0.1:{mail_port}/" in output  # the mail catcher's page
    time.sleep(1)
    survivors = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], f"left behind: {[p.cmdline() for p in survivors]}"
    assert not psutil.pid_exists(redis_pid) or psutil.Process(redis_pid).status() == psutil.STATUS_ZOMBIE
