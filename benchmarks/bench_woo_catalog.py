"""WooCommerce to WooCommerce: 10,000 variants from a wholesaler's WooCommerce shop (its system of record) to a
retailer's WooCommerce shop through the REST API's batch endpoints, both shops in the WooCommerce sandbox served over
HTTP in this process; the pull and the push run by hand (`flask sync run`), the push timed and its requests counted
by the sandbox (per store, per method and route).

Numbers: `woo_catalog_push_10k_s` (the push's wall time), `woo_catalog` (size, pull time, requests of the push by
kind, requests per variant). Run with `python -m benchmarks bench_woo_catalog`; BENCH_WOO_PRODUCTS (default 1,000)
x BENCH_WOO_VARIATIONS (default 10) sets the size (another size than 10,000 reports
`woo_catalog_push_<n>_variants_s` instead). The helpers here also serve bench_woo_stock and bench_feed_stock.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import bench_partnership

WS, RT = "bench-wholesale", "bench-retail"


class Counted:
    """The sandbox's WSGI app, counting requests per store and per "METHOD route" (ids replaced by <id>)."""

    def __init__(self, app):
        self.app = app
        self.counts: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        store, _, rest = path.strip("/").partition("/")
        route = re.sub(r"/\d+", "/<id>", "/" + rest.replace("wp-json/wc/v3", "").lstrip("/"))
        with self._lock:
            self.counts[(store, f"{environ.get('REQUEST_METHOD')} {route}")] += 1
        return self.app(environ, start_response)

    def of(self, store: str) -> Counter:
        """Requests to one store so far, by route."""
        with self._lock:
            return Counter({route: n for (s, route), n in self.counts.items() if s == store})


def make_app(tmp: Path, **extra):
    """A fresh app on a throw-away SQLite database and the embedded Redis (or REDIS_URL)."""
    from cryptography.fernet import Fernet

    from portal import create_app
    from portal.embedded_redis import ensure_embedded_redis

    redis_url = os.environ.get("REDIS_URL") or ensure_embedded_redis(tmp / "redis")
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
        "REDIS_URL": redis_url, "SECRET_KEY": "bench", "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "RQ_RETRY_INTERVALS": [0, 0], "RQ_JOB_TIMEOUT": 3600, **extra,
    })  # fmt: skip


def stop_redis(tmp: Path) -> None:
    from portal.embedded_redis import stop_embedded_redis

    if not os.environ.get("REDIS_URL"):
        stop_embedded_redis(tmp / "redis")


