"""Lines the wholesaler cannot fill, end to end through the sandbox stores: cancelled or reduced in its own store
(read by order_updates.pull) or rejected from the order page; the retailer's fulfillment request for them is rejected
(not yet accepted) or closed (accepted) with the reason by order_updates.push, the system of record follows, stock is
given back, and both sides see it in their activity, the order timeline and the embedded app."""

from datetime import timedelta

from sqlalchemy import select

from fakes.shopify.resolvers.fulfillments import request_cancellation, ship
from fakes.shopify.resolvers.order_changes import cancel_order, edit_line_quantities
from fakes.shopify.resolvers.orders import place_order
from jobs.flows.stock_events import PENDING
from jobs.preview import dry_run
from jobs.runtime import connection as redis_connection
from jobs.runtime import dispatch
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import ActivityLog, Order, SyncRun, utcnow
from portal.services.orders import timeline
from portal.services.stock import retailer_quantities
from tests.conftest import csrf_token
from tests.shopify_app.conftest import session_token
from tests.support import factories
from tests.sync.conftest import RT_SHOPS, WS_SHOP

LINES = (("TOTE-1", 2), ("SHIRT-S", 1))


def _routed_order(trade, lines=LINES):
    """An order of products we placed in the retailer's store: routed to our fulfillment service as a request."""
    trade.sync_catalog()
    return place_order(trade.sandbox.sandbox, RT_SHOPS[0], list(lines))


def _sent(trade, lines=LINES) -> Order:
    _routed_order(trade, lines)
    trade.ok("orders.pull")
    trade.ok("orders.push")
    return db.session.execute(select(Order)).scalar_one()


def _sor_order(trade):
    (order,) = trade.sor_shop().orders.values()
    return order


def _wholesaler_store_change(trade, change, *args, **kwargs) -> None:
    """The wholesaler acts in its own Shopify admin (cancels, edits)."""
    shop = trade.sor_shop()
    ctx = trade.sandbox.sandbox.merchant_context(WS_SHOP)
    with shop.lock:
        change(ctx, _sor_order(trade), *args, **kwargs)
    ctx.flush()


def _our_fulfillment_orders(trade):
    shop = trade.store_shop(0)
    return [
        fo for fo in shop.fulfillment_orders.values() if shop.locations[fo.assigned_location_id].fulfillment_service_id
    ]


def _summaries(org_id: int) -> list[str]:
    query = select(ActivityLog.summary).where(ActivityLog.organization_id == org_id).order_by(ActivityLog.id)
    return list(db.session.execute(query).scalars())


def _offered(partnership, sku: str) -> int:
    return next(level.quantity for level in retailer_quantities(partnership) if level.sku == sku)


def _stock_push_pending(partnership) -> bool:
    """The stock fan-out asked for a push of this partnership's changed levels (the event window's job)."""
    return bool(redis_connection().smembers(PENDING.format(kind="variants", partnership=partnership.id)))


def _reject(client, order: Order, reason="inventory", message="Sold out until March", **quantities):
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "reason": reason, "message": message}
    data |= {f"qty-{line.id}": str(quantities.get(line.sku, 0)) for line in order.lines}
    return client.post(f"/orders/{order.id}/reject", data=data, follow_redirects=True)


# ---------------------------------------------------------------- the wholesaler's own store


def test_an_order_the_wholesaler_cancels_in_its_store_closes_the_retailers_accepted_request_with_the_reason(trade):
    order = _sent(trade)
    assert [fo.request_status for fo in _our_fulfillment_orders(trade)] == ["ACCEPTED"]
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 18
    _wholesaler_store_change(trade, cancel_order, reason="INVENTORY")
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 20  # restocked where it was reserved
    pulled = trade.ok("order_updates.pull")
    assert pulled[0]["updated"] == 1
    db.session.refresh(order)
    assert order.status == "cancelled" and order.sor_cancelled_at is not None
    assert {line.sku: line.rejected_quantity for line in order.lines} == {"TOTE-1": 2, "SHIRT-S": 1}
    assert order.rejection_reason.startswith("Out of stock") and "reason: inventory" in order.rejection_reason
    assert order.rejection_sent_at is None

    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert (fo.status, fo.request_status) == ("INCOMPLETE", "CLOSED")  # back to the retailer, with our message
    assert "cannot fill" in fo.data["close_message"] and "Out of stock" in fo.data["close_message"]
    db.session.refresh(order)
    assert order.rejection_sent_at is not None
    for org_id in (order.wholesaler_id, order.retailer_id):
        summaries = _summaries(org_id)
        assert any("rejected by the wholesaler (TOTE-1 x2, SHIRT-S x1)" in s for s in summaries)
        assert any("rejection sent to the retailer's store" in s for s in summaries)
    labels = [(step.label, step.at is not None) for step in timeline(order)]
    assert any(label.startswith("3 unit(s) rejected by the wholesaler") and at for label, at in labels)
    assert ("Rejection sent to the retailer's store", True) in labels
    assert "Shipped" not in [label for label, _ in labels]


