"""The soak's trade: retailer checkouts at a steady rate, retailers cancelling or editing unshipped orders, stock
and price edits and shipments (whole, partial and split, with tracking) in the wholesaler's store, all through the
sandbox's HTTP routes.
"""

from __future__ import annotations

import random
from collections import Counter

import httpx


class Trader:
    """One soak's merchant and customers; `step(now)` does whatever is due at `now` (monotonic seconds)."""

    ORDER_EVERY, STOCK_EVERY, SHIP_EVERY, PRICE_EVERY, CANCEL_EVERY, EDIT_EVERY = 1.5, 3.0, 2.5, 15.0, 12.0, 12.0

    def __init__(self, sandbox_url: str, wholesaler: str, retailers: list[str], rng: random.Random, *,
                 lifecycle: bool = True):  # fmt: skip
        self.url, self.wholesaler, self.retailers, self.rng = sandbox_url, wholesaler, retailers, rng
        self.lifecycle = lifecycle  # retailers cancel and edit orders too
        self.http = httpx.Client(timeout=30.0)
        self.counts: Counter = Counter()
        self.next = {"order": 0.0, "stock": 0.0, "ship": 0.0, "price": 0.0, "cancel": 0.0, "edit": 0.0}
        self.tracking = 0

    def _post(self, path: str, body: dict) -> httpx.Response:
        return self.http.post(f"{self.url}/_sandbox/{path}", json=body)

    def dump(self, shop: str) -> dict:
        return self.http.get(f"{self.url}/_sandbox/shops/{shop}/dump").raise_for_status().json()

    def step(self, now: float) -> None:
        for action, every in (("order", self.ORDER_EVERY), ("stock", self.STOCK_EVERY), ("ship", self.SHIP_EVERY),
                              ("price", self.PRICE_EVERY), ("cancel", self.CANCEL_EVERY),
                              ("edit", self.EDIT_EVERY)):  # fmt: skip
            if action in ("cancel", "edit") and not self.lifecycle:
                continue
            if now >= self.next[action]:
                self.next[action] = now + every * self.rng.uniform(0.5, 1.5)
                try:
                    getattr(self, action)()
                except httpx.HTTPError as exc:
                    self.counts[f"{action}_errors"] += 1
                    print(f"chaos: {action} failed: {exc!r}", flush=True)

    def order(self) -> None:
        """A customer of a random retailer buys 1-3 in-stock SKUs of the wholesaler's catalog."""
        shop = self.rng.choice(self.retailers)
        variants = self.dump(shop)["variants"]
        stocked = [v for v in variants if v["sku"] and any((q or 0) >= 2 for q in v["service_available"].values())]
        if not stocked:
            return
        picks = self.rng.sample(stocked, k=min(len(stocked), self.rng.randint(1, 3)))
        lines = [[v["sku"], self.rng.randint(1, 2)] for v in picks]
        if self._post(f"shops/{shop}/orders", {"lines": lines}).status_code == 200:
            self.counts["orders"] += 1

    def cancel(self) -> None:
        """A retailer cancels one of its orders that nothing of has shipped. When the hub has accepted it already,
        the store asks the hub to cancel (Shopify's cancellation request), and the hub answers after cancelling it at
        the wholesaler, or refuses when the wholesaler shipped meanwhile."""
        shop = self.rng.choice(self.retailers)
        open_orders = [o for o in self.dump(shop)["orders"]
                       if not o["fulfillments"] and not o["cancelled"] and not o["cancellation_pending"]]  # fmt: skip
        if not open_orders:
            return
        order = self.rng.choice(open_orders)
        resp = self._post(f"shops/{shop}/cancel", {"order": order["id"]})
        if resp.is_success:
            self.counts["cancellations" if resp.json().get("cancelled") else "cancellation_requests"] += 1
        else:
            self.counts["cancel_refused"] += 1

    def edit(self) -> None:
        """A retailer takes one unit off a line of one of its orders nothing of has shipped (the line goes when it
        held one unit, unless it is the order's only line). The hub carries the edit to the wholesaler's copy."""
        shop = self.rng.choice(self.retailers)
        editable = [(o, _reducible(o)) for o in self.dump(shop)["orders"]
                    if not o["fulfillments"] and not o["cancelled"] and not o["cancellation_pending"]]  # fmt: skip
        editable = [(o, lines) for o, lines in editable if lines]
        if not editable:
            return
        order, lines = self.rng.choice(editable)
        line = self.rng.choice(lines)
        resp = self._post(f"shops/{shop}/edit", {"order": order["id"], "lines": [[line["sku"], line["quantity"] - 1]]})
        self.counts["edits" if resp.is_success else "edit_refused"] += 1

    def stock(self) -> None:
        """The wholesaler recounts a random SKU."""
        variants = [v for v in self.dump(self.wholesaler)["variants"] if v["sku"]]
        sku = self.rng.choice(variants)["sku"]
        if self._post(f"shops/{self.wholesaler}/stock", {"sku": sku, "available": self.rng.randint(5, 80)}).is_success:
            self.counts["stock_changes"] += 1

    def price(self) -> None:
        """The wholesaler edits a random SKU's price."""
        variants = [v for v in self.dump(self.wholesaler)["variants"] if v["sku"]]
        sku = self.rng.choice(variants)["sku"]
        price = f"{self.rng.randint(300, 3000) / 100:.2f}"
        if self._post(f"shops/{self.wholesaler}/price", {"sku": sku, "price": price}).is_success:
            self.counts["catalog_edits"] += 1

    def ship(self) -> None:
        """The wholesaler ships one open hub order: everything (most often), or one line / part of it (split)."""
        open_orders = []
        for order in self.dump(self.wholesaler)["orders"]:
            if "wholesync" not in order["tags"] or order.get("cancelled"):
                continue
            shipped = Counter()
            for f in order["fulfillments"]:
                for line in f["lines"]:
                    shipped[line["sku"]] += line["quantity"] or 0
            left = {ln["sku"]: ln["quantity"] - shipped[ln["sku"]] for ln in order["lines"]}
            left = {sku: q for sku, q in left.items() if q > 0}
            if left:
                open_orders.append((order, left))
        if not open_orders:
            return
        order, left = self.rng.choice(open_orders)
        roll = self.rng.random()
        if roll < 0.6:
            lines, kind = None, "shipments"
        else:
            sku = self.rng.choice(sorted(left))
            lines, kind = [[sku, max(1, left[sku] // 2)]], "partial_shipments"
        self.tracking += 1
        number = f"1ZCHAOS{self.tracking:06d}"
        body = {"order": order["id"], "lines": lines, "company": "UPS", "numbers": [number]}
        resp = self._post(f"shops/{self.wholesaler}/ship", body)
        if resp.is_success:
            self.counts["shipments"] += 1
            if kind != "shipments":
                self.counts[kind] += 1
        else:
            self.counts["ship_refused"] += 1
            print(f"chaos: shipping {order['name']} refused: {resp.status_code} {resp.text[:200]}", flush=True)


def _reducible(order: dict) -> list[dict]:
    """The lines one unit can come off: more than one unit, or one unit while another line keeps the order going."""
    held = [ln for ln in order["lines"] if ln["quantity"] > 0]
    return [ln for ln in held if ln["quantity"] > 1 or len(held) > 1]
