"""A work-horse SIGKILLed right after a remote create (before our database recorded it) loses nothing and
duplicates nothing when RQ retries the job: orders are found by their marker, products by our handle."""

import os
import signal
import subprocess
import sys

from sqlalchemy import func, select

from fakes.shopify.resolvers.orders import place_order
from jobs.runtime import request_run
from portal.extensions import db
from portal.models import Listing, Order, SyncRun
from tests.support.waiting import run_status, wait_for
from tests.sync.conftest import RT_SHOPS


def _kill_mid_job(app, services, sandbox, tmp_path, run_id: int, which: str) -> SyncRun:
    tmp_path = tmp_path / "markers"
    tmp_path.mkdir()
    env = services.env() | {
        "TEST_MARKER_DIR": str(tmp_path), "RQ_RETRY_INTERVALS": "0,0", "SECRET_KEY": app.config["SECRET_KEY"],
        "TOKEN_ENCRYPTION_KEYS": app.config["TOKEN_ENCRYPTION_KEYS"], "SHOPIFY_ADMIN_BASE_URL": sandbox.base_url,
    }  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-m", "tests.sync.kill_worker", which], env=env, start_new_session=True)
    try:
        assert wait_for(lambda: (tmp_path / "stalled").exists(), 30), [
            run_status(run_id),
            db.session.get(SyncRun, run_id).message,
            list(tmp_path.iterdir()),
        ]
        os.kill(int((tmp_path / "stalled").read_text()), signal.SIGKILL)
        assert wait_for(lambda: (tmp_path / "completed").exists(), 90), "the job was not retried"
        assert wait_for(lambda: run_status(run_id) == "done", 90), f"run ended as {run_status(run_id)}"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    db.session.expire_all()
    return db.session.get(SyncRun, run_id)


def test_worker_killed_after_order_create_neither_loses_nor_duplicates_the_order(world, app, services, tmp_path):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 2)])
    place_order(world.sandbox.sandbox, RT_SHOPS[1], [("SCARF-1", 1)])
    world.ok("orders.pull")
    run = request_run("orders.push", f"connection:{world.sor.id}")
    final = _kill_mid_job(app, services, world.sandbox, tmp_path, run.id, "orders")
    assert final.attempts == 2
    assert len(world.sor_shop().orders) == 2  # each retailer order exactly once in the system of record
    orders = db.session.execute(select(Order)).scalars().all()
    assert [o.status for o in orders] == ["sent", "sent"]
    assert len({o.sor_remote_order_id for o in orders}) == 2


def test_worker_killed_after_product_create_neither_loses_nor_duplicates_products(world, app, services, tmp_path):
    world.ok("products.pull")
    p = world.partnerships[0]
    run = request_run("products.push", f"partnership:{p.id}")
    final = _kill_mid_job(app, services, world.sandbox, tmp_path, run.id, "products")
    assert final.attempts == 2
    shop = world.store_shop(0)
    assert sorted(prod.title for prod in shop.products.values()) == ["Canvas Tote", "Linen Shirt", "Wool Scarf"]
    assert len(shop.fulfillment_services) == 1
    listings = db.session.execute(select(func.count()).select_from(Listing).where(Listing.partnership_id == p.id))
    assert listings.scalar_one() == 3