def test_replaying_the_pull_and_push_after_a_rejection_sends_nothing_twice(trade):
    order = _sent(trade)
    _wholesaler_store_change(trade, cancel_order, reason="INVENTORY")
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    retailer_mutations = sum(1 for r in trade.store_shop(0).requests if r["operation"] == "mutation")
    again = trade.ok("order_updates.pull") + trade.ok("order_updates.push")
    assert all(r["total"] == 0 for r in again)
    assert sum(1 for r in trade.store_shop(0).requests if r["operation"] == "mutation") == retailer_mutations
    db.session.refresh(order)
    assert sum(line.rejected_quantity for line in order.lines) == 3


def test_a_line_the_wholesaler_reduces_is_rejected_and_the_request_closed_once_the_rest_has_shipped(trade):
    order = _sent(trade)
    tote = next(li for li in _sor_order(trade).data["line_items"] if li["sku"] == "TOTE-1")
    _wholesaler_store_change(trade, edit_line_quantities, {tote["id"]: 0})
    trade.ok("order_updates.pull")
    db.session.refresh(order)
    assert {line.sku: (line.rejected_quantity, line.cancelled_quantity) for line in order.lines} == {
        "TOTE-1": (2, 2), "SHIRT-S": (0, 0),
    }  # fmt: skip
    assert order.status == "sent" and order.rejection_reason.startswith("Cannot be filled")
    pushed = trade.ok("order_updates.push")
    assert pushed[0]["skipped"] == 1  # the shirt still ships on the same request: it is closed after
    assert [fo.request_status for fo in _our_fulfillment_orders(trade)] == ["ACCEPTED"]
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z7",))
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert (fo.status, fo.request_status) == ("INCOMPLETE", "CLOSED")
    db.session.refresh(order)
    assert order.status == "completed" and order.rejection_sent_at is not None
    assert {line.sku: line.fulfilled_quantity for line in order.lines} == {"TOTE-1": 0, "SHIRT-S": 1}


def test_the_dry_run_of_the_push_lists_the_rejection_and_writes_nothing(trade):
    order = _sent(trade)
    _wholesaler_store_change(trade, cancel_order, reason="INVENTORY")
    trade.ok("order_updates.pull")
    runs = db.session.query(SyncRun).count()
    dry = dry_run("order_updates.push", f"partnership:{order.partnership_id}")
    assert dry.change == 1 and any("rejected lines of" in line for line in dry.sample)
    db.session.refresh(order)
    assert order.rejection_sent_at is None and db.session.query(SyncRun).count() == runs
    assert [fo.request_status for fo in _our_fulfillment_orders(trade)] == ["ACCEPTED"]


# ---------------------------------------------------------------- the order page


def test_lines_rejected_from_the_order_page_before_it_was_sent_reject_the_retailers_request_with_the_reason(
    trade, client, auth
):
    _routed_order(trade)
    trade.ok("orders.pull")
    order = db.session.execute(select(Order)).scalar_one()
    other_retailer = trade.partnerships[1]
    assert _offered(other_retailer, "TOTE-1") == 18  # the order holds 2 until the wholesaler's system has it
    redis_connection().delete(PENDING.format(kind="variants", partnership=other_retailer.id))
    auth.login(trade.user.email)
    page = _reject(client, order, **{"TOTE-1": 2, "SHIRT-S": 1}).get_data(as_text=True)
    assert "the retailer is told with your reason" in page
    assert _offered(other_retailer, "TOTE-1") == 20  # given back: every retailer is offered it again
    assert _stock_push_pending(other_retailer)  # and its store's level is pushed again
    db.session.refresh(order)
    assert order.status == "cancelled" and order.rejection_reason == "Out of stock: Sold out until March"
    requested = db.session.execute(select(SyncRun.job_name, SyncRun.trigger)).all()
    assert ("order_updates.push", "manual") in requested
    trade.ok("orders.push")
    assert trade.sor_shop().orders == {}  # never reaches the wholesaler's system
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert fo.request_status == "REJECTED"
    assert fo.data["rejection"]["reason"] == "INVENTORY_OUT_OF_STOCK"
    assert "Sold out until March" in fo.data["rejection"]["message"]
    assert len(fo.data["rejection"]["line_items"]) == 2
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "The wholesaler rejected 3 unit(s): Out of stock: Sold out until March" in page
    assert "Reject lines we cannot fill" not in page  # nothing left to reject


