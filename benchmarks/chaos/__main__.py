"""Run the soak: start the processes, trade for CHAOS_SECONDS under faults drawn from CHAOS_SEED, settle, check.

Settings (environment): CHAOS_SEED (random when unset; printed), CHAOS_SECONDS (600), CHAOS_SETTLE_SECONDS (240),
CHAOS_CLOCK_SCALE (240: an hour of schedule every 15 s, a billing day every 6 minutes; at 720 two
workers on a small shared machine fall behind the plan and the queue only grows), CHAOS_RETAILERS (4),
DATABASE_URL (PostgreSQL when set: a scratch database on that server, dropped at the end; SQLite otherwise),
CHAOS_RESTART_POSTGRES=1 (also restart PostgreSQL; only on a server of your own), CHAOS_LIFECYCLE=0 (retailers
neither cancel nor edit orders), CHAOS_KEEP_DATABASE=1 (the scratch database outlives the soak, for diagnosis).
On any violation every sandbox store's state is kept in the run directory as stores.json.
Writes results.json -> "chaos" and exits 1 on any violation, printing the command that replays the run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.chaos import world
from benchmarks.chaos.database import scratch_database
from benchmarks.chaos.driver import Trader
from benchmarks.chaos.faults import Injector, schedule
from benchmarks.chaos.invariants import Violation, check_all, tally
from benchmarks.chaos.processes import ROOT, Cluster
from benchmarks.chaos.snapshot import Reader, explain_billing, explain_stock

WHOLESALER = "demo-wholesaler.myshopify.com"
CORE = ("redis", "sandbox", "web", "worker-1", "worker-2", "scheduler")
RESULTS = ROOT / "benchmarks" / "results.json"
TOKEN_LIFETIME = 420  # seconds an expiring Shopify token lives in the soak: refreshed every ~2 minutes (5-min margin)


def _setup(cluster: Cluster, retailers_wanted: int) -> tuple[list[str], list[str]]:
    """Migrate and seed the demo (a wholesaler, two retailers), start every process, then set the world up as its
    merchants would (benchmarks/chaos/world.py): the wholesaler connects its store (an expiring token) and Stripe,
    more retailers install the app and accept invitations, every partnership bills by card through Stripe. Waits
    until the retailers' stores carry the catalog. Returns (retailer shops, shops holding expiring tokens)."""
    cluster.start("redis")
    cluster.wait_redis()
    world.operator(cluster, ["db", "upgrade", "heads"], ["demo", "seed"])
    cluster.start("sandbox")
    cluster.wait_http(f"{cluster.sandbox_url}/_sandbox/webhooks/stats")
    httpx.post(f"{cluster.sandbox_url}/_sandbox/token_lifetime", json={"seconds": TOKEN_LIFETIME}, timeout=10)
    for name in CORE[2:]:
        cluster.start(name)
    cluster.wait_http(cluster.web_url)
    reader = Reader(cluster.sandbox_url, cluster.env, WHOLESALER)
    browser = world.Browser(cluster)
    browser.login(world.DEMO_EMAIL, world.DEMO_PASSWORD)
    browser.connect_store(WHOLESALER)
    browser.connect_stripe("sk_test_chaos_wholesaler")
    wholesaler_id, price_list_id = reader.sql("SELECT wholesaler_id, id FROM price_list ORDER BY id LIMIT 1")[0]
    shops = [f"chaos-retailer-{number}.myshopify.com" for number in range(3, retailers_wanted + 1)]
    world.add_retailers(cluster, reader, shops, wholesaler_id, price_list_id)
    # The expired-token fault hits only tokens that expire (and can be refreshed or exchanged again).
    expiring = [r[0] for r in reader.sql("SELECT address FROM connection WHERE token_expires_at IS NOT NULL")]
    partnerships = reader.partnerships()
    # The operator's commands run in one process; each retailer saves its card on its own (at once).
    commands = [["partners", "buffer", str(partnerships[0]["id"]), "2"]]  # one retailer holds stock back
    for p in partnerships:
        commands += [["partners", "billing", str(p["id"]), "stripe", "--terms", "card"],
                     ["partners", "card-link", str(p["id"])]]  # fmt: skip
    links = world.operator(cluster, *commands)[2::2]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda link: world.save_card(cluster, link), links))
    world.operator(cluster, ["?", "sync", "run", "products.pull"], ["?", "sync", "run", "products.push"])
    retailers = [p["shop"] for p in partnerships]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        bare = [shop for shop in retailers if not any(v["service_available"] for v in reader.dump(shop)["variants"])]
        if not bare:
            return retailers, expiring
        time.sleep(2)
    # Trade goes on without them: the invariants report what they lack (and lost_access says why, if it is that).
    statuses = dict(reader.sql("SELECT address, status FROM connection WHERE role = 'store'"))
    print(f"chaos: SETUP: no catalog reached {', '.join(f'{s} (connection {statuses.get(s)})' for s in bare)} "
          f"within 180 s; see {cluster.logs}", flush=True)  # fmt: skip
    if len(bare) == len(retailers):
        raise TimeoutError("no retailer's store received the catalog; see " + str(cluster.logs))
    return retailers, expiring


