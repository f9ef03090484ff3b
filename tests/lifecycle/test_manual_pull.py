"""Every job by hand: a wholesaler runs orders.pull on its partners' stores from Settings -> Sync, end to end
through the sandbox, and the retailers' orders for its products arrive; another wholesaler's partners are not pulled."""

from sqlalchemy import select

from fakes.shopify.resolvers.orders import place_order
from jobs.runtime import run_job
from portal.extensions import db
from portal.models import Order, SyncRun
from portal.services.accounts import create_user
from tests.conftest import csrf_token
from tests.support import factories
from tests.support.factories import PASSWORD
from tests.sync.conftest import RT_SHOPS


def test_a_wholesaler_pulls_its_partners_orders_by_hand_from_settings_sync(trade, client, auth):
    trade.ok("products.pull")
    trade.sandbox.add_product(RT_SHOPS[0], "Own tote", [{"sku": "TOTE-1", "price": "19.99", "available": 9}])
    placed = place_order(trade.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    outsider = factories.wholesaler(name="Someone else")
    factories.partnership(outsider.organization, factories.retailer())
    auth.login(trade.user.email)
    page = client.get("/sync/").get_data(as_text=True)
    response = client.post("/sync/run", data={"job": "orders.pull", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    runs = db.session.execute(select(SyncRun).where(SyncRun.job_name == "orders.pull")).scalars().all()
    assert sorted(r.target_key for r in runs) == sorted(f"connection:{s.id}" for s in trade.stores)
    assert {r.trigger for r in runs} == {"manual"}
    for run in runs:
        run_job("orders.pull", run.target_key, "manual", run_id=run.id)
    order = db.session.execute(select(Order)).scalar_one()
    assert (order.wholesaler_id, order.retailer_order_name) == (trade.wholesaler.id, placed["name"])
    shown = client.get("/sync/").get_data(as_text=True)
    assert "2 on partners&#39; stores: new orders appear under Orders." in shown


def test_a_retailer_still_pulls_only_its_own_store(trade, client, auth):
    retailer_user = create_user("rt@example.com", PASSWORD, organization=trade.retailers[0])
    auth.login(retailer_user.email)
    page = client.get("/sync/").get_data(as_text=True)
    client.post("/sync/run", data={"job": "orders.pull", "csrf_token": csrf_token(page)})
    runs = db.session.execute(select(SyncRun).where(SyncRun.job_name == "orders.pull")).scalars().all()
    assert [r.target_key for r in runs] == [f"connection:{trade.stores[0].id}"]