def test_a_line_rejected_from_the_page_after_it_was_sent_is_taken_off_the_wholesalers_order_and_restocked(
    trade, client, auth
):
    order = _sent(trade)
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 18
    auth.login(trade.user.email)
    _reject(client, order, reason="other", message="Discontinued", **{"TOTE-1": 1})
    trade.ok("order_changes.push")
    assert {li["sku"]: li["quantity"] for li in _sor_order(trade).data["line_items"]} == {"TOTE-1": 1, "SHIRT-S": 1}
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 19
    trade.ok("order_updates.pull")  # the wholesaler's order now agrees with ours: nothing rejected twice
    db.session.refresh(order)
    assert {line.sku: line.rejected_quantity for line in order.lines} == {"TOTE-1": 1, "SHIRT-S": 0}
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, None, numbers=("1Z8",))
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert (fo.status, fo.request_status) == ("INCOMPLETE", "CLOSED")
    assert "Cannot be filled: Discontinued" in fo.data["close_message"]
    db.session.refresh(order)
    assert order.status == "completed"


def test_the_whole_order_rejected_from_the_page_after_it_was_sent_is_cancelled_in_the_wholesalers_store(
    trade, client, auth
):
    order = _sent(trade)
    auth.login(trade.user.email)
    _reject(client, order, **{"TOTE-1": 2, "SHIRT-S": 1})
    trade.ok("order_changes.push")
    assert _sor_order(trade).data["cancel_reason"] == "inventory"
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 20
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert (fo.status, fo.request_status) == ("INCOMPLETE", "CLOSED")
    db.session.refresh(order)
    assert order.status == "cancelled" and order.sor_cancelled_at is not None


def test_rejecting_needs_a_reason_a_message_and_some_units_and_never_more_than_is_left(trade, client, auth):
    order = _sent(trade)
    auth.login(trade.user.email)
    assert "write a message" in _reject(client, order, message="", **{"TOTE-1": 1}).get_data(as_text=True)
    assert "write a message" in _reject(client, order, reason="bogus", **{"TOTE-1": 1}).get_data(as_text=True)
    assert "at least one line" in _reject(client, order).get_data(as_text=True)
    for typed in ("-1", "²", "1" * 40):  # "²" is a digit to Python; forty 1s would overflow the column
        answer = _reject(client, order, **{"TOTE-1": typed})
        assert answer.status_code == 200 and "whole numbers" in answer.get_data(as_text=True), typed
    db.session.refresh(order)
    assert order.rejected_at is None
    _reject(client, order, **{"TOTE-1": 9})
    db.session.refresh(order)
    assert {line.sku: line.rejected_quantity for line in order.lines} == {"TOTE-1": 2, "SHIRT-S": 0}


def test_the_reject_action_needs_the_csrf_token_and_belongs_to_the_supplying_wholesaler_only(trade, client, auth):
    order = _sent(trade)
    auth.login(trade.user.email)
    tote = next(line for line in order.lines if line.sku == "TOTE-1")
    form = {"reason": "inventory", "message": "x", f"qty-{tote.id}": "1"}
    assert client.post(f"/orders/{order.id}/reject", data=form).status_code == 400  # no CSRF token
    outsider = factories.wholesaler(name="Other Wholesale")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/dashboard").get_data(as_text=True))})
    auth.login(outsider.email)
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    assert client.post(f"/orders/{order.id}/reject", data=form | {"csrf_token": token}).status_code == 404
    db.session.refresh(order)
    assert order.rejected_at is None


def test_the_retailer_sees_the_rejection_and_its_reason_in_the_embedded_app(trade, app, client):
    order = _sent(trade)
    _wholesaler_store_change(trade, cancel_order, reason="INVENTORY")
    trade.ok("order_updates.pull")
    trade.stores[0].token_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {session_token(app, RT_SHOPS[0])}", "HX-Request": "1"}
    html = client.get("/shopify/orders", headers=bearer).get_data(as_text=True)
    assert order.retailer_order_name in html and "cancelled" in html
    assert "3 unit(s) rejected by the wholesaler: Out of stock" in html


# ---------------------------------------------------------------- the retailer cancels an order we accepted


