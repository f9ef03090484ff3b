"""Tracking read from a WooCommerce order's notes when the wholesaler's shop has no Shipment Tracking extension."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from integrations.woocommerce.adapters import WooSystemOfRecord
from integrations.woocommerce.client import WooClient
from integrations.woocommerce.notes import parse_note, tracking_from_notes
from tests.woocommerce.conftest import seed_product, woo_shop


@pytest.mark.parametrize(
    ("note", "carrier", "number", "url"),
    [
        ("Order was shipped with UPS and tracking number is: 1Z999AA10123456784", "UPS", "1Z999AA10123456784", None),
        ("Canvas Tote x 2 shipped via USPS on March 3, 2026 with tracking number 9400111899223197428490.", "USPS",
         "9400111899223197428490", None),
        ("Items shipped via FedEx on 3 March 2026 with tracking number 794644790138 by <b>Acme</b>.", "FedEx",
         "794644790138", None),
        ("Shipped via Canada Post. Tracking number: 7023210039414604", "Canada Post", "7023210039414604", None),
        ("Carrier: DHL, tracking: <a href=\"https://www.dhl.com/track?AWB=1234567890\">1234567890</a>", "DHL",
         "1234567890", "https://www.dhl.com/track?AWB=1234567890"),
        ("Tracking #: ABC-12345 https://track.example.com/ABC-12345.", None, "ABC-12345",
         "https://track.example.com/ABC-12345"),
    ],
)  # fmt: skip
def test_tracking_formats_of_shipping_plugins_and_merchants_are_read(note, carrier, number, url):
    found = parse_note(note)
    assert (found.carrier, found.numbers, found.urls) == (carrier, [number], [url] if url else [])


@pytest.mark.parametrize(
    "note",
    [
        "Order status changed from Processing to Completed.",
        "Stock levels reduced: Canvas Tote (TOTE-1) 20→18",
        "Tracking will follow tomorrow.",
        "Payment to be made upon delivery.",
    ],
)
def test_notes_without_a_tracking_number_give_none(note):
    assert parse_note(note).numbers == []


def test_several_notes_give_each_number_once_oldest_first_and_the_first_carrier():
    notes = [
        {"id": 3, "note": "Order was shipped with UPS and tracking number is: 1Z999AA10123456784"},
        {"id": 1, "note": "Order status changed from Pending payment to Processing."},
        {"id": 2, "note": "Tracking number: 1Z999AA10123456700"},
        {"id": 4, "note": "Order was shipped with UPS and tracking number is: 1Z999AA10123456784"},
    ]
    found = tracking_from_notes(notes)
    assert found.numbers == ["1Z999AA10123456700", "1Z999AA10123456784"]
    assert found.carrier == "UPS"


def _shop_with_order(woo, tracking_extension: bool):
    site, key = woo_shop(woo, "acme-wholesale", shipment_tracking=tracking_extension)
    client = WooClient(site, key.consumer_key, key.consumer_secret, http=httpx.Client())
    seed_product(woo, "acme-wholesale", "Canvas Tote", [{"sku": "TOTE-1", "price": "10.00", "available": 5}])
    order = client.post("orders", {"status": "processing", "line_items": [{"sku": "TOTE-1", "quantity": 2}]})
    sor = WooSystemOfRecord(SimpleNamespace(id=1, webhook_secret="s"), client)
    return client, order, sor


@pytest.mark.parametrize("tracking_extension", [False, True])
def test_a_tracking_note_on_an_open_order_is_its_shipment_with_or_without_the_extension(woo, tracking_extension):
    client, order, sor = _shop_with_order(woo, tracking_extension)
    assert sor.shipments(str(order["id"])) == []
    client.post(
        f"orders/{order['id']}/notes",
        {"note": "Order was shipped with USPS and tracking number is: 9400111899223197428490"},
    )
    [shipment] = sor.shipments(str(order["id"]))
    assert (shipment.carrier, shipment.tracking_numbers) == ("USPS", ["9400111899223197428490"])
    assert shipment.lines == [(str(order["line_items"][0]["id"]), 2)]


def test_shipment_tracking_items_win_over_notes_where_the_shop_has_them(woo):
    client, order, sor = _shop_with_order(woo, True)
    client.post(f"orders/{order['id']}/notes", {"note": "Tracking number: 1Z999AA10123456700"})
    client.post(
        f"orders/{order['id']}/shipment-trackings",
        {"tracking_provider": "UPS", "tracking_number": "1Z999AA10123456784"},
        namespace="wc-shipment-tracking/v3",
    )
    [shipment] = sor.shipments(str(order["id"]))
    assert shipment.tracking_numbers == ["1Z999AA10123456784"]
