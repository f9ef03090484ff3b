"""The sync engine against the sandbox: a 10,000-variant catalog push at Standard limits x10, the no-op re-push,
and order / stock latency with one worker running.

Numbers: `catalog_push_ceiling_fraction` (cost spent / (restore rate x push time), bucket starting empty),
`noop_push_mutations`, `order_latency_p95_s`, `stock_latency_p95_s`, `push_peak_rss_mb` (the work-horse's peak).
Run with `python -m benchmarks bench_sync`; BENCH_SYNC_PRODUCTS / BENCH_SYNC_VARIANTS shrink it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import statistics
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

WS_SHOP, RT_SHOP = "bench-wholesale.myshopify.com", "bench-retail.myshopify.com"
RESTORE, MAXIMUM = 1000.0, 20000.0  # Shopify Standard (100/s, 2,000) scaled up 10x
LATENCY_SAMPLES = 15


def _seed_catalog(shop, products: int, variants: int) -> None:
    """Put the wholesaler's catalog straight into the sandbox state (fast; the pull reads it through the API)."""
    from fakes.shopify.state import InventoryItem, Product, Variant, next_id

    location = shop.primary_location.id
    for n in range(products):
        sizes = [f"Size {k}" for k in range(variants)]
        product = Product(id=next_id(), title=f"Bench product {n}", handle=f"bench-{n}", vendor="Bench",
                          options=[{"id": next_id(), "name": "Size", "values": sizes}])  # fmt: skip
        for k, size in enumerate(sizes):
            sku = f"B{n:05}-{k}"
            item = InventoryItem(id=next_id(), sku=sku, levels={location: {"available": 10, "on_hand": 10}})
            variant = Variant(
                id=next_id(), product_id=product.id, inventory_item_id=item.id, sku=sku, price=f"{10 + n % 50}.00",
                position=k + 1, option_values=[{"name": "Size", "value": size}],
            )  # fmt: skip
            item.variant_id = variant.id
            shop.inventory_items[item.id], shop.variants[variant.id] = item, variant
            product.variant_ids.append(variant.id)
        shop.products[product.id] = product


def _world(app, sandbox, products: int, variants: int):
    from portal.extensions import db
    from portal.models import Connection, Organization, Partnership, PriceList, utcnow
    from portal.services.accounts import create_wholesaler

    ws = create_wholesaler("Bench Wholesale", "bench@example.com", "bench-password-1").organization
    sor = Connection(organization_id=ws.id, role="system_of_record", address=WS_SHOP,
                     access_token=sandbox.issue_token(WS_SHOP))  # fmt: skip
    retailer = Organization(kind="retailer", name="Bench Retail")
    db.session.add_all([sor, retailer])
    db.session.flush()
    store = Connection(organization_id=retailer.id, role="store", address=RT_SHOP,
                       access_token=sandbox.issue_token(RT_SHOP))  # fmt: skip
    price_list = PriceList(wholesaler_id=ws.id, name="Retail", markup_percent=Decimal("40"),
                           rounding_ending=Decimal("0.99"))  # fmt: skip
    db.session.add_all([store, price_list])
    db.session.flush()
    partnership = Partnership(wholesaler_id=ws.id, retailer_id=retailer.id, status="active", invite_code="bench",
                              price_list_id=price_list.id, accepted_at=utcnow())  # fmt: skip
    db.session.add(partnership)
    db.session.commit()
    _seed_catalog(sandbox.shop(WS_SHOP), products, variants)
    sandbox.set_bucket(RT_SHOP, maximum_available=MAXIMUM, restore_rate=RESTORE)
    sandbox.set_bucket(WS_SHOP, maximum_available=MAXIMUM, restore_rate=RESTORE)
    return sor, store, partnership


def _push_once(app, sandbox, partnership_id: int) -> dict:
    """products.push in a forked work-horse (burst worker), measured from the retailer shop's request log."""
    from jobs.runtime import request_run
    from jobs.worker import make_worker
    from portal.extensions import db
    from portal.models import SyncRun

    shop = sandbox.shop(RT_SHOP)
    sandbox.set_bucket(RT_SHOP, currently_available=0)  # steady state: no initial burst from a full bucket
    first_request = len(shop.requests)
    run = request_run("products.push", f"partnership:{partnership_id}")
    make_worker(app, queues=("sync",)).work(burst=True, logging_level="WARNING")
    db.session.expire_all()
    run = db.session.get(SyncRun, run.id)
    seconds = (run.finished_at - run.started_at).total_seconds()
    served = [r for r in shop.requests[first_request:] if not r.get("throttled")]
    spent = sum(r["actual"] or 0 for r in served)
    return {
        "status": run.status, "created": run.created, "updated": run.updated, "skipped": run.skipped,
        "failed": run.failed, "seconds": round(seconds, 2), "cost_spent": spent,
        "mutations": sum(1 for r in served if r["operation"] == "mutation"),
        "throttled_answers": sum(1 for r in shop.requests[first_request:] if r.get("throttled")),
        "ceiling_fraction": round(spent / (RESTORE * seconds), 3) if seconds else 0.0,
    }  # fmt: skip


def _serve_worker(app) -> multiprocessing.Process:
    def work():
        from jobs.worker import make_worker
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)
        make_worker(app).work(logging_level="WARNING")

    proc = multiprocessing.get_context("fork").Process(target=work, daemon=True)
    proc.start()
    return proc


def _p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[-1], 3) if len(samples) > 1 else round(samples[0], 3)


