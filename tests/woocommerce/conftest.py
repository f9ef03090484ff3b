"""WooCommerce worlds: the WooCommerce sandbox served over HTTP in a thread, shops with keys, and a Shopify
sandbox for the other side, wired into the app the way production builds adapters (portal.services.platforms)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from werkzeug.serving import make_server

from fakes.woocommerce import WooSandbox
from integrations.woocommerce.client import WooClient
from jobs.runtime import run_now
from portal.extensions import db
from portal.models import Connection
from tests.support import factories
from tests.support.sandbox import sandbox  # noqa: F401 - the Shopify sandbox fixture


@pytest.fixture
def woo():
    """The WooCommerce sandbox on 127.0.0.1 (plain http: the client signs with OAuth 1.0a, as WooCommerce requires)."""
    box = WooSandbox()
    server = make_server("127.0.0.1", 0, box, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    box.base_url = f"http://127.0.0.1:{server.server_port}"
    yield box
    server.shutdown()


def woo_shop(woo, name: str, **options) -> tuple[str, object]:
    """A store on plain http (WordPress sees http: OAuth only) with a read_write key: (site URL, key)."""
    woo.add_store(name, ssl=False, manage_stock=True, **options)
    return f"{woo.base_url}/{name}", woo.issue_key(name)


def woo_connection(org, role: str, site: str, key) -> Connection:
    """A WooCommerce connection as connecting one stores it (key and secret encrypted)."""
    return factories.connection(
        org,
        role,
        site,
        platform="woocommerce",
        api_key=key.consumer_key,
        access_token=key.consumer_secret,
        webhook_secret="whsec" + key.consumer_key[3:15],
    )


def seed_product(woo, store: str, name: str, variants: list[dict]) -> dict:
    """A published product as the merchant would make it: simple with one SKU, variable with a Size attribute."""
    key = woo.issue_key(store)
    client = WooClient(f"{woo.base_url}/{store}", key.consumer_key, key.consumer_secret, http=httpx.Client(timeout=10))
    if len(variants) == 1 and "option" not in variants[0]:
        v = variants[0]
        return client.post(
            "products",
            {
                "name": name,
                "type": "simple",
                "sku": v["sku"],
                "status": "publish",
                "regular_price": v["price"],
                "manage_stock": True,
                "stock_quantity": v["available"],
            },
        )
    product = client.post(
        "products",
        {
            "name": name,
            "type": "variable",
            "status": "publish",
            "attributes": [
                {"name": "Size", "options": [v["option"] for v in variants], "variation": True, "visible": True}
            ],
        },
    )
    client.batch(
        f"products/{product['id']}/variations/batch",
        create=[
            {
                "sku": v["sku"],
                "regular_price": v["price"],
                "manage_stock": True,
                "stock_quantity": v["available"],
                "attributes": [{"name": "Size", "option": v["option"]}],
            }
            for v in variants
        ],
    )
    return client.get(f"products/{product['id']}")


CATALOG = {
    "Canvas Tote": [{"sku": "TOTE-1", "price": "10.00", "available": 20}],
    "Linen Shirt": [
        {"sku": "SHIRT-S", "price": "20.00", "available": 5, "option": "S"},
        {"sku": "SHIRT-M", "price": "20.00", "available": 7, "option": "M"},
    ],
}


@dataclass
class World:
    woo: object
    shopify: object
    wholesaler: object
    sor: Connection
    retailer: object
    store: Connection
    partnership: object

    def ok(self, job: str) -> list[dict]:
        """`flask sync run JOB` on every target; each run must finish without failed records."""
        results = run_now(job)
        assert all(r["status"] == "done" and not r["failed"] for r in results), [
            (r["message"], r["failures"]) for r in results
        ]
        return results


@pytest.fixture
def woo_to_shopify(app, woo, sandbox):  # noqa: F811 - the Shopify sandbox fixture imported above
    """A wholesaler on WooCommerce (system of record) and a retailer on Shopify."""
    site, key = woo_shop(woo, "acme-wholesale")
    for title, variants in CATALOG.items():
        seed_product(woo, "acme-wholesale", title, variants)
    user = factories.wholesaler(name="Acme Wholesale")
    sor = woo_connection(user.organization, "system_of_record", site, key)
    retailer = factories.retailer()
    shop = "corner-store.myshopify.com"
    store = factories.connection(retailer, "store", shop, access_token=sandbox.add_shop(shop))
    price_list = factories.price_list(user.organization, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    partnership = factories.partnership(user.organization, retailer, price_list_id=price_list.id)
    db.session.commit()
    return World(woo, sandbox, user.organization, sor, retailer, store, partnership)


@pytest.fixture
def shopify_to_woo(app, woo, sandbox):  # noqa: F811
    """A wholesaler on Shopify (system of record) and a retailer on WooCommerce."""
    ws_shop = "acme-wholesale.myshopify.com"
    user = factories.wholesaler(name="Acme Wholesale")
    sor = factories.connection(user.organization, "system_of_record", ws_shop, access_token=sandbox.add_shop(ws_shop))
    for title, variants in CATALOG.items():
        sandbox.add_product(ws_shop, title, variants)
    site, key = woo_shop(woo, "corner-store", shipment_tracking=True)
    retailer = factories.retailer()
    store = woo_connection(retailer, "store", site, key)
    price_list = factories.price_list(user.organization, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    partnership = factories.partnership(user.organization, retailer, price_list_id=price_list.id)
    db.session.commit()
    return World(woo, sandbox, user.organization, sor, retailer, store, partnership)


@pytest.fixture
def woo_to_woo(app, woo):
    """A wholesaler on WooCommerce (system of record, no Shipment Tracking) and a retailer on WooCommerce (with it)."""
    site, key = woo_shop(woo, "acme-wholesale")
    for title, variants in CATALOG.items():
        seed_product(woo, "acme-wholesale", title, variants)
    user = factories.wholesaler(name="Acme Wholesale")
    sor = woo_connection(user.organization, "system_of_record", site, key)
    rt_site, rt_key = woo_shop(woo, "corner-store", shipment_tracking=True)
    retailer = factories.retailer()
    store = woo_connection(retailer, "store", rt_site, rt_key)
    price_list = factories.price_list(user.organization, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    partnership = factories.partnership(user.organization, retailer, price_list_id=price_list.id)
    db.session.commit()
    return World(woo, None, user.organization, sor, retailer, store, partnership)
