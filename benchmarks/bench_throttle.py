"""Ten workers hammer one sandbox shop (100 points/s restore rate) through the production client.

Prints calls, cost spent, time and the achieved fraction of the restore rate; the shop's bucket starts empty so the
number is the steady-state rate (no initial burst). Used by `make bench` and by tests/shopify_sandbox.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import threading
import time
from pathlib import Path

QUERY = "query Hammer { products(first: 10) { nodes { id title } } }"  # 2 + 10 x 1 = 12 points
SHOP = "hammer.myshopify.com"


def _worker(base_url: str, redis_url: str, token: str, deadline: float, results) -> None:
    import httpx
    import redis

    from integrations.shopify.client import ShopifyClient
    from integrations.shopify.transport import BaseURLTransport

    waited = [0.0]
    client = ShopifyClient(
        SHOP, token, api_version="2026-07", redis=redis.Redis.from_url(redis_url),
        http=httpx.Client(transport=BaseURLTransport(base_url), timeout=10.0),
        on_call=lambda w: waited.__setitem__(0, waited[0] + w),
    )  # fmt: skip
    calls = failures = 0
    while time.time() < deadline:
        try:
            client.query(QUERY)
            calls += 1
        except Exception as exc:
            failures += 1
            print(f"worker failure: {exc!r}")
    results.put({"calls": calls, "failures": failures, "waited": waited[0]})


def hammer(sandbox, base_url: str, redis_url: str, *, workers: int = 10, seconds: float = 10.0,
           restore_rate: float = 100.0, maximum_available: float = 2000.0) -> dict:  # fmt: skip
    """Run `workers` forked processes against the sandbox for `seconds`; returns the measured numbers."""
    token = sandbox.issue_token(SHOP) if SHOP in sandbox.shops else None
    if token is None:
        sandbox.add_shop(SHOP)
        token = sandbox.issue_token(SHOP)
        shop = sandbox.shop(SHOP)
        ctx_run = sandbox.run
        for n in range(10):
            ctx_run(shop, 'mutation($i: ProductSetInput!) { productSet(input: $i) { userErrors { message } } }',
                    {"i": {"title": f"Hammer {n}"}}, charge=False)  # fmt: skip
    sandbox.set_bucket(SHOP, maximum_available=maximum_available, restore_rate=restore_rate, currently_available=0)
    shop = sandbox.shop(SHOP)
    shop.requests.clear()
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    start = time.time()
    deadline = start + seconds
    procs = [ctx.Process(target=_worker, args=(base_url, redis_url, token, deadline, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    outs = [results.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.time() - start
    served = [r for r in shop.requests if not r.get("throttled")]
    spent = sum(r["actual"] or 0 for r in served)
    throttled = sum(1 for r in shop.requests if r.get("throttled"))
    attempted = sum(r.get("requested") or 0 for r in shop.requests)  # what the workers asked for, refused or not
    return {
        "workers": workers,
        "seconds": round(elapsed, 2),
        "calls": sum(o["calls"] for o in outs),
        "failures": sum(o["failures"] for o in outs),
        "cost_spent": spent,
        "cost_attempted": attempted,
        "throttled_answers": throttled,
        "waited_seconds": round(sum(o["waited"] for o in outs), 1),
        "restore_rate": restore_rate,
        "restore_fraction": round(spent / (restore_rate * elapsed), 3),
    }


def main() -> dict:
    import logging
    import os

    from werkzeug.serving import make_server

    from fakes.shopify import Sandbox
    from portal.embedded_redis import ensure_embedded_redis, stop_embedded_redis

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-throttle-"))
    redis_url = os.environ.get("REDIS_URL") or ensure_embedded_redis(tmp / "redis")
    import redis

    redis.Redis.from_url(redis_url).delete(f"shopify:bucket:{SHOP}")
    sandbox = Sandbox(auto_deliver=False)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = hammer(sandbox, f"http://127.0.0.1:{server.server_port}", redis_url, seconds=10.0)
    finally:
        server.shutdown()
        if not os.environ.get("REDIS_URL"):
            stop_embedded_redis(tmp / "redis")
    print(
        f"throttle: {out['workers']} workers, {out['calls']} calls, {out['cost_spent']} points in {out['seconds']} s, "
        f"{out['throttled_answers']} THROTTLED answers (retried), {out['failures']} failures, "
        f"achieved {out['restore_fraction']:.1%} of the {out['restore_rate']:g} points/s restore rate"
    )
    return {"throttle_restore_fraction": out["restore_fraction"], "throttle": out}


if __name__ == "__main__":
    main()
