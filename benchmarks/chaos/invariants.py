"""The soak's invariants as pure functions over snapshots of the stores, the gateway and the database.

Each check returns a list of Violation; the collector (benchmarks/chaos/snapshot.py) builds the snapshot from the
sandbox's dump routes, the Stripe fake's state and SQL reads, so these functions never touch a process.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal

MARKER_PREFIX = "wholesync-order-"  # the tag the hub puts on each order it creates in the system of record


@dataclass(frozen=True)
class Violation:
    """One broken invariant: kind is lost | duplicated | double_billed | stock_mismatch | catalog_mismatch |
    lost_access."""

    kind: str
    detail: str

    def public(self) -> dict:
        return asdict(self)


def _hub_order_id(tags: list[str]) -> int | None:
    for tag in tags:
        if tag.startswith(MARKER_PREFIX) and tag[len(MARKER_PREFIX) :].isdigit():
            return int(tag[len(MARKER_PREFIX) :])
    return None


def orders_exactly_once(snap: dict) -> list[Violation]:
    """Every retailer order line for the wholesaler's goods exists exactly once (same quantity) in its store, in an
    order not cancelled there (after the retailer's edits: more is allowed only where the wholesaler shipped more
    before the edit reached it); a retailer order cancelled has at most one copy there, cancelled unless it shipped
    first, and no cancellation request of a retailer is left unanswered.

    snap: retailer_orders {shop: [order]}, wholesaler_orders [order], hub_orders {hub id: retailer order gid},
    catalog_skus [sku]. An order is {"id", "name", "tags", "lines": [{"sku", "quantity"}], "fulfillments",
    "cancelled", "cancellation_pending"}.
    """
    catalog = set(snap["catalog_skus"])
    placed: dict[str, Counter] = {}
    names, cancelled = {}, set()
    out = []
    for shop, orders in snap["retailer_orders"].items():
        for order in orders:
            wanted = Counter()
            for line in order["lines"]:
                if line["sku"] in catalog:
                    wanted[line["sku"]] += line["quantity"]
            if wanted:
                placed[order["id"]] = wanted
                names[order["id"]] = f"{shop} {order['name']}"
                if order.get("cancelled"):
                    cancelled.add(order["id"])
                if order.get("cancellation_pending"):
                    out.append(Violation("lost", f"{shop} {order['name']}: its cancellation was never answered"))
    received: dict[str, Counter] = defaultdict(Counter)
    shipped: dict[str, Counter] = defaultdict(Counter)
    copies: Counter = Counter()
    open_copies: dict[str, list[str]] = defaultdict(list)  # copies neither cancelled nor shipped in any part
    for order in snap["wholesaler_orders"]:
        hub_id = _hub_order_id(order.get("tags") or [])
        if hub_id is None:
            continue
        retailer_order = snap["hub_orders"].get(hub_id)
        if retailer_order is None:
            out.append(Violation("duplicated", f"wholesaler order {order['name']} names unknown hub order {hub_id}"))
            continue
        copies[retailer_order] += 1
        if order.get("cancelled"):
            continue  # its goods will never ship
        if not order.get("fulfillments"):
            open_copies[retailer_order].append(order["name"])
        for line in order["lines"]:
            received[retailer_order][line["sku"]] += line["quantity"]
        for shipment in order.get("fulfillments") or []:
            for line in shipment["lines"]:
                shipped[retailer_order][line["sku"]] += line["quantity"] or 0
    for gid, wanted in placed.items():
        got = received.get(gid, Counter())
        if copies[gid] > 1:
            out.append(Violation("duplicated", f"{names[gid]} exists {copies[gid]} times in the wholesaler's store"))
        if gid in cancelled:
            for name in open_copies.get(gid, []):
                out.append(Violation("lost", f"{names[gid]} was cancelled, but {name} is still open in the "
                                             "wholesaler's store"))  # fmt: skip
            continue
        for sku, quantity in wanted.items():
            if got[sku] < quantity:
                out.append(Violation("lost", f"{names[gid]} {sku}: {quantity} ordered, {got[sku]} reached the "
                                             "wholesaler's store"))  # fmt: skip
            elif got[sku] > quantity and copies[gid] <= 1 and shipped[gid][sku] <= quantity:
                out.append(Violation("duplicated", f"{names[gid]} {sku}: {quantity} ordered, {got[sku]} in the "
                                                   "wholesaler's store"))  # fmt: skip
    return out


def shipments_exactly_once(snap: dict) -> list[Violation]:
    """Every shipment of a hub order in the wholesaler's store exists exactly once, with its tracking, in the
    retailer's order (at most once when the retailer cancelled the order, or removed every unit it carries). snap
    as for orders_exactly_once, plus retailer_order_shop {retailer order gid: shop}."""
    retailer_fulfillments: dict[str, list[dict]] = {}
    cancelled = set()  # a retailer order cancelled takes no shipment: one the wholesaler made first cannot reach it
    room: dict[str, Counter] = {}  # units per SKU the retailer's order holds and has not had fulfilled
    for orders in snap["retailer_orders"].values():
        for order in orders:
            retailer_fulfillments[order["id"]] = order.get("fulfillments") or []
            if order.get("cancelled"):
                cancelled.add(order["id"])
            left = Counter({line["sku"]: line["quantity"] for line in order.get("lines") or []})
            for shipment in order.get("fulfillments") or []:
                left.subtract({line["sku"]: line["quantity"] or 0 for line in shipment["lines"]})
            room[order["id"]] = left
    out = []
    for order in snap["wholesaler_orders"]:
        hub_id = _hub_order_id(order.get("tags") or [])
        retailer_order = snap["hub_orders"].get(hub_id) if hub_id is not None else None
        if retailer_order is None:
            continue
        theirs = retailer_fulfillments.get(retailer_order, [])
        for shipment in order.get("fulfillments") or []:
            # Units the retailer removed (an edit) after the wholesaler shipped them have nowhere to go there.
            removed = all(room.get(retailer_order, Counter())[line["sku"]] <= 0 for line in shipment["lines"])
            for number in shipment["tracking"]:
                copies = sum(1 for f in theirs if number in f["tracking"])
                if copies == 0 and retailer_order not in cancelled and not removed:
                    out.append(Violation("lost", f"shipment {number} of {order['name']} is not in the retailer's "
                                                 f"order {retailer_order}"))  # fmt: skip
                elif copies > 1:
                    out.append(Violation("duplicated", f"shipment {number} of {order['name']} is in the retailer's "
                                                       f"order {copies} times"))  # fmt: skip
        shipped = Counter()
        for shipment in order.get("fulfillments") or []:
            for line in shipment["lines"]:
                shipped[line["sku"]] += line["quantity"] or 0
        got = Counter()
        for shipment in theirs:
            for line in shipment["lines"]:
                got[line["sku"]] += line["quantity"] or 0
        for sku in set(shipped) | set(got):
            if got[sku] > shipped[sku]:
                out.append(Violation("duplicated", f"{retailer_order} {sku}: {shipped[sku]} shipped, {got[sku]} "
                                                   "marked fulfilled at the retailer"))  # fmt: skip
    return out


def in_flight(snap: dict) -> dict[str, int]:
    """Units per SKU that will still leave the wholesaler's stock: lines of hub orders not cancelled and not yet in
    the wholesaler's store (snap: in_flight_orders {hub order id: {sku: units}}, the hub's received or failed
    orders, read before the wholesaler's store). An order the store already holds has taken its stock there, even
    while the hub has not recorded it as sent (its answer came late, or the worker died before recording it):
    counting it again would expect the retailers one order lower than the store's stock allows."""
    held = {_hub_order_id(order.get("tags") or []) for order in snap["wholesaler_orders"]}
    units: Counter = Counter()
    for hub_id, lines in snap["in_flight_orders"].items():
        if int(hub_id) not in held:
            units.update(lines)
    return dict(units)


