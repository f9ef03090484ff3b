"""Page speed at real volumes: 100,000 orders and 50,000 variants; the order list, timeline and catalog pages.

`main()` seeds a throw-away database (SQLite in a temp dir, or BENCH_DATABASE_URL), times each page at the server
(in-process WSGI, no network) and returns {"pages_p95_ms": worst page's p95, "pages_ms": {...}}; the target is 150 ms.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

ORDERS = 100_000
VARIANTS = 50_000
RETAILERS = 20
REPEAT = 30
TARGET_MS = 150
PASSWORD = "benchmark password"


def _app(tmp: Path):
    from portal import create_app

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite'}"
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp),
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "TOKEN_ENCRYPTION_KEYS": "2Q2Jq3bqs8f6HT8NUwzB8UtSbw8y_yl6wzcf3LNyHxk=",
            "SESSION_COOKIE_SECURE": False,
        }
    )


def _seed() -> str:
    """One wholesaler with 20 retailers, 25,000 products x 2 variants and 100,000 orders (one line each)."""
    from portal.extensions import db
    from portal.models import Connection, Order, OrderLine, Organization, Partnership, Product, Variant
    from portal.services.accounts import create_wholesaler

    user = create_wholesaler("Bench Wholesale", "bench@example.com", PASSWORD)
    ws = user.organization
    sor = Connection(organization_id=ws.id, role="system_of_record", address="bench-ws.myshopify.com")
    db.session.add(sor)
    partnerships = []
    for n in range(RETAILERS):
        rt = Organization(kind="retailer", name=f"Retailer {n}")
        db.session.add(rt)
        db.session.flush()
        p = Partnership(wholesaler_id=ws.id, retailer_id=rt.id, status="active", invite_code=f"bench-{n}")
        db.session.add(p)
        db.session.flush()
        partnerships.append((p.id, rt.id))
    db.session.commit()
    now = datetime.now(UTC)
    products = VARIANTS // 2
    db.session.execute(
        insert(Product),
        [dict(id=i, wholesaler_id=ws.id, connection_id=sor.id, remote_id=f"P{i}", title=f"Product {i:06d}",
              vendor="Bench", created_at=now, updated_at=now) for i in range(1, products + 1)],
    )  # fmt: skip
    db.session.execute(
        insert(Variant),
        [dict(id=i, product_id=(i + 1) // 2, wholesaler_id=ws.id, connection_id=sor.id, remote_id=f"V{i}",
              sku=f"SKU-{i:06d}", wholesale_price=Decimal("9.50"), inventory_quantity=i % 40)
         for i in range(1, VARIANTS + 1)],
    )  # fmt: skip
    rng = random.Random(7)
    statuses = ("sent", "shipped", "completed", "completed", "completed", "failed")
    for start in range(0, ORDERS, 10_000):
        rows, lines = [], []
        for i in range(start + 1, start + 10_001):
            pid, rid = partnerships[i % RETAILERS]
            # Orders arrive in id order over 90 days, a few minutes apart with jitter.
            received = now - timedelta(minutes=(ORDERS - i) * 1.3 + rng.random())
            status = statuses[i % len(statuses)] if i < ORDERS - 500 else "received"  # the newest still waiting
            sent = received + timedelta(minutes=20) if status not in ("received", "failed") else None
            rows.append(dict(id=i, wholesaler_id=ws.id, retailer_id=rid, partnership_id=pid, remote_order_id=f"O{i}",
                             retailer_order_name=f"#{i}", status=status, received_at=received, placed_at=received,
                             sent_to_sor_at=sent))  # fmt: skip
            lines.append(dict(order_id=i, remote_line_id=f"L{i}", sku=f"SKU-{(i % VARIANTS) + 1:06d}", quantity=1,
                              wholesale_price=Decimal("9.50")))  # fmt: skip
        db.session.execute(insert(Order), rows)
        db.session.execute(insert(OrderLine), lines)
    db.session.commit()
    return user.email


def _login(client, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code


def _time(client, url: str) -> list[float]:
    client.get(url)  # warm caches once, as a server that has been up for a while would be
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> dict:
    """Seed, time each page REPEAT times, print p50/p95 per page; return the worst p95 as pages_p95_ms."""
    from portal.extensions import db
    from portal.models import Order, Product

    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        with app.app_context():
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            email = _seed()
            seeded = time.perf_counter() - started
            order_id = db.session.execute(select(Order.id).order_by(Order.id.desc())).scalars().first()
            product_id = db.session.execute(select(Product.id).order_by(Product.id)).scalars().first()
            pages = {
                "orders list": "/orders/",
                "orders list, page 500": "/orders/?page=500",
                "orders list, status filter": "/orders/?status=shipped",
                "orders list, stuck only": "/orders/?stuck=1",
                "order timeline": f"/orders/{order_id}",
                "catalog": "/catalog/",
                "catalog, page 200": "/catalog/?page=200",
                "catalog, SKU search": "/catalog/?q=SKU-031337",
                "catalog product": f"/catalog/{product_id}",
            }
            client = app.test_client()
            _login(client, email)
            results = {}
            for name, url in pages.items():
                samples = _time(client, url)
                results[name] = {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(_p95(samples), 1)}
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    engine = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    print(f"seeded {ORDERS:,} orders and {VARIANTS:,} variants in {seeded:.1f} s ({engine})")
    for name, r in results.items():
        flag = "" if r["p95_ms"] < TARGET_MS else f"  OVER {TARGET_MS} ms"
        print(f"{name:30} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms{flag}")
    worst = max(r["p95_ms"] for r in results.values())
    print(f"pages_p95_ms = {worst} (target < {TARGET_MS})")
    return {"pages_p95_ms": worst, "pages_ms": results}


if __name__ == "__main__":
    main()
