"""The soak's invariant checks on crafted snapshots: each catches the fault it exists for, and a clean world passes.

They are pure functions (benchmarks/chaos/invariants.py), so no process is started here.
"""

from __future__ import annotations

import copy

from benchmarks.chaos.invariants import (
    access_kept,
    billed_once,
    catalog_matches,
    check_all,
    in_flight,
    orders_exactly_once,
    shipments_exactly_once,
    stock_matches,
    tally,
)

R = "gid://shopify/Order/1"


def _world() -> dict:
    shipment = {"tracking": ["1Z1"], "lines": [{"sku": "TEE-S", "quantity": 2}]}
    return {
        "catalog_skus": ["TEE-S", "MUG-WHT"],
        "retailer_orders": {
            "r1.myshopify.com": [
                {
                    "id": R,
                    "name": "#1001",
                    "lines": [{"sku": "TEE-S", "quantity": 2}, {"sku": "OWN", "quantity": 1}],
                    "fulfillments": [copy.deepcopy(shipment)],
                },
            ]
        },
        "wholesaler_orders": [
            {
                "id": "gid://shopify/Order/9",
                "name": "#5001",
                "tags": ["wholesync", "wholesync-order-1"],
                "lines": [{"sku": "TEE-S", "quantity": 2}],
                "fulfillments": [shipment],
            },
        ],
        "hub_orders": {1: R},
        "wholesaler_stock": {"TEE-S": 10, "MUG-WHT": 5},
        "in_flight_orders": {2: {"MUG-WHT": 1}},  # hub order 2: received, not yet in the wholesaler's store
        "partnerships": [
            {
                "shop": "r1.myshopify.com",
                "buffer": 2,
                "stock": {"TEE-S": 8, "MUG-WHT": 2},
                "variants": [{"sku": "TEE-S", "price": "13.99"}, {"sku": "MUG-WHT", "price": "6.99"}],
                "expected_prices": {"TEE-S": "13.99", "MUG-WHT": "6.99"},
            },
        ],
        "lines": [{"id": 1, "shipped": 2, "charged": 2, "credited": 0, "billing_on": True}],
        "gateway_charges": {"1": 1},
        "connections": [
            {"address": "w.myshopify.com", "role": "source", "status": "active"},
            {"address": "r1.myshopify.com", "role": "store", "status": "active"},
        ],
    }


def test_a_consistent_world_has_no_violations():
    assert check_all(_world()) == []


def test_an_order_missing_from_the_wholesalers_store_is_lost():
    world = _world()
    world["wholesaler_orders"] = []
    found = orders_exactly_once(world)
    assert [v.kind for v in found] == ["lost"] and "TEE-S" in found[0].detail


def test_an_order_created_twice_in_the_wholesalers_store_is_duplicated():
    world = _world()
    world["wholesaler_orders"].append({**world["wholesaler_orders"][0], "id": "gid://shopify/Order/10"})
    world["hub_orders"][2] = R
    world["wholesaler_orders"][1]["tags"] = ["wholesync", "wholesync-order-2"]
    assert "duplicated" in [v.kind for v in orders_exactly_once(world)]


def test_a_shipment_missing_or_doubled_at_the_retailer_is_reported():
    world = _world()
    world["retailer_orders"]["r1.myshopify.com"][0]["fulfillments"] = []
    assert [v.kind for v in shipments_exactly_once(world)] == ["lost"]
    world = _world()
    order = world["retailer_orders"]["r1.myshopify.com"][0]
    order["fulfillments"].append(copy.deepcopy(order["fulfillments"][0]))
    assert set(v.kind for v in shipments_exactly_once(world)) == {"duplicated"}


def test_a_shipment_of_units_the_retailer_removed_is_not_lost_but_one_with_units_left_is():
    world = _world()
    retailer = world["retailer_orders"]["r1.myshopify.com"][0]
    retailer.update(fulfillments=[], lines=[{"sku": "TEE-S", "quantity": 0}, {"sku": "OWN", "quantity": 1}])
    assert shipments_exactly_once(world) == []
    retailer["lines"][0]["quantity"] = 1  # one unit left: the shipment had somewhere to go
    assert [v.kind for v in shipments_exactly_once(world)] == ["lost"]


def _cancelled_world(*, copy_cancelled: bool, copy_shipped: bool) -> dict:
    """The retailer cancelled #1001; its copy in the wholesaler's store is cancelled or not, shipped or not."""
    world = _world()
    retailer = world["retailer_orders"]["r1.myshopify.com"][0]
    retailer.update(cancelled=True, fulfillments=[])
    ws = world["wholesaler_orders"][0]
    ws["cancelled"] = copy_cancelled
    if not copy_shipped:
        ws["fulfillments"] = []
    return world


def test_a_cancelled_retailer_order_whose_copy_was_cancelled_at_the_wholesaler_holds_every_order_invariant():
    world = _cancelled_world(copy_cancelled=True, copy_shipped=False)
    assert orders_exactly_once(world) == [] and shipments_exactly_once(world) == []


def test_a_cancelled_retailer_order_whose_copy_is_still_open_at_the_wholesaler_is_lost():
    found = orders_exactly_once(_cancelled_world(copy_cancelled=False, copy_shipped=False))
    assert [v.kind for v in found] == ["lost"] and "#5001 is still open" in found[0].detail


