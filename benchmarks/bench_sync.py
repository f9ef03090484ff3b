"""The sync engine against the sandbox at 10,000 and 100,000 variants: the catalog push at Standard limits x10, the
no-op re-push, order latency, and stock latency from the real event (stock changed in the wholesaler's store, its
inventory_levels/update webhook, until the retailer's level matches), with the Procfile's two workers running
(`worker` on every queue, `urgent` on webhooks and orders), each a fresh interpreter as `flask worker` is: a work-horse
forked from this process would carry the sandbox's whole state as its own memory.

Numbers: `catalog_push_ceiling_fraction` (cost spent / (restore rate x push time), bucket starting empty),
`noop_push_mutations`, `order_latency_p95_s` (with where its seconds go: `sync.order_phases_median_s`),
`stock_latency_p95_s`, `push_peak_rss_mb` (peak RSS of the work-horse that ran products.push),
and at 100,000 variants `stock_latency_p95_s_100k`, `order_latency_p95_s_100k`, `push_peak_rss_mb_100k`,
`pull_seconds_100k`, `push_seconds_100k`. Run with `python -m benchmarks bench_sync`; BENCH_SYNC_PRODUCTS /
BENCH_SYNC_VARIANTS shrink the first size, BENCH_SYNC_LARGE_PRODUCTS the second (0 skips it).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import resource
import signal
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import bench_partnership, wait_for

WS_SHOP, RT_SHOP = "bench-wholesale.myshopify.com", "bench-retail.myshopify.com"
RESTORE, MAXIMUM = 1000.0, 20000.0  # Shopify Standard (100/s, 2,000) scaled up 10x
LATENCY_SAMPLES = 15
BENCH_CONFIG_KEYS = (
    "TESTING",
    "INSTANCE_PATH",
    "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL",
    "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEYS",
    "RQ_RETRY_INTERVALS",
    "RQ_JOB_TIMEOUT",
    "SHOPIFY_ADMIN_BASE_URL",
)


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
    from portal.models import Connection, Organization
    from portal.services.accounts import create_wholesaler

    ws = create_wholesaler("Bench Wholesale", "bench@example.com", "bench-password-1").organization
    sor = Connection(organization_id=ws.id, role="system_of_record", address=WS_SHOP,
                     access_token=sandbox.issue_token(WS_SHOP))  # fmt: skip
    retailer = Organization(kind="retailer", name="Bench Retail")
    db.session.add_all([sor, retailer])
    db.session.flush()
    store = Connection(organization_id=retailer.id, role="store", address=RT_SHOP,
                       access_token=sandbox.issue_token(RT_SHOP))  # fmt: skip
    db.session.add(store)
    db.session.flush()
    partnership = bench_partnership(ws.id, retailer.id)
    _seed_catalog(sandbox.shop(WS_SHOP), products, variants)
    sandbox.set_bucket(RT_SHOP, maximum_available=MAXIMUM, restore_rate=RESTORE)
    sandbox.set_bucket(WS_SHOP, maximum_available=MAXIMUM, restore_rate=RESTORE)
    return sor, store, partnership


def _worker_main(config: dict, queues: tuple[str, ...] | None, burst: bool, report) -> None:
    """A worker in a fresh interpreter, as `flask worker` runs: its work-horses fork from it, not from this process
    (which holds the sandbox's whole state: a horse forked from here would count that state as its own memory and
    copy it page by page as Python touches its objects)."""
    from jobs.plan import QUEUES
    from jobs.worker import make_worker
    from portal import create_app

    os.setsid()  # its own process group: stopping it stops the scheduler process it starts too
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(config)
    with app.app_context():
        make_worker(app, queues=queues or QUEUES).work(burst=burst, logging_level="WARNING", with_scheduler=not burst)
    if report is not None:
        report.send(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def _spawn_worker(app, queues=None, burst: bool = False, report=None) -> multiprocessing.Process:
    config = {k: app.config[k] for k in BENCH_CONFIG_KEYS}
    proc = multiprocessing.get_context("spawn").Process(target=_worker_main, args=(config, queues, burst, report))
    proc.start()  # not a daemon: the worker's scheduler is a child process of its own
    return proc


def _push_once(app, sandbox, partnership_id: int) -> dict:
    """products.push in a work-horse of a fresh burst worker, measured from the retailer shop's request log."""
    from jobs.runtime import request_run
    from portal.extensions import db
    from portal.models import SyncRun

    shop = sandbox.shop(RT_SHOP)
    sandbox.set_bucket(RT_SHOP, currently_available=0)  # steady state: no initial burst from a full bucket
    first_request = len(shop.requests)
    run = request_run("products.push", f"partnership:{partnership_id}")
    receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
    proc = _spawn_worker(app, queues=("sync",), burst=True, report=send)
    horse_peak_kb = receive.recv() if receive.poll(6 * 3600) else 0
    proc.join(timeout=60)
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
        "horse_peak_rss_mb": round(horse_peak_kb / 1024, 1), "message": run.message,
        "failures": (run.failures or [])[:3],
    }  # fmt: skip