def stock_matches(snap: dict) -> list[Violation]:
    """Each retailer's stock for each variant = max(0, wholesaler stock - in-flight - buffer).

    snap: wholesaler_stock {sku: available}, in_flight_orders and wholesaler_orders (see in_flight), partnerships
    [{"shop", "buffer", "stock": {sku: available at the hub's fulfillment location}}].
    """
    out = []
    flying = in_flight(snap)
    for p in snap["partnerships"]:
        for sku, have in sorted(p["stock"].items()):
            if sku not in snap["wholesaler_stock"]:
                continue
            want = max(0, snap["wholesaler_stock"][sku] - flying.get(sku, 0) - p["buffer"])
            if have != want:
                why = (f"(wholesaler {snap['wholesaler_stock'][sku]}, in flight {flying.get(sku, 0)}, "
                       f"buffer {p['buffer']})")  # fmt: skip
                out.append(Violation("stock_mismatch", f"{p['shop']} {sku}: {have}, expected {want} {why}"))
    return out


def catalog_matches(snap: dict) -> list[Violation]:
    """Each retailer has each of the wholesaler's SKUs exactly once, at its price list's price.

    snap: partnerships [{"shop", "variants": [{"sku", "price"}], "expected_prices": {sku: "12.99"}}].
    """
    out = []
    for p in snap["partnerships"]:
        counts = Counter(v["sku"] for v in p["variants"])
        prices = {v["sku"]: Decimal(str(v["price"])) for v in p["variants"]}
        for sku, price in sorted(p["expected_prices"].items()):
            if counts[sku] == 0:
                out.append(Violation("catalog_mismatch", f"{p['shop']} lacks {sku}"))
            elif counts[sku] > 1:
                out.append(Violation("duplicated", f"{p['shop']} has {sku} {counts[sku]} times"))
            elif prices[sku] != Decimal(str(price)):
                out.append(
                    Violation("catalog_mismatch", f"{p['shop']} {sku} at {prices[sku]}, price list says {price}")
                )
    return out