def serve_sandbox(sandbox) -> tuple[Counted, object, str]:
    """The sandbox on 127.0.0.1 (threaded werkzeug): (request counter, server, base URL)."""
    from werkzeug.serving import make_server

    counted = Counted(sandbox)
    server = make_server("127.0.0.1", 0, counted, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    sandbox.base_url = base
    return counted, server, base


def shop_client(sandbox, store: str):
    """A WooClient for a sandbox store with a fresh read_write key."""
    import httpx

    from integrations.woocommerce.client import WooClient

    key = sandbox.issue_key(store)
    return WooClient(f"{sandbox.base_url}/{store}", key.consumer_key, key.consumer_secret,
                     http=httpx.Client(timeout=60))  # fmt: skip


def seed_catalog(sandbox, store: str, products: int, variations: int) -> None:
    """The wholesaler's published catalog, made through its REST API: variable products 100 a batch, then each
    product's variations in one batch (simple products when `variations` is 1)."""
    client = shop_client(sandbox, store)
    for start in range(0, products, 100):
        batch = []
        for n in range(start, min(products, start + 100)):
            item = {"name": f"Bench product {n}", "status": "publish", "regular_price": f"{10 + n % 50}.00"}
            if variations == 1:
                item |= {"type": "simple", "sku": f"B{n:05}", "manage_stock": True, "stock_quantity": 10}
            else:
                sizes = [f"Size {k}" for k in range(variations)]
                attribute = {"name": "Size", "options": sizes, "variation": True, "visible": True}
                item |= {"type": "variable", "attributes": [attribute]}
            batch.append(item)
        created = client.batch("products/batch", create=batch)["create"]
        if variations == 1:
            continue
        for n, product in zip(range(start, start + len(created)), created, strict=True):
            client.batch(f"products/{product['id']}/variations/batch", create=[
                {"sku": f"B{n:05}-{k}", "regular_price": f"{10 + n % 50}.00", "manage_stock": True,
                 "stock_quantity": 10, "attributes": [{"name": "Size", "option": f"Size {k}"}]}
                for k in range(variations)
            ])  # fmt: skip


def connect_pair(sandbox, sor_platform: str = "woocommerce", sor_address: str | None = None, sor_settings=None):
    """A wholesaler (WooCommerce shop, or a feed when `sor_platform` is "csv") and a WooCommerce retailer."""
    from portal.extensions import db
    from portal.models import Connection, Organization
    from portal.services.accounts import create_wholesaler

    ws = create_wholesaler("Bench Wholesale", "bench@example.com", "bench-password-1").organization
    if sor_platform == "woocommerce":
        key = sandbox.issue_key(WS)
        sor = Connection(organization_id=ws.id, role="system_of_record", platform="woocommerce",
                         address=f"{sandbox.base_url}/{WS}", api_key=key.consumer_key,
                         access_token=key.consumer_secret, webhook_secret="benchwebhooksecret1")  # fmt: skip
    else:
        sor = Connection(organization_id=ws.id, role="system_of_record", platform=sor_platform, address=sor_address,
                         access_token=sor_settings.pop("_private_key", ""), settings=sor_settings)  # fmt: skip
    retailer = Organization(kind="retailer", name="Bench Retail")
    db.session.add_all([sor, retailer])
    db.session.flush()
    rkey = sandbox.issue_key(RT)
    store = Connection(organization_id=retailer.id, role="store", platform="woocommerce",
                       address=f"{sandbox.base_url}/{RT}", api_key=rkey.consumer_key,
                       access_token=rkey.consumer_secret, webhook_secret="benchwebhooksecret2")  # fmt: skip
    db.session.add(store)
    db.session.flush()
    partnership = bench_partnership(ws.id, retailer.id)
    return sor, store, partnership


def new_sandbox(**kw):
    from fakes.woocommerce import WooSandbox

    sandbox = WooSandbox(**kw)
    sandbox.add_store(RT, ssl=False, manage_stock=True)
    return sandbox


def _scenario(products: int, variations: int) -> dict:
    from jobs.runtime import run_now
    from portal.extensions import db
    from portal.redis_conn import get_redis

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-woo-"))
    app = make_app(tmp)
    sandbox = new_sandbox()
    sandbox.add_store(WS, ssl=False, manage_stock=True)
    counted, server, _base = serve_sandbox(sandbox)
    try:
        with app.app_context():
            db.create_all()
            get_redis().flushdb()
            started = time.monotonic()
            seed_catalog(sandbox, WS, products, variations)
            seed_seconds = time.monotonic() - started
            connect_pair(sandbox)
            started = time.monotonic()
            [pulled] = run_now("products.pull")
            pull_seconds = time.monotonic() - started
            before = counted.of(RT)
            started = time.monotonic()
            [pushed] = run_now("products.push")
            push_seconds = time.monotonic() - started
            requests = counted.of(RT) - before
            placed = sum(1 for i in sandbox.store(RT).products.values() if i.get("sku"))
            started = time.monotonic()
            before = counted.of(RT)
            [again] = run_now("products.push")
            noop_requests = sum((counted.of(RT) - before).values())
            noop_seconds = time.monotonic() - started
    finally:
        server.shutdown()
        stop_redis(tmp)
    variants = products * variations
    total = sum(requests.values())
    return {
        "woo_catalog_push_10k_s": round(push_seconds, 2),
        "woo_catalog": {
            "products": products, "variants": variants, "seed_seconds": round(seed_seconds, 2),
            "pull_seconds": round(pull_seconds, 2), "pull_status": pulled["status"], "pull_created": pulled["created"],
            "push_status": pushed["status"], "push_created": pushed["created"], "push_failed": pushed["failed"],
            "variants_placed": placed, "push_requests": total,
            "push_requests_per_variant": round(total / variants, 3) if variants else 0,
            "push_requests_by_route": dict(requests.most_common()),
            "noop_push_seconds": round(noop_seconds, 2), "noop_push_requests": noop_requests,
            "noop_push_status": again["status"], "load_before": load_before,
        },
    }  # fmt: skip


def main() -> dict:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    products = int(os.environ.get("BENCH_WOO_PRODUCTS", 1000))
    variations = int(os.environ.get("BENCH_WOO_VARIATIONS", 10))
    out = _scenario(products, variations)
    out["woo_catalog"]["load_after"] = os.getloadavg()
    if products * variations != 10_000:  # a reduced run does not stand for the 10k number
        out[f"woo_catalog_push_{products * variations}_variants_s"] = out.pop("woo_catalog_push_10k_s")
    print(out)
    return out