def _stop_worker(proc: multiprocessing.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    proc.join(timeout=30)
    if proc.is_alive():
        with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
            os.killpg(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)


def _p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[-1], 3) if len(samples) > 1 else round(samples[0], 3)


def _order_latency(sandbox) -> tuple[list[float], list[tuple]]:
    """Retailer order placed (the sandbox calls our fulfillment-service callback) -> order in the wholesaler's store.
    Returns the latencies and each sample's (start, end) in UTC for `_order_phases`."""
    from fakes.shopify.resolvers.orders import place_order
    from portal.models import utcnow

    sor_orders = sandbox.shop(WS_SHOP).orders
    rt = sandbox.shop(RT_SHOP)
    skus = [v.sku for v in list(rt.variants.values())[:LATENCY_SAMPLES]]
    samples, spans = [], []
    for sku in skus:
        before = len(sor_orders)
        start, started_at = time.monotonic(), utcnow()
        place_order(sandbox, RT_SHOP, [(sku, 1)])
        if not wait_for(lambda b=before: len(sor_orders) > b, timeout=180):
            raise TimeoutError("an order never reached the wholesaler's store")
        samples.append(time.monotonic() - start)
        spans.append((started_at, utcnow()))
    return samples, spans


def _order_phases(spans: list[tuple]) -> dict:
    """Where an order's seconds go (medians over the samples): placed -> orders.pull asked for (the webhook or
    callback reached the app) -> started (waited in the queue) -> done -> orders.push asked -> started -> done, and
    what else the worker ran meanwhile."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import SyncRun

    db.session.expire_all()
    phases: dict[str, list[float]] = {}
    others: dict[str, int] = {}
    for start, end in spans:
        runs = db.session.execute(
            select(SyncRun).where(SyncRun.created_at >= start, SyncRun.created_at <= end).order_by(SyncRun.id)
        ).scalars().all()  # fmt: skip
        pull = next((r for r in runs if r.job_name == "orders.pull" and r.finished_at), None)
        push = next((r for r in runs if r.job_name == "orders.push" and r.finished_at), None)
        if pull is None or push is None:
            continue
        points = {"to_pull_asked": (start, pull.created_at), "pull_queued": (pull.created_at, pull.started_at),
                  "pull_ran": (pull.started_at, pull.finished_at), "to_push_asked": (pull.finished_at, push.created_at),
                  "push_queued": (push.created_at, push.started_at), "push_ran": (push.started_at, push.finished_at),
                  "to_seen": (push.finished_at, end)}  # fmt: skip
        for name, (a, b) in points.items():
            phases.setdefault(name, []).append((b - a).total_seconds())
        for r in runs:
            if r not in (pull, push):
                others[f"{r.job_name} ({r.trigger})"] = others.get(f"{r.job_name} ({r.trigger})", 0) + 1
    out = {name: round(statistics.median(values), 3) for name, values in phases.items()}
    return out | {"samples": len(phases.get("pull_ran", [])), "other_runs_meanwhile": others}


SET_STOCK = (
    "mutation($i: InventorySetQuantitiesInput!, $k: String!) { inventorySetQuantities(input: $i) "
    "@idempotent(key: $k) { userErrors { message } } }"
)


def _stock_latency(sandbox, location_gid: str) -> list[float]:
    """Stock set in the wholesaler's store through its GraphQL API (as its admin does): the store sends
    inventory_levels/update to the app, whose worker pushes the new level -> the retailer's level matches."""
    import uuid

    from fakes.shopify.state import gid

    ws, rt = sandbox.shop(WS_SHOP), sandbox.shop(RT_SHOP)
    location = int(location_gid.rsplit("/", 1)[1])
    samples = []
    variants = list(ws.variants.values())
    middle = len(variants) // 2  # away from the SKUs the order-latency samples ordered
    for n, variant in enumerate(variants[middle : middle + LATENCY_SAMPLES]):
        wanted = 500 + n
        quantities = [{"inventoryItemId": gid("InventoryItem", variant.inventory_item_id),
                       "locationId": gid("Location", ws.primary_location.id), "quantity": wanted,
                       "changeFromQuantity": None}]  # fmt: skip
        start = time.monotonic()
        body = sandbox.run(ws, SET_STOCK, {"i": {"name": "available", "reason": "correction", "quantities": quantities},
                                           "k": str(uuid.uuid4())}, charge=False)  # fmt: skip
        assert not body.get("errors"), body
        target = rt.variant_by_sku(variant.sku)
        if not wait_for(lambda t=target, w=wanted: rt.available(t.inventory_item_id, location) == w, timeout=120):
            raise TimeoutError("a stock change never reached the retailer")
        samples.append(time.monotonic() - start)
        time.sleep(0.3)  # separate events, not one burst: each sample is one change's own latency
    return samples