def _wait(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _order_latency(sandbox) -> list[float]:
    """Retailer order placed (the sandbox calls our fulfillment-service callback) -> order in the wholesaler's store."""
    from fakes.shopify.resolvers.orders import place_order

    sor_orders = sandbox.shop(WS_SHOP).orders
    rt = sandbox.shop(RT_SHOP)
    skus = [v.sku for v in list(rt.variants.values())[:LATENCY_SAMPLES]]
    samples = []
    for sku in skus:
        before = len(sor_orders)
        start = time.monotonic()
        place_order(sandbox, RT_SHOP, [(sku, 1)])
        if not _wait(lambda b=before: len(sor_orders) > b):
            raise TimeoutError("an order never reached the wholesaler's store")
        samples.append(time.monotonic() - start)
    return samples


def _stock_latency(sandbox, sor_id: int, location_gid: str) -> list[float]:
    """Stock changed in the system of record (an inventory webhook asks for inventory.pull) -> retailer level."""
    from jobs.runtime import request_run

    ws, rt = sandbox.shop(WS_SHOP), sandbox.shop(RT_SHOP)
    location = int(location_gid.rsplit("/", 1)[1])
    samples = []
    variants = list(ws.variants.values())
    middle = len(variants) // 2  # away from the SKUs the order-latency samples ordered
    for n, variant in enumerate(variants[middle : middle + LATENCY_SAMPLES]):
        item = ws.inventory_items[variant.inventory_item_id]
        wanted = 500 + n
        with ws.lock:
            item.levels[ws.primary_location.id]["available"] = wanted
        start = time.monotonic()
        request_run("inventory.pull", f"connection:{sor_id}", trigger="webhook")
        target = rt.variant_by_sku(variant.sku)
        if not _wait(lambda t=target, w=wanted: rt.available(t.inventory_item_id, location) == w):
            raise TimeoutError("a stock change never reached the retailer")
        samples.append(time.monotonic() - start)
    return samples


def main() -> dict:
    from cryptography.fernet import Fernet
    from werkzeug.serving import make_server

    from fakes.shopify import Sandbox, SandboxConfig
    from jobs.runtime import run_now
    from portal import create_app
    from portal.embedded_redis import ensure_embedded_redis, stop_embedded_redis
    from portal.extensions import db
    from portal.redis_conn import get_redis

    products = int(os.environ.get("BENCH_SYNC_PRODUCTS", 2000))
    variants = int(os.environ.get("BENCH_SYNC_VARIANTS", 5))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    redis_url = os.environ.get("REDIS_URL") or ensure_embedded_redis(tmp / "redis")
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
        "REDIS_URL": redis_url, "SECRET_KEY": "bench", "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "RQ_RETRY_INTERVALS": [0, 0],
    })  # fmt: skip
    config = SandboxConfig(client_id=app.config["SHOPIFY_API_KEY"], client_secret=app.config["SHOPIFY_API_SECRET"],
                           maximum_available=MAXIMUM, restore_rate=RESTORE)  # fmt: skip

    def sink(url: str, headers: dict, body: bytes) -> int:  # callbacks to the app, in this process
        base = app.config["SHOPIFY_APP_URL"]
        return (
            app.test_client().post(url[len(base) :], headers=headers, data=body).status_code
            if url.startswith(base)
            else 404
        )

    sandbox = Sandbox(config, sink=sink, auto_deliver=True)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["SHOPIFY_ADMIN_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    worker = None
    with app.app_context():
        db.create_all()
        get_redis().flushdb()
        try:
            sor, _store, partnership = _world(app, sandbox, products, variants)
            start = time.monotonic()
            pulled = run_now("products.pull")[0]
            pull_seconds = round(time.monotonic() - start, 2)
            first = _push_once(app, sandbox, partnership.id)
            peak_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
            again = _push_once(app, sandbox, partnership.id)
            db.session.refresh(partnership)
            worker = _serve_worker(app)
            orders = _order_latency(sandbox)
            stock = _stock_latency(sandbox, sor.id, partnership.placement["location_id"])
        finally:
            if worker is not None:
                worker.terminate()
                worker.join(timeout=30)
            server.shutdown()
            if not os.environ.get("REDIS_URL"):
                stop_embedded_redis(tmp / "redis")
    out = {
        "catalog_push_ceiling_fraction": first["ceiling_fraction"],
        "noop_push_mutations": again["mutations"],
        "order_latency_p95_s": _p95(orders),
        "stock_latency_p95_s": _p95(stock),
        "push_peak_rss_mb": peak_rss_mb,
        "sync": {
            "products": products, "variants": products * variants, "restore_rate": RESTORE,
            "pull_seconds": pull_seconds, "pull_created": pulled["created"], "first_push": first,
            "noop_push": again, "order_latency_samples_s": [round(s, 3) for s in orders],
            "stock_latency_samples_s": [round(s, 3) for s in stock],
        },
    }  # fmt: skip
    print(
        f"sync: pull of {products * variants} variants / {products} products in {pull_seconds} s; "
        f"push {first['created']} created in {first['seconds']} s, {first['cost_spent']} points, "
        f"{first['throttled_answers']} THROTTLED answers, {first['failed']} failed -> "
        f"{first['ceiling_fraction']:.1%} of the {RESTORE:g} points/s ceiling; peak work-horse RSS {peak_rss_mb} MB"
    )
    print(
        f"sync: no-op re-push {again['mutations']} mutations in {again['seconds']} s; order latency p95 "
        f"{out['order_latency_p95_s']} s; stock latency p95 {out['stock_latency_p95_s']} s"
    )
    return out


if __name__ == "__main__":
    main()