def test_a_cancelled_retailer_order_the_wholesaler_shipped_first_is_not_a_violation():
    world = _cancelled_world(copy_cancelled=False, copy_shipped=True)
    assert orders_exactly_once(world) == [] and shipments_exactly_once(world) == []


def test_a_copy_cancelled_at_the_wholesaler_of_an_order_the_retailer_did_not_cancel_is_lost():
    world = _world()
    world["wholesaler_orders"][0].update(cancelled=True, fulfillments=[])
    world["retailer_orders"]["r1.myshopify.com"][0]["fulfillments"] = []
    found = orders_exactly_once(world)
    assert [v.kind for v in found] == ["lost"] and "TEE-S: 2 ordered, 0 reached" in found[0].detail


def test_a_cancellation_request_left_unanswered_is_lost():
    world = _world()
    world["retailer_orders"]["r1.myshopify.com"][0]["cancellation_pending"] = True
    found = orders_exactly_once(world)
    assert [v.kind for v in found] == ["lost"] and "never answered" in found[0].detail


def test_a_retailer_edit_not_carried_to_the_wholesalers_open_copy_is_duplicated_unless_it_shipped_first():
    world = _world()
    world["retailer_orders"]["r1.myshopify.com"][0]["lines"][0]["quantity"] = 1  # edited from 2 to 1
    world["retailer_orders"]["r1.myshopify.com"][0]["fulfillments"] = []
    world["wholesaler_orders"][0]["fulfillments"] = []
    found = orders_exactly_once(world)
    assert [v.kind for v in found] == ["duplicated"] and "1 ordered, 2 in the wholesaler's store" in found[0].detail
    world = _world()  # the wholesaler shipped both units before the edit reached it: the edit could not apply
    world["retailer_orders"]["r1.myshopify.com"][0]["lines"][0]["quantity"] = 1
    assert orders_exactly_once(world) == []


def test_retailer_stock_must_equal_wholesaler_stock_less_in_flight_and_buffer():
    world = _world()
    world["partnerships"][0]["stock"]["MUG-WHT"] = 4  # forgot the in-flight unit
    found = stock_matches(world)
    assert [v.kind for v in found] == ["stock_mismatch"] and "expected 2" in found[0].detail


def test_an_order_the_wholesalers_store_already_holds_is_not_in_flight_while_the_hub_still_calls_it_received():
    """Its stock has left the wholesaler's store: counting it again would expect every retailer one order lower
    (the soak's retailers were reported 2-3 units above the level while such an order's answer was late)."""
    world = _world()
    world["in_flight_orders"][1] = {"TEE-S": 2}  # hub order 1 is in the wholesaler's store (#5001)
    assert in_flight(world) == {"MUG-WHT": 1}
    assert stock_matches(world) == []
    world["wholesaler_orders"] = []  # not created there yet: its 2 units are still to leave
    assert "expected 6" in stock_matches(world)[0].detail


def test_a_retailer_price_off_the_price_list_or_a_missing_sku_is_a_catalog_mismatch():
    world = _world()
    world["partnerships"][0]["variants"] = [{"sku": "TEE-S", "price": "9.50"}]
    assert sorted(v.detail for v in catalog_matches(world)) == [
        "r1.myshopify.com TEE-S at 9.50, price list says 13.99",
        "r1.myshopify.com lacks MUG-WHT",
    ]


def test_a_line_billed_twice_or_an_invoice_charged_twice_is_double_billed():
    world = _world()
    world["lines"][0]["charged"] = 4
    world["gateway_charges"]["1"] = 2
    found = billed_once(world)
    assert [v.kind for v in found] == ["double_billed", "double_billed"]
    assert tally(found)["double_billed"] == 2


def test_a_shipped_line_never_billed_is_lost_only_when_billing_is_on():
    world = _world()
    world["lines"][0]["charged"] = 0
    assert [v.kind for v in billed_once(world)] == ["lost"]
    world["lines"][0]["billing_on"] = False
    assert billed_once(world) == []


def test_a_shipment_recorded_after_the_last_billing_run_is_not_yet_owed_but_one_before_it_is():
    world = _world()
    world["lines"][0] |= {"charged": 0, "due": 0}  # shipped after the day's invoice: the next billing day bills it
    assert billed_once(world) == []
    world["lines"][0]["due"] = 2  # a billing run came after it and left it out
    assert [v.kind for v in billed_once(world)] == ["lost"]


def test_a_deliberately_broken_stock_check_is_caught_by_the_crafted_world():
    """A check that forgets the buffer (the bug the stock invariant exists to find) disagrees with a correct world."""

    def broken(snap):
        return [sku for p in snap["partnerships"] for sku, have in p["stock"].items()
                if have != max(0, snap["wholesaler_stock"][sku] - in_flight(snap).get(sku, 0))]  # fmt: skip

    world = _world()
    assert stock_matches(world) == []
    assert broken(world) == ["TEE-S", "MUG-WHT"]


def test_a_store_connection_left_needing_reauthorization_is_lost_access():
    world = _world()
    assert access_kept(world) == []
    world["connections"][1]["status"] = "needs_reauth"
    found = check_all(world)
    assert [(v.kind, v.detail) for v in found] == [("lost_access", "r1.myshopify.com (store) is needs_reauth")]
    assert tally(found)["lost_access"] == 1
