"""Orders: a scoped, filterable list paginated in the database, and the timeline with the two-hour promise."""

import re
from datetime import timedelta

from portal.extensions import db
from portal.models import utcnow
from tests.portal.conftest import make_order

ORDER_LINK = re.compile(r'href="/orders/\d+"')


def test_order_list_shows_only_this_wholesalers_orders_newest_first(client, signed_in, other):
    html = client.get("/orders/").get_data(as_text=True)
    names = [n for n in ("#1001", "#1002", "#1003") if n in html]
    assert names == ["#1001", "#1002", "#1003"]
    assert html.index("#1001") < html.index("#1002") < html.index("#1003")
    assert f'/orders/{other.orders[0].id}"' not in html


def test_stuck_filter_keeps_orders_past_the_promise_and_not_in_the_system_of_record(client, signed_in):
    html = client.get("/orders/?stuck=1").get_data(as_text=True)
    assert "#1002" in html and "#1001" not in html and "#1003" not in html
    assert "Stuck:" in html


def test_order_list_paginates_in_the_database(client, signed_in, world):
    for n in range(60):
        make_order(world.org, world.retailer, world.partnership, f"#2{n:03d}", timedelta(minutes=60 - n))
    first = client.get("/orders/").get_data(as_text=True)
    second = client.get("/orders/?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "63 in all" in first
    assert len(ORDER_LINK.findall(first)) == 50 and len(ORDER_LINK.findall(second)) == 13


def test_timeline_shows_each_step_and_minutes_left_of_the_promise(client, signed_in, world):
    html = client.get(f"/orders/{world.orders[0].id}").get_data(as_text=True)
    for label in (
        "Placed at the retailer",
        "Received by Wholesync",
        "In the wholesaler",
        "Shipped",
        "Tracking sent",
        "Invoiced",
    ):
        assert label in html
    assert "min left</strong> of the two-hour promise" in html
    assert html.count('class="reached"') == 2  # placed and received


def test_timeline_flags_a_stuck_order(client, signed_in, world):
    order = world.orders[1]
    order.last_error = "SKU-A unknown in the system of record"
    db.session.commit()
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'class="stuck"' in html and "SKU-A unknown" in html


def test_timeline_of_a_shipped_order_reaches_tracking_at_the_retailer(client, signed_in, world):
    html = client.get(f"/orders/{world.orders[2].id}").get_data(as_text=True)
    assert html.count('class="reached"') == 5 and "1Z999" in html
    assert "within the two-hour promise" in html


def test_another_wholesalers_order_is_404(client, signed_in, other):
    assert client.get(f"/orders/{other.orders[0].id}").status_code == 404


def test_overview_warns_about_stuck_orders(client, signed_in):
    assert "1 order(s) stuck" in client.get("/dashboard").get_data(as_text=True)


def test_promise_counts_from_receipt(world):
    from portal.services.orders import promise

    order = world.orders[0]
    p = promise(order, now=order.received_at + timedelta(minutes=45))
    assert (p.minutes_left, p.stuck) == (75, False)
    p = promise(order, now=order.received_at + timedelta(hours=2, minutes=10))
    assert (p.late_minutes, p.stuck) == (10, True)
    assert utcnow() > order.received_at


def test_status_filter_keeps_only_that_status_and_ignores_unknown_ones(client, signed_in):
    shipped = client.get("/orders/?status=shipped").get_data(as_text=True)
    assert "#1003" in shipped and "#1001" not in shipped and "#1002" not in shipped
    unknown = client.get("/orders/?status=bogus").get_data(as_text=True)
    assert all(name in unknown for name in ("#1001", "#1002", "#1003"))