def _marks(reader: Reader) -> tuple[int, int]:
    """The newest run and outbox row when trading stops: the settle waits for everything up to them."""
    runs = reader.sql("SELECT COALESCE(MAX(id), 0) FROM sync_run")[0][0]
    rows = reader.sql("SELECT COALESCE(MAX(id), 0) FROM outbox_message")[0][0]
    return int(runs), int(rows)


def _in_flight(reader: Reader, cluster: Cluster, marks: tuple[int, int]) -> str | None:
    """What trading left in flight, or None once every run and outbox row it produced (ids up to `marks`) has
    ended and no webhook waits in its queue. The compressed scheduler enqueues new runs every few seconds, so later
    scheduled runs may be queued or executing: they are counted in the summary, not waited for (a snapshot read
    while one writes may see a moment's mismatch; the invariants are read again until they hold)."""
    import redis

    r = redis.Redis(port=cluster.redis_port, socket_timeout=5)
    webhooks = r.llen("rq:queue:webhooks")
    runs = reader.sql(
        "SELECT job_name, status, COUNT(*) FROM sync_run WHERE status IN ('queued', 'running') AND id <= :m "
        "GROUP BY job_name, status ORDER BY job_name, status",
        m=marks[0],
    )
    rows = reader.sql("SELECT COUNT(*) FROM outbox_message WHERE done_at IS NULL AND id <= :m", m=marks[1])
    if webhooks or runs or rows[0][0]:
        named = ", ".join(f"{job} {status} {n}" for job, status, n in runs)
        return (
            f"open runs from trading {sum(n for *_, n in runs)} ({named}), outbox rows {rows[0][0]}, "
            f"webhooks queued {webhooks}"
        )
    return None


def backlog(reader: Reader, cluster: Cluster) -> dict:
    """Jobs waiting in each RQ queue and runs open now (scheduled after trading stopped, not waited for)."""
    import redis

    r = redis.Redis(port=cluster.redis_port, socket_timeout=5)
    queued = {key.decode().rsplit(":", 1)[-1]: r.llen(key) for key in r.scan_iter("rq:queue:*", _type="list")}
    open_runs = reader.sql("SELECT COUNT(*) FROM sync_run WHERE status IN ('queued', 'running')")[0][0]
    return {"queued": queued, "open_runs": open_runs}


def _settle(reader: Reader, cluster: Cluster, bound: float, marks: tuple[int, int]) -> tuple[float, list, str | None]:
    """Wait, bounded, until nothing trading produced is in flight (_in_flight), then check the invariants, again
    every few seconds until they hold or `bound` seconds pass. Returns (seconds,
    violations, what was still in flight when the bound ran out, or None)."""
    start = time.monotonic()
    violations: list = []
    busy: str | None = "not looked at yet"
    shown = 0.0
    while True:
        cluster.supervise(CORE)
        try:
            busy = _in_flight(reader, cluster, marks)
            if busy is None:
                violations = check_all(reader.snapshot())
        except Exception as exc:  # a store or the database mid-restart: try again
            print(f"chaos: settle check failed: {exc!r}", flush=True)
            busy = f"unreadable: {exc!r}"
        elapsed = time.monotonic() - start
        if busy is None and not violations:
            return round(elapsed, 1), [], None
        if elapsed >= shown + 10:  # what the settle waits for, every ten seconds (the log shows where it goes)
            shown = elapsed
            waiting = busy or "invariants not holding yet: " + ", ".join(sorted({v.kind for v in violations}))
            print(f"chaos: settling, {elapsed:.0f} s: {waiting}", flush=True)
        if elapsed >= bound:
            if busy is not None:  # never quiet at the bound: the invariants as they stand, and what was in flight
                print(f"chaos: not settled within {bound:g} s: {busy}", flush=True)
                _keep_sessions(reader, cluster.run_dir)
                try:
                    violations = check_all(reader.snapshot())
                except Exception as exc:
                    violations = [Violation("unsettled", f"no snapshot at the bound: {exc!r}")]
            return round(elapsed, 1), violations, busy
        time.sleep(0.5 if busy else 5)


