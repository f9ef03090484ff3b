"""The retailer's embedded pages: partners, orders with tracking, sync runs however they were started."""

from datetime import timedelta
from decimal import Decimal

from jobs.plan import get_job
from jobs.runtime import new_run
from portal.extensions import db
from portal.models import Fulfillment, Order, OrderLine, utcnow
from tests.support import factories


def _installed():
    _u, ws, _sor, _rt, store, p = factories.trading_pair()
    store.token_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    return ws, store, p


def _get(client, token_for, store, path):
    return client.get(path, headers={"Authorization": f"Bearer {token_for(store.address)}", "HX-Request": "1"})


def test_orders_show_the_wholesaler_and_the_tracking(client, app, token_for):
    ws, store, p = _installed()
    order = Order(
        wholesaler_id=ws.id,
        retailer_id=p.retailer_id,
        partnership_id=p.id,
        retailer_connection_id=store.id,
        remote_order_id="gid://shopify/Order/1",
        retailer_order_name="#1042",
        status="shipped",
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderLine(order_id=order.id, remote_line_id="l1", sku="S", quantity=1, wholesale_price=Decimal(1)))
    db.session.add(
        Fulfillment(
            order_id=order.id,
            sor_remote_fulfillment_id="f1",
            carrier="UPS",
            tracking_numbers=["1Z999"],
            tracking_urls=["https://ups.example/1Z999"],
            pushed_at=utcnow(),
        )
    )
    db.session.commit()
    html = _get(client, token_for, store, "/shopify/orders").get_data(as_text=True)
    assert "#1042" in html and ws.name in html and "1Z999" in html and "https://ups.example/1Z999" in html


def test_orders_of_another_retailer_are_not_shown(client, app, token_for):
    _ws, store, _p = _installed()
    other_ws, other_store, other_p = _installed()
    db.session.add(
        Order(
            wholesaler_id=other_ws.id,
            retailer_id=other_p.retailer_id,
            partnership_id=other_p.id,
            retailer_connection_id=other_store.id,
            remote_order_id="x",
            retailer_order_name="#SECRET",
        )
    )
    db.session.commit()
    assert "#SECRET" not in _get(client, token_for, store, "/shopify/orders").get_data(as_text=True)


def test_partners_lists_this_retailers_wholesalers(client, app, token_for):
    ws, store, _p = _installed()
    html = _get(client, token_for, store, "/shopify/partners").get_data(as_text=True)
    assert ws.name in html and "active" in html


def test_the_sync_panel_lists_runs_started_by_webhooks_too(client, app, token_for):
    _ws, store, _p = _installed()
    run = new_run(get_job("orders.pull"), f"connection:{store.id}", "webhook")
    html = _get(client, token_for, store, "/shopify/sync").get_data(as_text=True)
    assert "orders.pull" in html and "webhook" in html and f"/shopify/runs/{run.id}" in html
    assert "products.push" not in html and "billing" not in html