def billed_once(snap: dict) -> list[Violation]:
    """No line is billed beyond what shipped, every shipped line is billed (when billing is on) once a billing run
    came after its shipment, and no invoice of ours is charged twice at the gateway.

    snap: lines [{"id", "shipped", "due", "charged", "credited", "billing_on"}] (due: units whose shipment a later
    billing run must have billed; shipped when absent), gateway_charges {our invoice id: count of paid/open gateway
    invoices}.
    """
    out = []
    for line in snap["lines"]:
        net = line["charged"] - line["credited"]
        if net > line["shipped"]:
            out.append(Violation("double_billed", f"order line {line['id']}: {line['shipped']} shipped, {net} billed"))
        elif line["billing_on"] and net < min(line.get("due", line["shipped"]), line["shipped"]):
            due = min(line.get("due", line["shipped"]), line["shipped"])
            out.append(Violation("lost", f"order line {line['id']}: {line['shipped']} shipped, {due} due by the "
                                         f"last billing run, only {net} billed"))  # fmt: skip
    for invoice, count in sorted(snap["gateway_charges"].items()):
        if count > 1:
            out.append(Violation("double_billed", f"invoice {invoice} charged {count} times at the gateway"))
    return out


def access_kept(snap: dict) -> list[Violation]:
    """Every store connection still works after the faults stop: an expired or refused token is renewed by the
    hub (refresh) or by the merchant reopening the app, which the soak does after each expired-token fault.

    snap: connections [{"address", "role", "status"}].
    """
    return [Violation("lost_access", f"{c['address']} ({c['role']}) is {c['status']}")
            for c in snap.get("connections", []) if c["status"] != "active"]  # fmt: skip


CHECKS = (orders_exactly_once, shipments_exactly_once, stock_matches, catalog_matches, billed_once, access_kept)


def check_all(snap: dict) -> list[Violation]:
    """Every invariant over one snapshot."""
    return [v for check in CHECKS for v in check(snap)]


def tally(violations: list[Violation]) -> dict[str, int]:
    """The counts results.json reports."""
    kinds = Counter(v.kind for v in violations)
    return {
        "lost": kinds["lost"],
        "duplicated": kinds["duplicated"],
        "double_billed": kinds["double_billed"],
        "stock_mismatches": kinds["stock_mismatch"],
        "catalog_mismatches": kinds["catalog_mismatch"],
        "lost_access": kinds["lost_access"],
    }
