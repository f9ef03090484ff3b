"""Stock latency from WooCommerce's webhook: stock changed in the wholesaler's WooCommerce sandbox shop through its
REST API (PUT /products/<id>), the shop's signed `product.updated` delivery reaching the running app, the app's RQ
workers (separate processes, as `make run` starts them) pulling the stock and pushing it by the batch endpoints,
timed until the retailer's WooCommerce level matches.

Numbers: `woo_stock_latency_p95_s` and `woo_stock` (samples, catalog size, machine load). Run with
`python -m benchmarks bench_woo_stock`; BENCH_WOO_STOCK_PRODUCTS (default 500 simple products) sets the catalog,
BENCH_WOO_STOCK_SAMPLES (default 15) the number of changes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_woo_catalog import (
    RT,
    WS,
    connect_pair,
    make_app,
    new_sandbox,
    seed_catalog,
    serve_sandbox,
    shop_client,
    stop_redis,
)
from benchmarks.common import p95, wait_for

CONFIG_KEYS = ("TESTING", "INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "SECRET_KEY",
               "TOKEN_ENCRYPTION_KEYS", "RQ_RETRY_INTERVALS", "RQ_JOB_TIMEOUT")  # fmt: skip


def _worker_main(config: dict) -> None:
    """An RQ worker in a fresh interpreter, as `flask worker` runs (its work-horses fork from it)."""
    from jobs.plan import QUEUES
    from jobs.worker import make_worker
    from portal import create_app

    os.setsid()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(config)
    with app.app_context():
        make_worker(app, queues=QUEUES).work(logging_level="WARNING", with_scheduler=False)


def start_workers(app, count: int = 2) -> list[multiprocessing.Process]:
    config = {k: app.config[k] for k in CONFIG_KEYS}
    procs = [multiprocessing.get_context("spawn").Process(target=_worker_main, args=(config,)) for _ in range(count)]
    for proc in procs:
        proc.start()
    return procs


def stop_workers(procs: list[multiprocessing.Process]) -> None:
    for proc in procs:
        if proc.pid and proc.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        proc.join(timeout=30)
        if proc.is_alive():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.join(timeout=10)


def app_sink(app):
    """Deliveries to the app's webhook endpoint, in this process (the app's real view, signature checked)."""
    base = app.config["SHOPIFY_APP_URL"].rstrip("/")

    def send(url: str, headers: dict, body: bytes) -> int:
        if not url.startswith(base):
            return 404
        with app.app_context():
            return app.test_client().post(url[len(base) :], headers=headers, data=body).status_code

    return send


def _scenario(products: int, count: int) -> dict:
    from integrations.woocommerce.webhooks import WHOLESALER_TOPICS, delivery_url, ensure_webhooks
    from jobs.runtime import run_now
    from portal.extensions import db
    from portal.redis_conn import get_redis

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-woo-stock-"))
    app = make_app(tmp)
    sandbox = new_sandbox(send=app_sink(app), auto_deliver=True)
    sandbox.add_store(WS, ssl=False, manage_stock=True)
    _counted, server, _base = serve_sandbox(sandbox)
    workers = []
    samples = []
    try:
        with app.app_context():
            db.create_all()
            get_redis().flushdb()
            seed_catalog(sandbox, WS, products, 1)
            sor, _store, _partnership = connect_pair(sandbox)
            run_now("products.pull")
            run_now("products.push")
            hooks = ensure_webhooks(shop_client(sandbox, WS), delivery_url(app.config, sor.id), sor.webhook_secret,
                                    WHOLESALER_TOPICS)  # fmt: skip
            assert hooks, "no webhooks"
            workers = start_workers(app)
            client = shop_client(sandbox, WS)
            items = sorted((i for i in sandbox.store(WS).products.values() if i.get("sku")), key=lambda i: i["id"])
            step = max(1, len(items) // count)
            # the first change warms the workers up (their first job imports and connects): not a sample
            for n, item in enumerate(items[::step][: count + 1]):
                wanted = 500 + n
                started = time.monotonic()
                client.put(f"products/{item['id']}", {"stock_quantity": wanted})
                target = sandbox.store(RT).by_sku(item["sku"])
                if not wait_for(lambda t=target, w=wanted: t.get("stock_quantity") == w):
                    raise TimeoutError(f"the stock of {item['sku']} never reached the retailer")
                if n:
                    samples.append(time.monotonic() - started)
                time.sleep(0.3)  # separate changes, not one burst
    finally:
        stop_workers(workers)
        server.shutdown()
        stop_redis(tmp)
    return {
        "woo_stock_latency_p95_s": p95(samples),
        "woo_stock": {"products": products, "trigger": "product.updated webhook",
                      "samples_s": [round(s, 3) for s in samples],
                      "median_s": round(statistics.median(samples), 3), "workers": len(workers),
                      "load_before": load_before, "load_after": os.getloadavg()},
    }  # fmt: skip


def main() -> dict:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    products = int(os.environ.get("BENCH_WOO_STOCK_PRODUCTS", 500))
    samples = int(os.environ.get("BENCH_WOO_STOCK_SAMPLES", 15))
    out = _scenario(products, samples)
    print(out)
    return out
