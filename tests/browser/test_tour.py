"""The README's five-step tour, followed in a browser against the product started as `make run` starts it: place an
order in a demo retailer's sandbox admin, see it at the wholesaler, ship it, see tracking at the retailer, and see it
on tomorrow's invoice. Every step is a page and a button; nothing is read from or written to the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tests.test_devrun import ROOT, _free_port, _wait_for_login_page

pytestmark = pytest.mark.browser

POLARIS = "https://cdn.shopify.com/shopifycloud/polaris-1.js"
RETAILER = "demo-retailer-1.myshopify.com"
WHOLESALER = "demo-wholesaler.myshopify.com"
TRACKING = "1Z999AA10123456784"


@pytest.fixture
def make_run(tmp_path):
    """`scripts/devrun.py` (what `make run` runs) on free ports and a fresh instance folder; Ctrl-C at the end."""
    ports = {name: _free_port() for name in ("PORT", "SANDBOX_PORT", "MAIL_PAGE_PORT", "MAIL_CATCHER_SMTP_PORT")}
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT")}
    env |= {"WHOLESYNC_INSTANCE_PATH": str(tmp_path)} | {k: str(v) for k, v in ports.items()}
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "devrun.py")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines: list[str] = []  # read as a terminal would: an unread pipe blocks every process writing to it
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    base = f"http://localhost:{ports['PORT']}"
    try:
        _wait_for_login_page(base, proc)
        yield {"app": base, "sandbox": f"http://127.0.0.1:{ports['SANDBOX_PORT']}/_sandbox/admin", "output": lines}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)


def _until(page, check: Callable[[], bool], what: str, timeout: float = 300, reload: Callable | None = None) -> None:
    """Reload the page (or run `reload`) every few seconds until `check()` holds, as a person waiting would."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(3)
        (reload or page.reload)()


def test_the_five_step_tour_of_the_readme_works_on_a_fresh_make_run(make_run, page):
    app, sandbox = make_run["app"], make_run["sandbox"]
    page.route(POLARIS, lambda route: route.fulfill(body="", content_type="application/javascript"))
    page.set_default_timeout(120_000)  # a loaded CI machine answers the first login (Argon2, a busy SQLite) slowly

    # 1. Place an order in Demo Retailer 1's store (the catalog reaches it as drafts soon after start).
    page.goto(f"{sandbox}/{RETAILER}/orders")
    quantities = page.locator("form input[name^=qty_]")
    _until(page, lambda: quantities.count() > 0, "the wholesaler's catalog in the retailer's store")
    row = page.locator("form tr").filter(has=page.locator("input[name^=qty_]")).first
    sku = row.locator("td").nth(1).inner_text().strip()
    assert sku, "the pushed products carry the wholesaler's SKUs"
    row.locator("input[name^=qty_]").fill("2")
    page.get_by_role("button", name="Place order").click()
    heading = page.get_by_role("heading", level=1)
    heading.wait_for()
    name = heading.inner_text().split()[1]  # "Order #1001 #<id> · UNFULFILLED"
    assert name.startswith("#")

    # 2. See it at the wholesaler: log in, Orders (it arrives through the orders/create webhook and orders.pull).
    page.goto(f"{app}/login")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("demo-wholesaler")
    page.get_by_role("button", name="Log in").click()
    try:
        page.wait_for_url("**/dashboard")
    except Exception as exc:  # say what the page and the processes showed instead (seen once on a loaded machine)
        shown = page.locator("body").inner_text(timeout=5_000)[:500]
        logs = "".join(make_run["output"][-40:])[-3000:]
        raise AssertionError(f"no dashboard after logging in; the page: {shown!r}; make run: {logs}") from exc
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders", exact=True).click()
    order_row = page.locator("table.orders tbody tr", has=page.get_by_role("link", name=name, exact=True))
    _until(page, lambda: order_row.count() == 1 and "sent" in order_row.inner_text(), f"{name} sent to the store")

    # 3. Ship it in the wholesaler's store (its sandbox admin) with a carrier and tracking number.
    page.goto(f"{sandbox}/{WHOLESALER}/orders")
    page.locator("tr", has_text=f"2 \u00d7 {sku}").get_by_role("link").first.click()
    page.get_by_label("Carrier").fill("UPS")
    page.get_by_label("Tracking number").fill(TRACKING)
    page.get_by_role("button", name="Ship", exact=True).click()
    page.get_by_role("cell", name=f"UPS {TRACKING}").wait_for()

    # ... it comes back by itself: the wholesaler's store sends orders/updated after the fulfillment, which starts
    # order_updates.pull (no button, no hourly wait).
    page.goto(f"{app}/dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders", exact=True).click()
    _until(page, lambda: order_row.count() == 1 and _shipped(order_row.inner_text()), f"{name} shipped")

    # 4. See the tracking at the retailer: its store's Apps -> Wholesync, the Orders tab.
    page.goto(f"{sandbox}/{RETAILER}/apps/wholesync")
    frame = page.frame_locator("iframe[name=app-iframe]")
    routed = frame.locator("s-table-row.routed-order", has_text=name)

    def open_orders_tab():
        page.reload()
        frame.get_by_role("button", name="Orders").click()
        frame.get_by_role("heading", name="Orders sent to wholesalers").wait_for()

    open_orders_tab()
    _until(
        page, lambda: TRACKING in (routed.inner_text() if routed.count() else ""), "tracking", reload=open_orders_tab
    )
    assert "UPS" in routed.locator(".tracking").inner_text()

    # 5. See tomorrow's invoice: Billing, Demo Retailer 1's Tomorrow's invoice lists the shipped order.
    page.goto(f"{app}/billing/")
    page.locator("tr", has_text="Demo Retailer 1").get_by_role("link", name="Tomorrow's invoice").click()
    page.get_by_role("heading", name="Tomorrow's invoice for Demo Retailer 1").wait_for()
    charge = page.locator("tbody tr", has_text=f"{name} · {sku}")
    assert charge.count() == 1 and "charge" in charge.inner_text()
    assert charge.locator("td").nth(2).inner_text() == "2"


def _shipped(row_text: str) -> bool:
    """Shipped at the wholesaler, or already completed (its tracking is at the retailer)."""
    return "shipped" in row_text or "completed" in row_text
