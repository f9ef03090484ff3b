"""Build the invariants' snapshot from the outside: the sandbox's dump routes, the Stripe fake's state, SQL reads of
the hub's tables and the price list's prices (benchmarks/chaos/prices.py, in a child process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import create_engine, text

from benchmarks.chaos.invariants import in_flight
from benchmarks.chaos.processes import ROOT

BILLED = "SELECT SUM(i.quantity) FROM invoice_line i WHERE i.order_line_id = l.id AND i.kind = '{kind}'"


def database_url(env: dict) -> str:
    raw = env.get("DATABASE_URL")
    if not raw:
        return f"sqlite:///{env['WHOLESYNC_INSTANCE_PATH']}/wholesync.sqlite"
    for old, new in (("postgres://", "postgresql+psycopg://"), ("postgresql://", "postgresql+psycopg://")):
        if raw.startswith(old):
            return new + raw[len(old) :]
    return raw


BILLING_MARGIN = timedelta(seconds=5)  # a shipment's log entry is written a moment before its commit


def _utc(value) -> datetime | None:
    """A timestamp read with plain SQL (a string on SQLite, a datetime on PostgreSQL) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _location(placement) -> str | None:
    """The location our goods are placed at in a retailer's store (the partnership's `placement` JSON)."""
    if isinstance(placement, str):
        placement = json.loads(placement)
    return (placement or {}).get("location_id")