def _retailer_requests_cancellation(trade, order: Order) -> None:
    shop = trade.store_shop(0)
    remote = shop.orders[int(order.remote_order_id.rsplit("/", 1)[1])]
    request_cancellation(trade.sandbox.sandbox, RT_SHOPS[0], remote)
    trade.sandbox.deliver_webhooks()  # Shopify calls our fulfillment service back: kind CANCELLATION_REQUEST


def test_a_cancellation_request_for_an_unshipped_order_is_carried_out_and_accepted(trade):
    order = _sent(trade)
    _retailer_requests_cancellation(trade, order)
    requested = db.session.execute(select(SyncRun.job_name, SyncRun.trigger)).all()
    assert ("order_updates.push", "webhook") in requested
    trade.ok("order_updates.push")
    db.session.refresh(order)
    assert order.cancelled_at is not None and order.sor_cancelled_at is None
    assert [fo.request_status for fo in _our_fulfillment_orders(trade)] == ["CANCELLATION_REQUESTED"]  # not yet
    trade.ok("order_changes.push")
    assert _sor_order(trade).data["cancelled_at"] is not None
    assert trade.sandbox.available(WS_SHOP, "TOTE-1") == 20  # restocked in the wholesaler's store
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert fo.request_status == "CANCELLATION_ACCEPTED"
    remote = trade.store_shop(0).orders[int(order.remote_order_id.rsplit("/", 1)[1])]
    assert remote.data.get("cancelled_at") is not None  # Shopify completes the retailer's cancellation
    for org_id in (order.wholesaler_id, order.retailer_id):
        assert any("cancellation request accepted" in s for s in _summaries(org_id))
    retailer_mutations = sum(1 for r in trade.store_shop(0).requests if r["operation"] == "mutation")
    trade.ok("order_updates.push")  # replay: nothing answered twice
    assert sum(1 for r in trade.store_shop(0).requests if r["operation"] == "mutation") == retailer_mutations


def test_a_cancellation_request_for_a_shipped_order_is_refused_with_the_reason(trade):
    order = _sent(trade, lines=(("TOTE-1", 2),))
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, [("TOTE-1", 1)], numbers=("1Z5",))
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")
    _retailer_requests_cancellation(trade, order)
    trade.ok("order_updates.push")
    trade.ok("order_changes.push")
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert fo.request_status == "CANCELLATION_REJECTED" and "already shipped" in fo.data["cancellation_answer"]
    remote = trade.store_shop(0).orders[int(order.remote_order_id.rsplit("/", 1)[1])]
    assert remote.data.get("cancelled_at") is None
    assert _sor_order(trade).data.get("cancelled_at") is None
    db.session.refresh(order)
    assert "already shipped" in order.change_note
    assert any("cancellation request refused" in s for s in _summaries(order.retailer_id))


def test_a_shipment_made_while_a_cancellation_request_waited_reaches_the_retailer_and_the_request_is_refused(
    trade,
):
    order = _sent(trade, lines=(("TOTE-1", 2),))
    _retailer_requests_cancellation(trade, order)
    ship(trade.sandbox.sandbox, WS_SHOP, order.sor_remote_order_id, numbers=("1Z6",))  # before the hub acted
    trade.ok("order_updates.pull")
    trade.ok("order_updates.push")  # the request waits for the wholesaler's answer; the shipment goes
    trade.ok("order_changes.push")  # refused there: it has shipped
    trade.ok("order_updates.push")
    (fo,) = _our_fulfillment_orders(trade)
    assert fo.request_status == "CANCELLATION_REJECTED"
    shop = trade.store_shop(0)
    remote = shop.orders[int(order.remote_order_id.rsplit("/", 1)[1])]
    assert remote.data.get("cancelled_at") is None
    tracking = [t.get("number") for f in shop.fulfillments.values() if f.order_id == remote.id for t in f.tracking_info]
    assert tracking == ["1Z6"]


def test_by_the_scheduler_alone_the_wholesalers_cancellation_reaches_the_retailers_store(trade, app):
    order = _sent(trade)
    _wholesaler_store_change(trade, cancel_order, reason="INVENTORY")
    dispatch("order_updates.pull", slot=1)  # the hourly tick; the pull chains order_updates.push
    make_worker(app).work(burst=True)
    db.session.expire_all()
    failed = db.session.execute(select(SyncRun).where(SyncRun.status != "done")).scalars().all()
    assert failed == []
    ran = {run.job_name for run in db.session.execute(select(SyncRun)).scalars()}
    assert {"order_updates.pull", "order_updates.push"} <= ran
    (fo,) = _our_fulfillment_orders(trade)
    assert (fo.status, fo.request_status) == ("INCOMPLETE", "CLOSED")
    assert db.session.get(Order, order.id).rejection_sent_at is not None