def _keep_sessions(reader: Reader, run_dir: Path) -> None:
    """On PostgreSQL, keep what every session of the soak's database was doing and waiting for (a hung worker's
    lock wait shows here; the scratch database is dropped at the end)."""
    if reader.engine.dialect.name != "postgresql":
        return
    try:
        rows = reader.sql(
            "SELECT pid, application_name, state, wait_event_type, wait_event, pg_blocking_pids(pid), "
            "now() - xact_start, now() - query_start, query FROM pg_stat_activity WHERE datname = current_database()"
        )
    except Exception as exc:
        print(f"chaos: reading pg_stat_activity failed: {exc!r}", flush=True)
        return
    (run_dir / "pg_sessions.json").write_text(json.dumps([list(r) for r in rows], indent=1, default=str))
    print(f"chaos: database sessions kept in {run_dir / 'pg_sessions.json'}", flush=True)


def _explain_stock(reader: Reader, violations: list, run_dir: Path) -> None:
    """Keep what the hub knew of each mismatched SKU in the run directory (the scratch database is dropped)."""
    try:
        snap = reader.snapshot()
        explained = explain_stock(reader, snap, violations)
    except Exception as exc:  # a diagnosis must not hide the soak's result
        print(f"chaos: explaining the stock mismatches failed: {exc!r}", flush=True)
        return
    path = run_dir / "stock_mismatches.json"
    path.write_text(json.dumps({"snapshot": snap, "skus": explained}, indent=1, default=str))
    print(f"chaos: stock mismatches explained in {path}", flush=True)


def _keep_stores(reader: Reader, shops: list[str], run_dir: Path) -> None:
    """Keep every store's state in the run directory: the sandbox's memory goes with its process."""
    try:
        stores = {shop: reader.dump(shop) for shop in shops}
    except Exception as exc:  # a diagnosis must not hide the soak's result
        print(f"chaos: keeping the stores' state failed: {exc!r}", flush=True)
        return
    path = run_dir / "stores.json"
    path.write_text(json.dumps(stores, indent=1, default=str))
    print(f"chaos: the stores' state kept in {path}", flush=True)


def billing_summary(reader: Reader) -> dict:
    """How far billing got: our invoices by status, invoice lines, and invoices the gateway holds as paid."""
    statuses = {status: n for status, n in reader.sql("SELECT status, COUNT(*) FROM invoice GROUP BY status")}
    lines = reader.sql("SELECT COUNT(*) FROM invoice_line")[0][0]
    paid = sum(1 for n in reader.gateway_charges().values() if n)
    return {"invoices": statuses, "invoice_lines": lines, "gateway_invoices": paid}


def main() -> int:
    # A soak stopped with SIGTERM still stops every process it started (the `finally` of _soak).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**9))
    seconds = float(os.environ.get("CHAOS_SECONDS", "600"))
    settle_bound = float(os.environ.get("CHAOS_SETTLE_SECONDS", "240"))
    scale = float(os.environ.get("CHAOS_CLOCK_SCALE", "240"))
    postgres = bool(os.environ.get("DATABASE_URL")) and os.environ.get("CHAOS_RESTART_POSTGRES") == "1"
    # The replay names every setting that shapes the run (the database server's address is the caller's own).
    where = "DATABASE_URL=... " if os.environ.get("DATABASE_URL") else ""
    where += "CHAOS_RESTART_POSTGRES=1 " if postgres else ""
    where += "CHAOS_LIFECYCLE=0 " if os.environ.get("CHAOS_LIFECYCLE", "1") == "0" else ""
    replay = f"{where}CHAOS_SEED={seed} CHAOS_SECONDS={seconds:g} CHAOS_CLOCK_SCALE={scale:g} make chaos"
    print(f"chaos: seed {seed}, {seconds:g} s, clock x{scale:g}, database "
          f"{'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}; replay: {replay}", flush=True)  # fmt: skip
    keep = os.environ.get("CHAOS_KEEP_DATABASE") == "1"
    with scratch_database(os.environ.get("DATABASE_URL"), keep=keep) as database_url:
        return _soak(seed, seconds, settle_bound, scale, postgres, replay, database_url)


