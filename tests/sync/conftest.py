"""A trading world on the Shopify sandbox: a wholesaler's store as system of record with a small catalog, two
retailers' stores, a 40 % / .99 price list, and helpers to run jobs the way the product does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jobs.runtime import run_now
from portal.extensions import db
from portal.models import ActivityLog, SyncRun
from tests.support import factories
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture

WS_SHOP = "acme-wholesale.myshopify.com"
RT_SHOPS = ("corner-store.myshopify.com", "city-boutique.myshopify.com")
CATALOG = {
    "Canvas Tote": [{"sku": "TOTE-1", "price": "10.00", "available": 20}],
    "Linen Shirt": [{"sku": "SHIRT-S", "price": "20.00", "available": 5, "option": "S"},
                    {"sku": "SHIRT-M", "price": "20.00", "available": 7, "option": "M"}],
    "Wool Scarf": [{"sku": "SCARF-1", "price": "15.50", "available": 3}],
}  # fmt: skip


@dataclass
class World:
    sandbox: object
    wholesaler: object
    user: object
    sor: object
    retailers: list
    stores: list
    partnerships: list
    price_list: object
    seeded: dict

    def run(self, job: str, partnership_id: int | None = None) -> list[dict]:
        """`flask sync run JOB` in the foreground (every target in scope)."""
        return run_now(job, partnership_id)

    def sync_catalog(self) -> None:
        self.ok("products.pull")
        self.ok("products.push")

    def ok(self, job: str) -> list[dict]:
        """Run a job on every target; each run must finish without failed records."""
        results = self.run(job)
        assert all(r["status"] == "done" and not r["failed"] for r in results), [
            (r["message"], r["failures"]) for r in results
        ]
        return results

    def store_shop(self, n: int = 0):
        return self.sandbox.shop(RT_SHOPS[n])

    def sor_shop(self):
        return self.sandbox.shop(WS_SHOP)


def mutation_calls(shop) -> int:
    return sum(1 for r in shop.requests if r["operation"] == "mutation" and not r.get("throttled"))


def activity_count() -> int:
    return db.session.execute(select(func.count()).select_from(ActivityLog)).scalar_one()


def last_run(job: str) -> SyncRun:
    return (
        db.session.execute(select(SyncRun).where(SyncRun.job_name == job).order_by(SyncRun.id.desc())).scalars().first()
    )


@pytest.fixture
def world(app, sandbox):  # noqa: F811 - the sandbox fixture imported above
    user = factories.wholesaler(name="Acme Wholesale")
    ws = user.organization
    sor = factories.connection(ws, "system_of_record", WS_SHOP, access_token=sandbox.add_shop(WS_SHOP))
    price_list = factories.price_list(ws, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    retailers, stores, partnerships = [], [], []
    for shop in RT_SHOPS:
        retailer = factories.retailer()
        store = factories.connection(retailer, "store", shop, access_token=sandbox.add_shop(shop))
        retailers.append(retailer)
        stores.append(store)
        partnerships.append(factories.partnership(ws, retailer, price_list_id=price_list.id))
    seeded = {title: sandbox.add_product(WS_SHOP, title, variants) for title, variants in CATALOG.items()}
    return World(sandbox, ws, user, sor, retailers, stores, partnerships, price_list, seeded)