class Reader:
    """Reads for one soak run (sandbox base URL, environment for SQL and the price computation)."""

    def __init__(self, sandbox_url: str, env: dict, wholesaler_shop: str):
        self.sandbox_url, self.env, self.wholesaler_shop = sandbox_url, env, wholesaler_shop
        self.engine = create_engine(database_url(env))
        self.http = httpx.Client(timeout=30.0)

    def dump(self, shop: str) -> dict:
        return self.http.get(f"{self.sandbox_url}/_sandbox/shops/{shop}/dump").raise_for_status().json()

    def sql(self, query: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(text(query), params))

    def partnerships(self) -> list[dict]:
        """Active partnerships with the retailer's store domain, buffer and fulfillment location."""
        rows = self.sql(
            "SELECT p.id, p.stock_buffer, p.placement, p.billing_enabled, c.address "
            "FROM partnership p JOIN connection c ON c.organization_id = p.retailer_id AND c.role = 'store' "
            "WHERE p.status = 'active' ORDER BY p.id"
        )
        return [{"id": r[0], "buffer": r[1] or 0, "location": _location(r[2]), "billing_on": bool(r[3]), "shop": r[4]}
                for r in rows]  # fmt: skip

    def expected_prices(self, partnerships: list[dict], wholesale: dict[str, str]) -> dict[str, dict[str, str]]:
        wanted = json.dumps({str(p["id"]): wholesale for p in partnerships})
        done = subprocess.run([sys.executable, "-m", "benchmarks.chaos.prices"], input=wanted, env=self.env,
                              cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
        return json.loads(done.stdout)

    def gateway_charges(self) -> dict[str, int]:
        """Our invoice id -> how many non-void gateway invoices carry it (Stripe fake)."""
        try:
            state = self.http.get(f"{self.sandbox_url}/stripe/_fake/state").raise_for_status().json()
        except httpx.HTTPError:
            return {}
        counts: Counter = Counter()
        for obj in state.get("objects", {}).values():
            if obj.get("object") == "invoice" and obj.get("status") not in ("void", "draft"):
                ours = next((v for k, v in (obj.get("metadata") or {}).items() if "invoice" in k), None)
                if ours is not None:
                    counts[str(ours)] += 1
        return dict(counts)

    def snapshot(self) -> dict:
        # The hub's in-flight orders are read before the wholesaler's store: an order the hub still called received
        # is then either in that dump (its stock taken there) or not created yet (its stock still there).
        in_flight_orders: dict[int, Counter] = defaultdict(Counter)
        for order_id, sku, qty in self.sql(
            'SELECT o.id, l.sku, l.quantity - l.cancelled_quantity FROM order_line l JOIN "order" o '
            "ON o.id = l.order_id WHERE o.status IN ('received', 'failed') AND o.cancelled_at IS NULL"
        ):
            in_flight_orders[order_id][sku] += int(qty or 0)
        ws = self.dump(self.wholesaler_shop)
        partnerships = self.partnerships()
        dumps = {p["shop"]: self.dump(p["shop"]) for p in partnerships}
        catalog = {v["sku"]: v for v in ws["variants"] if v["sku"]}
        hub_orders = {r[0]: r[1] for r in self.sql('SELECT id, remote_order_id FROM "order"')}
        prices = self.expected_prices(partnerships, {sku: v["price"] for sku, v in catalog.items()})
        shipped_by_line = self._shipped_by_hub_line(ws)
        billing_on = {p["id"] for p in partnerships if p["billing_on"]}
        due_by_line = self._due_by_hub_line()
        lines = []
        for line_id, partnership_id, charged, credited in self.sql(
            "SELECT l.id, o.partnership_id, "
            f"COALESCE(({BILLED.format(kind='charge')}), 0), COALESCE(({BILLED.format(kind='credit')}), 0) "
            'FROM order_line l JOIN "order" o ON o.id = l.order_id'
        ):  # fmt: skip
            lines.append({"id": line_id, "shipped": shipped_by_line.get(line_id, 0), "due": due_by_line.get(line_id, 0),
                          "charged": int(charged),
                          "credited": int(credited), "billing_on": partnership_id in billing_on})  # fmt: skip
        out_partnerships = []
        for p in partnerships:
            location = (p["location"] or "").rsplit("/", 1)[-1]
            variants = dumps[p["shop"]]["variants"]
            stock = {v["sku"]: v["service_available"][location] for v in variants
                     if v["sku"] in catalog and location in v["service_available"]}  # fmt: skip
            out_partnerships.append({**p, "variants": [v for v in variants if v["sku"] in catalog], "stock": stock,
                                     "expected_prices": prices.get(str(p["id"]), {})})  # fmt: skip
        return {
            "catalog_skus": sorted(catalog),
            "wholesaler_orders": ws["orders"],
            "retailer_orders": {shop: d["orders"] for shop, d in dumps.items()},
            "hub_orders": hub_orders,
            "wholesaler_stock": {sku: v["primary_available"] or 0 for sku, v in catalog.items()},
            "in_flight_orders": {order_id: dict(lines) for order_id, lines in in_flight_orders.items()},
            "partnerships": out_partnerships,
            "lines": lines,
            "gateway_charges": self.gateway_charges(),
            "connections": [{"address": a, "role": r, "status": st} for a, r, st in
                            self.sql("SELECT address, role, status FROM connection WHERE platform = 'shopify'")],
        }  # fmt: skip

    def _due_by_hub_line(self) -> dict[int, int]:
        """Units per hub order line that billing owes by now: those of shipments the hub recorded (their activity-log
        entry) at least BILLING_MARGIN before the partnership's latest invoice was claimed. Billing is daily: a
        shipment recorded after the day's invoice waits for the next billing day (6 minutes at clock x240)."""
        invoices = "SELECT partnership_id, MAX(created_at) FROM invoice GROUP BY partnership_id"
        latest = {pid: _utc(at) for pid, at in self.sql(invoices)}
        logged = (
            "SELECT record_id, MIN(created_at) FROM activity_log WHERE record_type = 'fulfillment' GROUP BY record_id"
        )
        recorded = {str(rid): _utc(at) for rid, at in self.sql(logged)}
        out: dict[int, int] = defaultdict(int)
        for fid, partnership_id, lines in self.sql(
            'SELECT f.id, o.partnership_id, f.lines FROM fulfillment f JOIN "order" o ON o.id = f.order_id'
        ):
            at, billed_at = recorded.get(str(fid)), latest.get(partnership_id)
            if at is None or billed_at is None or at + BILLING_MARGIN > billed_at:
                continue
            for entry in json.loads(lines) if isinstance(lines, str) else lines or []:
                if entry.get("order_line_id"):
                    out[entry["order_line_id"]] += int(entry.get("quantity") or 0)
        return out

    def _shipped_by_hub_line(self, ws: dict) -> dict[int, int]:
        """Units shipped in the wholesaler's store, per hub order line (matched by hub order and SKU)."""
        from benchmarks.chaos.invariants import _hub_order_id

        line_ids = defaultdict(list)
        for line_id, order_id, sku in self.sql("SELECT id, order_id, sku FROM order_line ORDER BY id"):
            line_ids[(order_id, sku)].append(line_id)
        out: dict[int, int] = defaultdict(int)
        for order in ws["orders"]:
            hub_id = _hub_order_id(order.get("tags") or [])
            for shipment in order.get("fulfillments") or []:
                for line in shipment["lines"]:
                    ids = line_ids.get((hub_id, line["sku"]))
                    if ids:
                        out[ids[0]] += line["quantity"] or 0
        return out


def explain_stock(reader: Reader, snap: dict, violations) -> dict:
    """For each SKU with a stock mismatch, what the hub knows of it (levels per location, in-flight orders, what
    each partnership last pushed) and its history (activity log, orders), so a failed soak can be read afterwards
    (the scratch database is dropped at the end)."""
    skus = sorted({v.detail.split()[1].rstrip(":") for v in violations if v.kind == "stock_mismatch"})
    out = {}
    for sku in skus:
        variants = reader.sql("SELECT id, inventory_quantity, inventory_updated_at FROM variant WHERE sku = :s", s=sku)
        ids = [r[0] for r in variants]
        if not ids:
            continue
        vid = ids[0]
        listing = reader.sql(
            "SELECT lv.id, l.partnership_id, lv.pushed_quantity FROM listing_variant lv "
            "JOIN listing l ON l.id = lv.listing_id WHERE lv.variant_id = :v",
            v=vid,
        )
        lv_ids = [str(r[0]) for r in listing]
        history = reader.sql(
            "SELECT a.created_at, a.sync_run_id, r.job_name, r.trigger, a.record_type, a.record_id, a.summary "
            "FROM activity_log a LEFT JOIN sync_run r ON r.id = a.sync_run_id "
            "WHERE (a.record_type = 'variant' AND a.record_id = :v) "
            "OR (a.record_type = 'listing_variant' AND a.record_id IN (" + ",".join(f"'{i}'" for i in lv_ids) + ")) "
            "ORDER BY a.id",
            v=str(vid),
        )
        orders = reader.sql(
            "SELECT o.id, o.retailer_order_name, o.partnership_id, o.status, o.placed_at, o.sent_to_sor_at, "
            "o.cancelled_at, l.quantity, l.cancelled_quantity, l.fulfilled_quantity "
            'FROM order_line l JOIN "order" o ON o.id = l.order_id WHERE l.sku = :s ORDER BY o.id',
            s=sku,
        )
        out[sku] = {
            "variant": [list(map(str, r)) for r in variants],
            "levels": [list(map(str, r)) for r in reader.sql(
                "SELECT location_id, quantity FROM variant_stock WHERE variant_id = :v", v=vid)],
            "in_flight_snapshot": in_flight(snap).get(sku, 0),
            "wholesaler_store": snap["wholesaler_stock"].get(sku),
            "retailers": {p["shop"]: p["stock"].get(sku) for p in snap["partnerships"]},
            "listing_variants": [list(map(str, r)) for r in listing],
            "history": [list(map(str, r)) for r in history],
            "orders": [list(map(str, r)) for r in orders],
        }  # fmt: skip
    return out


def explain_billing(reader: Reader) -> dict:
    """Our invoices, the hub's gateway webhook receipts and the Stripe fake's customers and events, so a declined or
    stuck invoice can be read after the soak (the processes and the scratch database are gone by then)."""
    invoices = reader.sql(
        "SELECT id, partnership_id, billing_date, status, last_error, steps, created_at FROM invoice ORDER BY id"
    )
    receipts = reader.sql(
        "SELECT id, event_id, topic, received_at, processed_at, result FROM webhook_receipt "
        "WHERE source <> 'shopify' ORDER BY id"
    )
    partnerships = reader.sql("SELECT id, gateway_customer_ref FROM partnership ORDER BY id")
    try:
        state = reader.http.get(f"{reader.sandbox_url}/stripe/_fake/state").raise_for_status().json()
    except httpx.HTTPError as exc:
        state = {"error": repr(exc), "objects": {}, "events": []}
    objects = state.get("objects", {})
    return {
        "invoices": [list(map(str, r)) for r in invoices],
        "receipts": [list(map(str, r)) for r in receipts],
        "partnerships": [list(map(str, r)) for r in partnerships],
        "customers": {k: o.get("invoice_settings") for k, o in objects.items() if o.get("object") == "customer"},
        "gateway_invoices": {k: (o.get("status"), o.get("customer"), o.get("metadata"))
                             for k, o in objects.items() if o.get("object") == "invoice"},
        "events": [(e.get("id"), e.get("type"), e.get("created"), e.get("_delivered"),
                    (e.get("data") or {}).get("object", {}).get("customer")) for e in state.get("events", [])],
    }  # fmt: skip