def _soak(seed: int, seconds: float, settle_bound: float, scale: float, postgres: bool, replay: str,
          database_url: str | None) -> int:  # fmt: skip
    run_dir = Path(tempfile.mkdtemp(prefix=f"wholesync-chaos-{seed}-"))
    cluster = Cluster(run_dir, scale, database_url)
    retailers_wanted = int(os.environ.get("CHAOS_RETAILERS", "4"))
    trade_rng, fault_rng = random.Random(seed), random.Random(seed * 7919 + 1)
    plan = schedule(fault_rng, seconds, postgres=postgres)
    began = time.monotonic()
    try:
        retailers, expiring = _setup(cluster, retailers_wanted)
        setup_seconds = round(time.monotonic() - began, 1)
        print(f"chaos: world set up in {setup_seconds} s; trading for {seconds:g} s", flush=True)
        reader = Reader(cluster.sandbox_url, cluster.env, WHOLESALER)
        trader = Trader(cluster.sandbox_url, WHOLESALER, retailers, trade_rng,
                        lifecycle=os.environ.get("CHAOS_LIFECYCLE", "1") != "0")  # fmt: skip
        injector = Injector(cluster, fault_rng, WHOLESALER, retailers, expiring)
        start = time.monotonic()
        while (now := time.monotonic() - start) < seconds:
            cluster.supervise(CORE)
            trader.step(now)
            injector.due()
            while plan and plan[0][0] <= now:
                _, kind = plan.pop(0)
                try:
                    injector.inject(kind)
                except (httpx.HTTPError, TimeoutError, OSError) as exc:
                    print(f"chaos: injecting {kind} failed: {exc!r}", flush=True)
            time.sleep(0.1)
        injector.finish()
        marks = _marks(reader)
        print(
            f"chaos: trading over ({trader.counts['orders']} orders); settling (bound {settle_bound:g} s)", flush=True
        )
        settle_seconds, violations, unsettled = _settle(reader, cluster, settle_bound, marks)
        if any(v.kind == "stock_mismatch" for v in violations):
            _explain_stock(reader, violations, run_dir)
        if violations:
            _keep_stores(reader, [WHOLESALER, *retailers], run_dir)
        left = backlog(reader, cluster)
        webhook_stats = httpx.get(f"{cluster.sandbox_url}/_sandbox/webhooks/stats", timeout=10).json()
        billing = billing_summary(reader)
        if set(billing["invoices"]) - {"paid", "sent"}:  # declined or stuck: keep what explains it
            (run_dir / "billing.json").write_text(json.dumps(explain_billing(reader), indent=1, default=str))
    finally:
        cluster.stop_all()
    counts = tally(violations)
    result = {
        "seed": seed, "seconds": seconds, "clock_scale": scale, "database": "postgresql" if database_url else "sqlite",
        "retailers": len(retailers), "billing": billing,
        "orders": trader.counts["orders"], "shipments": trader.counts["shipments"],
        "partial_shipments": trader.counts["partial_shipments"], "stock_changes": trader.counts["stock_changes"],
        "catalog_edits": trader.counts["catalog_edits"], "cancellations": trader.counts["cancellations"],
        "cancellation_requests": trader.counts["cancellation_requests"],
        "cancel_refused": trader.counts["cancel_refused"], "edits": trader.counts["edits"],
        "edit_refused": trader.counts["edit_refused"],
        "faults": dict(sorted(injector.counts.items())),
        "webhook_faults_applied": webhook_stats, "process_restarts": cluster.restarts,
        **counts, "violations": len(violations), "settle_seconds": settle_seconds,
        "setup_seconds": setup_seconds, "unsettled": unsettled, "backlog_after_settle": left,
        "violation_details": [v.public() for v in violations[:200]], "run_dir": str(run_dir),
    }  # fmt: skip
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["chaos"] = result
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for v in violations:
        print(f"chaos: VIOLATION {v.kind}: {v.detail}")
    print(
        f"chaos: seed {seed} {seconds:g} s: {result['orders']} orders, {result['shipments']} shipments, "
        f"{result['stock_changes']} stock changes, {result['cancellations']} cancellations and "
        f"{result['cancellation_requests']} cancellation requests, {result['edits']} edits, "
        f"{sum(injector.counts.values())} faults {result['faults']}; "
        f"lost {counts['lost']}, "
        f"duplicated {counts['duplicated']}, double_billed {counts['double_billed']}, stock_mismatches "
        f"{counts['stock_mismatches']}, catalog_mismatches {counts['catalog_mismatches']}, lost_access "
        f"{counts['lost_access']}; settled in "
        f"{settle_seconds} s (setup {setup_seconds} s); {len(retailers)} retailers, invoices {billing['invoices']}"
    )
    if violations or unsettled:
        # Invariants that hold while trading's webhooks still wait prove nothing about their effects: not settled
        # within the bound is a failure too.
        why = f"not settled within {settle_bound:g} s ({unsettled})" if unsettled and not violations else "violations"
        print(f"chaos: FAILED (seed {seed}): {why}; replay with: {replay}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
