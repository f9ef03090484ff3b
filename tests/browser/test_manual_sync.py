"""A new wholesaler's manual sync, in a real browser: read the job, dry run, Run now, watch it finish, find the goods.

The app runs as a real HTTP server; the RQ worker runs in this (main) thread while Chromium keeps polling the panel.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs.worker import make_worker
from portal.demo import DEMO_EMAIL, DEMO_PASSWORD, RETAILER_SHOPS, WHOLESALER_SHOP, sandbox_token, seed
from portal.extensions import db
from portal.models import Connection, Organization, Partnership, Product, SyncRun, Variant
from tests.browser.conftest import ARTIFACTS
from tests.portal.conftest import make_order

pytestmark = pytest.mark.browser
# Every panel htmx swaps in is recorded by its data-status, so the test sees the run advance.
RECORD_PANEL_STATES = """() => {
  window.__panelStates = [];
  new MutationObserver(ms => ms.forEach(m => m.addedNodes.forEach(n => {
    if (n.dataset && n.dataset.status) window.__panelStates.push(n.dataset.status);
  }))).observe(document.body, {childList: true, subtree: true});
}"""

CATALOG = [("Linen apron", [("APRON-NAT", "12.00"), ("APRON-BLK", "12.50")]), ("Oak board", [("BOARD-L", "30.00")])]


def _demo_with_catalog(sandbox) -> None:
    """The demo accounts, their sandbox shops, and the wholesaler's catalog as the hub holds it after a pull.

    The catalog is written to the hub directly so this test depends on products.push alone, not on products.pull.
    """
    seed()
    for shop in (WHOLESALER_SHOP, *RETAILER_SHOPS):
        sandbox.add_shop(shop, token=sandbox_token(shop))
    wholesaler = db.session.execute(select(Organization).where(Organization.kind == "wholesaler")).scalar_one()
    sor = db.session.execute(select(Connection).where(Connection.address == WHOLESALER_SHOP)).scalar_one()
    for n, (title, variants) in enumerate(CATALOG, start=1):
        product = Product(
            wholesaler_id=wholesaler.id,
            connection_id=sor.id,
            remote_id=f"gid://shopify/Product/{n}",
            title=title,
            options=[{"name": "Title", "values": [s for s, _ in variants]}],
        )
        db.session.add(product)
        db.session.flush()
        for i, (sku, price) in enumerate(variants):
            db.session.add(
                Variant(
                    product_id=product.id,
                    wholesaler_id=wholesaler.id,
                    connection_id=sor.id,
                    remote_id=f"gid://shopify/ProductVariant/{n}{i}",
                    sku=sku,
                    title=sku,
                    option_values=[{"name": "Title", "value": sku}],
                    wholesale_price=Decimal(price),
                    inventory_quantity=7,
                )
            )
    db.session.commit()


def _log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", DEMO_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/dashboard")


def test_wholesaler_runs_products_push_by_hand_and_finds_the_products_in_the_retailers_store(
    app, live_server, sandbox, page
):
    _demo_with_catalog(sandbox)
    polls: list[tuple[float, str, int]] = []
    page.on("response", lambda r: "/sync/runs/" in r.url and polls.append((time.monotonic(), r.url, r.status)))

    _log_in(page, live_server)
    page.click("text=Settings → Sync")
    job = page.locator('article[data-job="products.push"]')
    assert job.locator(".description").inner_text() == (
        "Send 2 products to 2 retailers' stores; new products arrive unpublished."
    )
    billing = page.locator('article[data-job="billing.run"]')
    assert "can never be started by hand" in billing.inner_text() and billing.locator("button").count() == 0
    page.screenshot(path=str(ARTIFACTS / "sync-page.png"), full_page=True)

    job.locator("text=Dry run").click()
    preview = job.locator(".dry-run")
    preview.wait_for()
    assert preview.inner_text().count("Would create 2, change 0") == 2, preview.inner_text()  # each retailer's store
    assert db.session.execute(select(SyncRun.id)).first() is None  # the dry run started nothing

    job.locator("button:has-text('Run now')").click()
    panels = job.locator(".run-panel")
    panels.first.wait_for()
    assert panels.count() == 2  # one run per retailer
    assert all(s in ("queued", "running") for s in panels.evaluate_all("els => els.map(e => e.dataset.status)"))

    page.evaluate(RECORD_PANEL_STATES)
    with page.expect_response(lambda r: "/sync/runs/" in r.url and r.status == 200):
        pass  # the queued panel polls by itself
    for shop in RETAILER_SHOPS:
        sandbox.inject(shop, "slow", count=2, seconds=1.5)  # long enough for a poll to see the run running
    make_worker(app).work(burst=True)  # Chromium polls the server thread meanwhile

    page.wait_for_function(
        "() => [...document.querySelectorAll('article[data-job=\"products.push\"] .run-panel')]"
        ".every(p => p.dataset.status === 'done' && !p.hasAttribute('hx-trigger'))",
        timeout=15_000,
    )
    assert "2 / 2" in panels.first.inner_text() or "Created" in panels.first.inner_text()
    seen = page.evaluate("window.__panelStates")
    assert "running" in seen and seen[-1] == "done", seen
    assert sum(1 for _, _, status in polls if status == 286) == 2, "each panel's last poll answers 286"
    settled = len(polls)
    page.wait_for_timeout(5_000)  # two and a half polling periods
    assert len(polls) == settled, f"requests after completion: {polls[settled:]}"

    runs = db.session.execute(select(SyncRun).where(SyncRun.job_name == "products.push")).scalars().all()
    assert [r.status for r in runs] == ["done", "done"]
    for shop in RETAILER_SHOPS:
        titles = sorted(p.title for p in sandbox.shop(shop).products.values())
        assert titles == ["Linen apron", "Oak board"], (
            shop,
            [(r.total, r.created, r.message, r.failures) for r in runs],
        )
        assert {p.status for p in sandbox.shop(shop).products.values()} == {"DRAFT"}  # arrived unpublished


def test_order_timeline_in_the_browser(app, live_server, page):
    seed()
    wholesaler = db.session.execute(select(Organization).where(Organization.kind == "wholesaler")).scalar_one()
    partnership = db.session.execute(select(Partnership).order_by(Partnership.id)).scalars().first()
    retailer = db.session.get(Organization, partnership.retailer_id)
    order = make_order(wholesaler, retailer, partnership, "#1042", timedelta(minutes=35))
    _log_in(page, live_server)
    page.click("text=Orders")
    page.click("text=#1042")
    assert "min left" in page.locator(".promise").inner_text()
    steps = page.locator("ol.timeline li")
    assert steps.count() == 6 and page.locator("ol.timeline li.reached").count() == 2
    page.screenshot(path=str(ARTIFACTS / "order-timeline.png"), full_page=True)
    assert page.url.endswith(f"/orders/{order.id}")
