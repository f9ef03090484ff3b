"""File-feed worlds: a wholesaler whose ERP trades in CSV files on a real OpenSSH SFTP server, and a Shopify
retailer from the Shopify sandbox, wired into the app the way production builds adapters."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from jobs.runtime import run_now
from portal.extensions import db
from portal.models import Connection
from tests.support import factories
from tests.support.sandbox import sandbox  # noqa: F401 - the Shopify sandbox fixture
from tests.support.sftp import sftp_server  # noqa: F401 - the OpenSSH server fixture

CATALOG = """\
product_id,title,sku,price,option1_name,option1_value,quantity
TOTE,Canvas Tote,TOTE-1,10.00,,,20
SHIRT,Linen Shirt,SHIRT-S,20.00,Size,S,5
SHIRT,Linen Shirt,SHIRT-M,20.00,Size,M,7
"""


def feed_settings(server, **overrides) -> dict:
    """Settings as the feed page saves them for the test server (its host key pinned)."""
    return {
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "host_key": server.host_public_key,
        "catalog_path": "catalog.csv",
        **overrides,
    }


def feed_connection(org, server, **overrides) -> Connection:
    """A feed connection with the test server's authorized private key (encrypted as the access token)."""
    return factories.connection(
        org,
        "system_of_record",
        f"sftp://{server.username}@{server.host}:{server.port}",
        platform="csv",
        access_token=server.client_key_path.read_text(),
        settings=feed_settings(server, **overrides),
    )


@dataclass
class World:
    server: object
    shopify: object
    wholesaler: object
    sor: Connection
    retailer: object
    store: Connection
    partnership: object

    def run(self, job: str) -> list[dict]:
        """`flask sync run JOB` on every target."""
        return run_now(job)

    def ok(self, job: str) -> list[dict]:
        """`flask sync run JOB`; each run must finish without failed records."""
        results = run_now(job)
        assert all(r["status"] == "done" and not r["failed"] for r in results), [
            (r["message"], r["failures"]) for r in results
        ]
        return results

    def write(self, path: str, text: str) -> None:
        """A file as the wholesaler's ERP would drop it on the server."""
        target = self.server.data / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@pytest.fixture
def feed_to_shopify(app, sftp_server, sandbox):  # noqa: F811 - fixtures imported above
    """A wholesaler on file feeds (system of record) and a retailer on Shopify."""
    (sftp_server.data / "catalog.csv").write_text(CATALOG)
    user = factories.wholesaler(name="Acme Wholesale")
    sor = feed_connection(user.organization, sftp_server)
    retailer = factories.retailer()
    shop = "corner-store.myshopify.com"
    store = factories.connection(retailer, "store", shop, access_token=sandbox.add_shop(shop))
    price_list = factories.price_list(user.organization, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    partnership = factories.partnership(user.organization, retailer, price_list_id=price_list.id)
    db.session.commit()
    return World(sftp_server, sandbox, user.organization, sor, retailer, store, partnership)
