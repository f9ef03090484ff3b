"""Fixtures for the order lifecycle and price tests: the portal's wholesaler world, the billing fakes, and the
sync tests' trading world on the Shopify sandbox (as `trade`), reused as they are."""

from decimal import Decimal

import pytest

from tests.billing.conftest import fake_apruve, fake_stripe  # noqa: F401 - pytest finds fixtures by name
from tests.portal.conftest import other, signed_in, world  # noqa: F401
from tests.support import factories
from tests.support.sandbox import sandbox  # noqa: F401
from tests.sync.conftest import CATALOG, RT_SHOPS, WS_SHOP, World


@pytest.fixture
def trade(app, sandbox):  # noqa: F811 - the sandbox fixture imported above
    """The sync tests' trading world on the sandbox: a wholesaler's store with a catalog and two retailers."""
    user = factories.wholesaler(name="Acme Wholesale")
    ws = user.organization
    sor = factories.connection(ws, "system_of_record", WS_SHOP, access_token=sandbox.add_shop(WS_SHOP))
    price_list = factories.price_list(ws, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    retailers, stores, partnerships = [], [], []
    for shop in RT_SHOPS:
        retailer = factories.retailer()
        stores.append(factories.connection(retailer, "store", shop, access_token=sandbox.add_shop(shop)))
        retailers.append(retailer)
        partnerships.append(factories.partnership(ws, retailer, price_list_id=price_list.id))
    seeded = {title: sandbox.add_product(WS_SHOP, title, variants) for title, variants in CATALOG.items()}
    return World(sandbox, ws, user, sor, retailers, stores, partnerships, price_list, seeded)