def _scenario(products: int, variants: int, noop: bool = True) -> dict:
    """One fresh world (database, Redis, sandbox) of `products` x `variants`: pull, push, latencies, and the machine's
    load average (1, 5, 15 min) before and after (the machine is shared: absolute seconds depend on it)."""
    from cryptography.fernet import Fernet
    from werkzeug.serving import make_server

    from fakes.shopify import Sandbox, SandboxConfig
    from jobs.runtime import run_now
    from portal import create_app
    from portal.embedded_redis import ensure_embedded_redis, stop_embedded_redis
    from portal.extensions import db
    from portal.redis_conn import get_redis
    from portal.services.subscriptions import ensure_sor_subscriptions

    load_before, began = [round(x, 2) for x in os.getloadavg()], time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    redis_url = os.environ.get("REDIS_URL") or ensure_embedded_redis(tmp / "redis")
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
        "REDIS_URL": redis_url, "SECRET_KEY": "bench", "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "RQ_RETRY_INTERVALS": [0, 0], "RQ_JOB_TIMEOUT": 3600,
    })  # fmt: skip
    config = SandboxConfig(client_id=app.config["SHOPIFY_API_KEY"], client_secret=app.config["SHOPIFY_API_SECRET"],
                           maximum_available=MAXIMUM, restore_rate=RESTORE)  # fmt: skip

    def sink(url: str, headers: dict, body: bytes) -> int:  # callbacks and webhooks to the app, in this process
        base = app.config["SHOPIFY_APP_URL"]
        if not url.startswith(base):
            return 404
        with app.app_context():
            return app.test_client().post(url[len(base) :], headers=headers, data=body).status_code

    sandbox = Sandbox(config, sink=sink, auto_deliver=True)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["SHOPIFY_ADMIN_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    workers = []
    with app.app_context():
        db.create_all()
        get_redis().flushdb()
        try:
            sor, _store, partnership = _world(app, sandbox, products, variants)
            ensure_sor_subscriptions(sor)  # what connecting the wholesaler's store does
            start = time.monotonic()
            pulled = run_now("products.pull")[0]
            if pulled["status"] != "done":  # at 100,000 variants the sandbox's synchronous bulk query can time out
                raise RuntimeError(f"the catalog pull ended {pulled['status']}: {pulled.get('message')}")
            pull_seconds = round(time.monotonic() - start, 2)
            first = _push_once(app, sandbox, partnership.id)
            if first["status"] != "done":
                raise RuntimeError(f"the catalog push ended {first['status']}: {first['message']} {first['failures']}")
            peak_rss_mb = first["horse_peak_rss_mb"]
            again = _push_once(app, sandbox, partnership.id) if noop else None
            db.session.refresh(partnership)
            get_redis().delete(*(get_redis().keys("wholesync:events:*") or ["-"]))  # the load's own stock events
            from rq import Worker

            from jobs.plan import URGENT_QUEUES

            # This process holds both sandbox shops (1.2 million objects at 100,000 variants): a full collection of
            # Python's garbage collector walks them all (1.3 s measured) and stops the sandbox's threads meanwhile, a
            # pause of the stand-in for Shopify, not of the product (one order took 2.1 s so). Kept out of later ones.
            gc.freeze()
            workers = [_spawn_worker(app), _spawn_worker(app, queues=URGENT_QUEUES)]  # the Procfile's two workers
            if not wait_for(lambda: len(Worker.all(connection=get_redis())) >= len(workers), timeout=300):
                raise TimeoutError("the workers did not start")  # latencies count from workers already listening
            orders, spans = _order_latency(sandbox)
            order_phases = _order_phases(spans)
            stock = _stock_latency(sandbox, partnership.placement["location_id"])
        finally:
            for worker in workers:
                _stop_worker(worker)
            server.shutdown()
            if not os.environ.get("REDIS_URL"):
                stop_embedded_redis(tmp / "redis")
    return {"products": products, "variants": products * variants, "pull_seconds": pull_seconds,
            "pull_created": pulled["created"], "first_push": first, "noop_push": again, "peak_rss_mb": peak_rss_mb,
            "orders": orders, "order_phases": order_phases, "stock": stock,
            "machine_load": {"load_avg_before": load_before, "load_avg_after": [round(x, 2) for x in os.getloadavg()],
                             "wall_s": round(time.monotonic() - began, 1)}}  # fmt: skip


def main() -> dict:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    products = int(os.environ.get("BENCH_SYNC_PRODUCTS", 2000))
    variants = int(os.environ.get("BENCH_SYNC_VARIANTS", 5))
    large = int(os.environ.get("BENCH_SYNC_LARGE_PRODUCTS", 20000))
    small = _scenario(products, variants)
    first, again = small["first_push"], small["noop_push"]
    out = {
        "catalog_push_ceiling_fraction": first["ceiling_fraction"],
        "noop_push_mutations": again["mutations"],
        "order_latency_p95_s": _p95(small["orders"]),
        "stock_latency_p95_s": _p95(small["stock"]),
        "push_peak_rss_mb": small["peak_rss_mb"],
        "sync": {
            "products": products, "variants": products * variants, "restore_rate": RESTORE,
            "pull_seconds": small["pull_seconds"], "pull_created": small["pull_created"], "first_push": first,
            "noop_push": again, "order_latency_samples_s": [round(s, 3) for s in small["orders"]],
            "stock_latency_samples_s": [round(s, 3) for s in small["stock"]],
            "order_phases_median_s": small["order_phases"],
            "stock_latency_from": "inventorySetQuantities in the wholesaler's store -> its webhook -> retailer level",
            "machine_load": small["machine_load"],
        },
    }  # fmt: skip
    print(
        f"sync: pull of {products * variants} variants / {products} products in {small['pull_seconds']} s; "
        f"push {first['created']} created in {first['seconds']} s, {first['cost_spent']} points, "
        f"{first['throttled_answers']} THROTTLED answers, {first['failed']} failed -> "
        f"{first['ceiling_fraction']:.1%} of the {RESTORE:g} points/s ceiling; peak work-horse RSS "
        f"{small['peak_rss_mb']} MB"
    )
    print(
        f"sync: no-op re-push {again['mutations']} mutations in {again['seconds']} s; order latency p95 "
        f"{out['order_latency_p95_s']} s; stock latency p95 {out['stock_latency_p95_s']} s"
    )
    print(f"sync: where an order's seconds go (medians): {small['order_phases']}")
    if large:
        big = _scenario(large, variants, noop=False)
        out |= {
            "stock_latency_p95_s_100k": _p95(big["stock"]),
            "order_latency_p95_s_100k": _p95(big["orders"]),
            "push_peak_rss_mb_100k": big["peak_rss_mb"],
            "pull_seconds_100k": big["pull_seconds"],
            "push_seconds_100k": big["first_push"]["seconds"],
        }
        out["sync"]["large"] = {
            "products": large, "variants": large * variants, "pull_created": big["pull_created"],
            "first_push": big["first_push"], "order_latency_samples_s": [round(s, 3) for s in big["orders"]],
            "stock_latency_samples_s": [round(s, 3) for s in big["stock"]],
            "order_phases_median_s": big["order_phases"], "pull_seconds": big["pull_seconds"],
            "machine_load": big["machine_load"],
        }  # fmt: skip
        print(
            f"sync at {large * variants} variants: pull {big['pull_seconds']} s, push {big['first_push']['seconds']} s "
            f"({big['first_push']['failed']} failed), peak work-horse RSS {big['peak_rss_mb']} MB; order latency p95 "
            f"{out['order_latency_p95_s_100k']} s; stock latency p95 {out['stock_latency_p95_s_100k']} s"
        )
    if products * variants != 10_000 or (large and large * variants != 100_000):
        # A reduced run does not stand for the 10k and 100k keys: it is kept whole under a name with its sizes.
        return {f"sync_reduced_{products * variants}_{large * variants}_variants": out}
    return out


if __name__ == "__main__":
    main()
