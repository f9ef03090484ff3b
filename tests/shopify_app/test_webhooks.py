"""POST /webhooks/shopify: verified on the raw body, recorded once, processed once on the webhooks queue."""

from decimal import Decimal

from sqlalchemy import func, select

from jobs.runtime import queue
from portal.extensions import db
from portal.models import Connection, Order, OrderLine, Partnership, SyncRun, WebhookReceipt
from tests.support import factories


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_forged_webhook_gets_401_and_leaves_no_row(app, deliver):
    _u, _ws, _sor, _rt, store, _p = factories.trading_pair()
    resp = deliver("orders/create", store.address, {"id": 1}, secret="not-the-app-secret")
    assert resp.status_code == 401
    assert _count(WebhookReceipt) == 0
    assert queue("webhooks").count == 0


def test_a_webhook_without_signature_gets_401_and_leaves_no_row(app, deliver):
    resp = deliver("orders/create", "a.myshopify.com", {"id": 1}, hmac=False)
    assert resp.status_code == 401
    assert _count(WebhookReceipt) == 0


def test_a_body_changed_after_signing_is_rejected(app, client):
    from integrations.shopify.webhooks import webhook_hmac

    sig = webhook_hmac(b'{"id": 1}', app.config["SHOPIFY_API_SECRET"])
    resp = client.post(
        "/webhooks/shopify",
        data=b'{"id": 2}',
        headers={"X-Shopify-Hmac-Sha256": sig, "X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "e1"},
    )
    assert resp.status_code == 401
    assert _count(WebhookReceipt) == 0


def test_the_same_webhook_delivered_twice_is_processed_once(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, _p = factories.trading_pair()
    first = deliver("orders/create", store.address, {"id": 450789469}, event_id="evt-1")
    second = deliver("orders/create", store.address, {"id": 450789469}, event_id="evt-1")
    assert first.status_code == 200 and first.json["status"] == "accepted"
    assert second.status_code == 200 and second.json["status"] == "duplicate"
    assert _count(WebhookReceipt) == 1
    assert queue("webhooks").count == 1
    work_webhooks()
    runs = db.session.execute(select(SyncRun)).scalars().all()
    assert [(r.job_name, r.target_key, r.trigger) for r in runs] == [
        ("orders.pull", f"connection:{store.id}", "webhook")
    ]
    receipt = db.session.execute(select(WebhookReceipt)).scalar_one()
    assert receipt.processed_at is not None and receipt.result == {"sync_run_id": runs[0].id}


def test_events_without_the_x_prefix_are_accepted_and_dispatched(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, _p = factories.trading_pair()
    resp = deliver("orders/updated", store.address, {"id": 7}, prefix="shopify-")
    assert resp.status_code == 200
    work_webhooks()
    receipt = db.session.execute(select(WebhookReceipt)).scalar_one()
    assert receipt.topic == "orders/updated" and receipt.shop_domain == store.address
    assert db.session.execute(select(SyncRun.trigger)).scalar_one() == "webhook"


def test_app_uninstalled_revokes_tokens_and_pauses_partnerships(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, p = factories.trading_pair()
    store.refresh_token = "shprt_x"
    db.session.commit()
    payload = {"id": 1, "myshopify_domain": store.address, "domain": "shop.example.com"}
    assert deliver("app/uninstalled", store.address, payload).status_code == 200
    work_webhooks()
    db.session.expire_all()
    conn = db.session.get(Connection, store.id)
    assert conn.status == "uninstalled" and conn.access_token is None and conn.refresh_token is None
    assert conn.uninstalled_at is not None
    assert db.session.get(Partnership, p.id).status == "paused"


def test_scopes_update_records_the_granted_scopes(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, _p = factories.trading_pair()
    payload = {"id": 1, "previous": ["read_products"], "current": ["read_products", "write_orders"]}
    deliver("app/scopes_update", store.address, payload)
    work_webhooks()
    db.session.expire_all()
    assert db.session.get(Connection, store.id).scopes == "read_products,write_orders"


def _order(p, store, remote_id, email, name):
    o = Order(
        wholesaler_id=p.wholesaler_id,
        retailer_id=p.retailer_id,
        partnership_id=p.id,
        retailer_connection_id=store.id,
        remote_order_id=remote_id,
        retailer_order_name="#1001",
        email=email,
        customer_name=name,
        shipping_address={"address1": "1 Main St", "city": "Ottawa", "name": name},
    )
    db.session.add(o)
    db.session.flush()
    db.session.add(
        OrderLine(order_id=o.id, remote_line_id=f"{remote_id}-1", sku="SKU-1", quantity=1, wholesale_price=Decimal("5"))
    )
    db.session.commit()
    return o


def test_customers_redact_removes_the_customers_personal_data_from_our_tables(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, p = factories.trading_pair()
    target = _order(p, store, "gid://shopify/Order/299938", "john@example.com", "John Smith")
    by_email = _order(p, store, "gid://shopify/Order/555", "JOHN@example.com", "John Smith")
    other = _order(p, store, "gid://shopify/Order/777", "jane@example.com", "Jane Doe")
    deliver(
        "orders/create",
        store.address,
        {"id": 299938, "email": "john@example.com", "customer": {"first_name": "John"}},
    )
    deliver("orders/create", store.address, {"id": 777, "email": "jane@example.com"})
    request = {
        "shop_id": 954889,
        "shop_domain": store.address,
        "orders_to_redact": [299938],
        "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    }
    assert deliver("customers/redact", store.address, request).status_code == 200
    work_webhooks()
    db.session.expire_all()
    for o in (target, by_email):
        row = db.session.get(Order, o.id)
        assert (row.email, row.customer_name, row.shipping_address) == (None, None, None)
    kept = db.session.get(Order, other.id)
    assert kept.email == "jane@example.com" and kept.customer_name == "Jane Doe"
    everything = " ".join(str(r.payload) + str(r.result) for r in db.session.execute(select(WebhookReceipt)).scalars())
    assert "john@example.com" not in everything.lower()
    assert "555-625-1199" not in everything
    assert "jane@example.com" in everything  # someone else's data is not collateral damage


def test_customers_data_request_exports_what_we_hold(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, p = factories.trading_pair()
    _order(p, store, "gid://shopify/Order/299938", "john@example.com", "John Smith")
    _order(p, store, "gid://shopify/Order/777", "jane@example.com", "Jane Doe")
    request = {
        "shop_id": 954889,
        "shop_domain": store.address,
        "orders_requested": [299938],
        "customer": {"id": 191167, "email": "john@example.com"},
        "data_request": {"id": 9999},
    }
    deliver("customers/data_request", store.address, request)
    work_webhooks()
    receipt = db.session.execute(
        select(WebhookReceipt).where(WebhookReceipt.topic == "customers/data_request")
    ).scalar_one()
    assert receipt.result["data_request_id"] == 9999
    [export] = receipt.result["orders"]
    assert export["email"] == "john@example.com" and export["customer_name"] == "John Smith"
    assert export["shipping_address"]["city"] == "Ottawa" and export["lines"][0]["sku"] == "SKU-1"


def test_shop_redact_erases_every_customer_of_the_shop(app, deliver, work_webhooks):
    _u, _ws, _sor, _rt, store, p = factories.trading_pair()
    a = _order(p, store, "gid://shopify/Order/1", "a@example.com", "A")
    b = _order(p, store, "gid://shopify/Order/2", "b@example.com", "B")
    deliver("orders/create", store.address, {"id": 1, "email": "a@example.com"})
    deliver("shop/redact", store.address, {"shop_id": 954889, "shop_domain": store.address})
    work_webhooks()
    db.session.expire_all()
    for o in (a, b):
        row = db.session.get(Order, o.id)
        assert (row.email, row.customer_name, row.shipping_address) == (None, None, None)
    payloads = [r.payload for r in db.session.execute(select(WebhookReceipt)).scalars()]
    assert "a@example.com" not in str(payloads)
    assert db.session.get(Connection, store.id).access_token is None


def test_the_endpoint_answers_well_under_shopifys_five_seconds(app, deliver):
    import time

    _u, _ws, _sor, _rt, store, _p = factories.trading_pair()
    timings = []
    for i in range(60):
        started = time.perf_counter()
        resp = deliver("orders/create", store.address, {"id": i, "line_items": [{"sku": "SKU-1"}] * 20})
        timings.append(time.perf_counter() - started)
        assert resp.status_code == 200
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"webhook endpoint: p50 {timings[len(timings) // 2] * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    assert p95 < 0.5 and timings[-1] < 5  # verify, record, enqueue — the work itself happens on the queue
    assert queue("webhooks").count == 60
