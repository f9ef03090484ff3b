"""A burst of 1,000 correctly signed Shopify webhooks while every worker is busy, against gunicorn as `make run`
serves it: every delivery must be answered within Shopify's 5 s, and all of them processed exactly once afterwards.

`main()` starts a private redis-server, gunicorn (2 workers x 4 threads, wsgi:app) and two RQ workers on a throw-away
database (SQLite in a temp dir, or BENCH_DATABASE_URL), keeps the workers busy, posts the burst with 20 concurrent
senders and returns {"webhook_burst_p50_ms", "webhook_burst_p95_ms", "webhook_burst_p99_ms", ...}
(webhook_burst_postgresql_* when BENCH_DATABASE_URL is PostgreSQL).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DELIVERIES = 1000
CONCURRENCY = 20
SHOPIFY_DEADLINE_MS = 5000
BUSY_SECONDS = 20  # each worker starts the burst inside a job this long
DRAIN_TIMEOUT = 300
SHOP = "burst-retail.myshopify.com"
SECRET = "bench-webhook-secret"
KEY = "2Q2Jq3bqs8f6HT8NUwzB8UtSbw8y_yl6wzcf3LNyHxk="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def _warm(port: int, timeout: float = 300) -> None:
    """Wait until gunicorn's workers have loaded the app and answer at once, as a deployed server would before
    Shopify sends it anything (the master listens before its workers finish booting)."""
    import httpx

    deadline = time.time() + timeout
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

        def probe(_) -> float:
            started = time.perf_counter()
            try:
                ok = client.get("/healthz").status_code == 200
            except httpx.HTTPError:  # still booting on a busy machine: ask again
                ok = False
            return time.perf_counter() - started if ok else float("inf")

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            while time.time() < deadline:
                if max(pool.map(probe, range(CONCURRENCY))) < 1:
                    return
                time.sleep(0.5)
    raise RuntimeError("gunicorn never answered /healthz promptly")


def _signed(n: int) -> tuple[bytes, dict]:
    """One app/scopes_update delivery as Shopify signs it (HMAC-SHA256 of the raw body, base64)."""
    body = json.dumps({"id": n, "previous": ["read_products"], "current": ["read_products", "write_orders"]}).encode()
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "app/scopes_update",
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": f"burst-webhook-{n}",
        "X-Shopify-Event-Id": f"burst-event-{n}",
        "X-Shopify-Triggered-At": "2026-11-30T00:00:00.000Z",
    }
    return body, headers


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _spawn(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group (gunicorn's workers, RQ work-horses included), then SIGKILL what is left."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _seed(app) -> None:
    from portal.extensions import db
    from portal.models import Connection, Organization

    org = Organization(kind="retailer", name="Burst Retail")
    db.session.add(org)
    db.session.flush()
    db.session.add(Connection(organization_id=org.id, platform="shopify", role="store", address=SHOP, scopes=""))
    db.session.commit()


def _counts(app, redis_url: str) -> dict:
    """Receipts recorded and processed, and the webhook jobs RQ finished or failed."""
    import redis
    from rq import Queue
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import WebhookReceipt

    db.session.remove()
    rows = db.session.execute(
        select(
            func.count(), func.count(WebhookReceipt.processed_at), func.count(func.distinct(WebhookReceipt.event_id))
        )
    ).one()
    queue = Queue("webhooks", connection=redis.Redis.from_url(redis_url))
    finished = [j for j in queue.finished_job_registry.get_job_ids() if j.startswith("webhook-")]
    return {
        "receipts": rows[0],
        "processed": rows[1],
        "distinct_events": rows[2],
        "jobs_finished": len(finished),
        "jobs_finished_distinct": len(set(finished)),
        "jobs_failed": queue.failed_job_registry.count,
    }


def main() -> dict:
    """Run the burst; prints latencies and what was processed; returns the numbers for results.json."""
    from portal import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    redis_port, web_port = _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    db_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'burst.sqlite'}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench",
        "TOKEN_ENCRYPTION_KEYS": KEY,
        "SHOPIFY_API_SECRET": SECRET,
        "SESSION_COOKIE_SECURE": "0",
        "RQ_RETRY_INTERVALS": "1,2",
    }
    procs = [_spawn(["redis-server", "--port", str(redis_port), "--dir", str(tmp), "--appendonly", "yes",
                     "--save", ""], env, tmp / "redis.log")]  # fmt: skip
    try:
        _wait_port(redis_port)
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "REDIS_URL": redis_url, "TOKEN_ENCRYPTION_KEYS": KEY,
                          "SECRET_KEY": "bench", "INSTANCE_PATH": str(tmp)})  # fmt: skip
        with app.app_context():
            _seed(app)
            import redis
            from rq import Queue

            queue = Queue("webhooks", connection=redis.Redis.from_url(redis_url))
            for n in range(2):  # one long job per worker: the burst arrives while both are busy
                queue.enqueue("time.sleep", BUSY_SECONDS, job_id=f"busy-{n}", job_timeout=BUSY_SECONDS + 30)
            web = ["--bind", f"127.0.0.1:{web_port}", "--workers", "2", "--threads", "4", "wsgi:app"]
            procs.append(_spawn([str(BIN / "gunicorn"), *web], env, tmp / "web.log"))
            for n in range(2):
                procs.append(_spawn([str(BIN / "flask"), "--app", "wsgi", "worker", "--name", f"burst-{n}"], env,
                                    tmp / f"worker{n}.log"))  # fmt: skip
            _wait_port(web_port)
            _warm(web_port)
            deadline = time.time() + 60
            while queue.started_job_registry.count < 2 and time.time() < deadline:
                time.sleep(0.2)
            busy_at_start = queue.started_job_registry.count
            latencies, statuses = _burst(web_port)
            burst_done = time.time()
            counts = _counts(app, redis_url)
            while counts["processed"] < DELIVERIES and time.time() < burst_done + DRAIN_TIMEOUT:
                time.sleep(1)
                counts = _counts(app, redis_url)
            drained_s = time.time() - burst_done
    finally:
        _stop(procs)
    ok = sum(1 for s in statuses if s == 200)
    # Keys per database: SQLite (the local default) and PostgreSQL (production) are both recorded.
    key = "webhook_burst" if db_url.startswith("sqlite") else "webhook_burst_" + db_url.split(":")[0].split("+")[0]
    result = {
        f"{key}_p50_ms": round(_percentile(latencies, 50), 1),
        f"{key}_p95_ms": round(_percentile(latencies, 95), 1),
        f"{key}_p99_ms": round(_percentile(latencies, 99), 1),
        f"{key}_max_ms": round(max(latencies), 1),
        f"{key}_answered_200": ok,
        f"{key}_over_5s": sum(1 for v in latencies if v > SHOPIFY_DEADLINE_MS),
        f"{key}_processed": counts["processed"],
        f"{key}_processed_once": counts["processed"] == counts["distinct_events"] == DELIVERIES
        and counts["jobs_finished_distinct"] == counts["jobs_finished"] == DELIVERIES
        and counts["jobs_failed"] == 0,
        f"{key}_drain_s": round(drained_s, 1),
    }
    print(
        f"{DELIVERIES} deliveries, {CONCURRENCY} concurrent, {busy_at_start} workers busy at the start: "
        f"p50 {result[f'{key}_p50_ms']} ms, p95 {result[f'{key}_p95_ms']} ms, "
        f"p99 {result[f'{key}_p99_ms']} ms, max {result[f'{key}_max_ms']} ms; {ok} answered 200, "
        f"{result[f'{key}_over_5s']} over 5 s"
    )
    print(f"after the burst ({drained_s:.1f} s to drain): {counts}")
    return result


def _burst(port: int) -> tuple[list[float], list[int]]:
    import httpx

    deliveries = [_signed(n) for n in range(DELIVERIES)]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

        def send(delivery) -> tuple[float, int]:
            body, headers = delivery
            started = time.perf_counter()
            resp = client.post("/webhooks/shopify", content=body, headers=headers)
            return (time.perf_counter() - started) * 1000, resp.status_code

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            answers = list(pool.map(send, deliveries))
    return [a[0] for a in answers], [a[1] for a in answers]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(main())
