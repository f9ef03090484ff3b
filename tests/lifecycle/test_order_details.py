"""Orders that carry everything needed to fulfil them, end to end through the sandbox stores: the shipping method,
the shipping charged (passed on only where the partnership bills shipping), the customer's phone, the order and
gift notes and the retailer's order name reach the wholesaler's order and the order timeline page."""

from decimal import Decimal

from sqlalchemy import select

from fakes.shopify.resolvers.orders import place_order
from portal.extensions import db
from portal.models import Order
from tests.sync.conftest import RT_SHOPS

SHIPPING = {"title": "Express (2 days)", "code": "EXPRESS", "price": "12.50"}
GIFT = [{"key": "gift_message", "value": "Happy birthday, Sam!"}]


def _order_with_details(trade):
    trade.ok("products.pull")
    trade.sandbox.add_product(RT_SHOPS[0], "Own listing", [{"sku": "TOTE-1", "price": "19.99", "available": 50}])
    placed = place_order(trade.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 2)], phone="+1 555 0100",
                         note="Leave at the back door", attributes=GIFT, shipping=SHIPPING)  # fmt: skip
    trade.ok("orders.pull")
    return placed


def _sor_order(trade):
    (order,) = trade.sor_shop().orders.values()
    return order


def test_the_details_the_customer_gave_are_kept_on_our_order(trade):
    placed = _order_with_details(trade)
    order = db.session.execute(select(Order)).scalar_one()
    assert (order.phone, order.note) == ("+1 555 0100", "Leave at the back door")
    assert (order.shipping_method, order.shipping_code) == ("Express (2 days)", "EXPRESS")
    assert order.shipping_amount == Decimal("12.50")
    assert order.note_attributes == GIFT
    assert order.retailer_order_name == placed["name"]


def test_the_wholesalers_order_carries_method_phone_notes_and_the_retailers_order_name(trade):
    placed = _order_with_details(trade)
    trade.ok("orders.push")
    data = _sor_order(trade).data
    assert data["phone"] == "+1 555 0100"
    assert "Leave at the back door" in data["note"] and placed["name"] in data["note"]
    assert data["po_number"] == placed["name"]
    (line,) = data["shipping_lines"]
    assert (line["title"], line["code"]) == ("Express (2 days)", "EXPRESS")
    assert Decimal(line["price"]) == 0  # the partnership does not bill shipping: the method goes, not the charge
    attributes = {a["key"]: a["value"] for a in _sor_order(trade).custom_attributes}
    assert attributes["gift_message"] == "Happy birthday, Sam!" and attributes["retailer_order"] == placed["name"]


def test_the_shipping_charged_is_passed_on_where_the_partnership_bills_shipping(trade):
    trade.partnerships[0].bill_shipping = True
    db.session.commit()
    _order_with_details(trade)
    trade.ok("orders.push")
    (line,) = _sor_order(trade).data["shipping_lines"]
    assert Decimal(line["price"]) == Decimal("12.50")


def test_the_order_timeline_page_shows_what_the_wholesaler_needs_to_fulfil_it(trade, client, auth):
    placed = _order_with_details(trade)
    order = db.session.execute(select(Order)).scalar_one()
    auth.login(trade.user.email)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    for text in ("Express (2 days)", "12.50", "+1 555 0100", "Leave at the back door", "Happy birthday, Sam!",
                 placed["name"]):  # fmt: skip
        assert text in page
