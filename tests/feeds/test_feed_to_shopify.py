"""A wholesaler's ERP trading in CSV files on a real OpenSSH SFTP server, a Shopify retailer: catalog and stock from
feed files, each order written once to the outbox (a retry rewrites the same file), a shipment file in the inbox
reaching the retailer as tracking and moved to processed; bad rows reported with file and line; a wrong host key
refused; run by hand (`flask sync run`) and by the scheduler's dispatch."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from fakes.shopify.resolvers.orders import place_order
from jobs.runtime import dispatch
from jobs.worker import make_worker
from portal.extensions import db
from portal.models import Order, SyncRun, Variant

RT = "corner-store.myshopify.com"


def _retailer_level(world, sku: str) -> int:
    shop = world.shopify.shop(RT)
    db.session.refresh(world.partnership)
    loc_id = int(world.partnership.placement["location_id"].rsplit("/", 1)[1])
    return shop.available(shop.variant_by_sku(sku).inventory_item_id, loc_id)


def _outbox(world) -> list[str]:
    folder = world.server.data / "orders" / "outbox"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _order_rows(world, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO((world.server.data / "orders" / "outbox" / name).read_text())))


def _place_and_send(world, lines) -> Order:
    place_order(world.shopify.sandbox, RT, lines)
    world.ok("orders.pull")
    world.ok("orders.push")
    return db.session.execute(select(Order)).scalar_one()


def test_catalog_and_stock_from_the_feed_file_reach_the_shopify_retailer(feed_to_shopify):
    world = feed_to_shopify
    world.ok("products.pull")
    variants = {v.sku: v for v in db.session.execute(select(Variant)).scalars()}
    assert set(variants) == {"TOTE-1", "SHIRT-S", "SHIRT-M"}
    assert variants["SHIRT-S"].option_values == [{"name": "Size", "value": "S"}]
    world.ok("products.push")
    assert _retailer_level(world, "TOTE-1") == 20
    assert _retailer_level(world, "SHIRT-M") == 7

    # the ERP publishes a stock file; the wholesaler's settings now read quantities from it
    world.write("stock.csv", "sku,quantity\nTOTE-1,20\nSHIRT-M,2\n")
    world.sor.settings = {**world.sor.settings, "stock_path": "stock.csv"}
    db.session.commit()
    world.ok("inventory.pull")
    world.ok("inventory.push")
    assert _retailer_level(world, "SHIRT-M") == 2


def test_an_order_is_written_once_to_the_outbox_and_a_retry_rewrites_the_same_file(feed_to_shopify):
    world = feed_to_shopify
    world.ok("products.pull")
    world.ok("products.push")
    order = _place_and_send(world, [("TOTE-1", 2), ("SHIRT-S", 1)])
    name = f"wholesync-order-{order.id}.csv"
    assert _outbox(world) == [name]  # no temporary file left behind
    rows = _order_rows(world, name)
    assert {r["sku"]: r["quantity"] for r in rows} == {"TOTE-1": "2", "SHIRT-S": "1"}
    assert rows[0]["price"] == "10.00" and rows[0]["order"] == f"wholesync-order-{order.id}"
    assert order.status == "sent" and order.sor_remote_order_id == f"wholesync-order-{order.id}"

    # a worker dying after the rename: the next push finds the file by its name instead of writing another
    db.session.execute(Order.__table__.update().values(status="received", sor_remote_order_id=None))
    db.session.commit()
    world.ok("orders.push")
    assert _outbox(world) == [name]
    db.session.refresh(order)
    assert order.status == "sent"

    # the ERP took the file into its processed folder: still found, still not written again
    (world.server.data / "orders" / "processed").mkdir(parents=True)
    (world.server.data / "orders" / "outbox" / name).rename(world.server.data / "orders" / "processed" / name)
    db.session.execute(Order.__table__.update().values(status="received", sor_remote_order_id=None))
    db.session.commit()
    world.ok("orders.push")
    assert _outbox(world) == []


def test_a_shipment_file_in_the_inbox_reaches_the_retailer_with_tracking_and_moves_to_processed(feed_to_shopify):
    world = feed_to_shopify
    world.ok("products.pull")
    world.ok("products.push")
    order = _place_and_send(world, [("TOTE-1", 2), ("SHIRT-S", 1)])
    marker = f"wholesync-order-{order.id}"
    world.write(
        "shipments/inbox/ship-0001.csv",
        f"order,sku,quantity,carrier,tracking_number\n{marker},TOTE-1,2,UPS,1Z999\n{marker},SHIRT-S,1,UPS,1Z999\n",
    )
    world.ok("order_updates.pull")
    world.ok("order_updates.push")
    assert not (world.server.data / "shipments" / "inbox" / "ship-0001.csv").exists()
    assert (world.server.data / "shipments" / "processed" / "ship-0001.csv").exists()
    db.session.refresh(order)
    assert order.status in ("shipped", "completed")
    [fulfillment] = world.shopify.shop(RT).fulfillments.values()
    assert [t.get("number") for t in fulfillment.tracking_info] == ["1Z999"], fulfillment.tracking_info

    # the processed file is read again by later runs (nothing is lost to a crash after the move): no duplicate
    world.ok("order_updates.pull")
    world.ok("order_updates.push")
    assert len(world.shopify.shop(RT).fulfillments) == 1


def test_a_bad_catalog_row_is_reported_with_its_file_and_line_while_good_rows_import(feed_to_shopify):
    world = feed_to_shopify
    world.write(
        "catalog.csv",
        "product_id,title,sku,price,quantity\n"
        "TOTE,Canvas Tote,TOTE-1,10.00,20\n"
        "\n"
        'CAP,"Wool\nCap",CAP-1,twelve,3\n'
        "MUG,Mug,MUG-1,4.50,8\n",
    )
    [result] = world.run("products.pull")
    assert {v.sku for v in db.session.execute(select(Variant)).scalars()} == {"TOTE-1", "MUG-1"}
    assert result["failed"] == 1
    [failure] = result["failures"]
    assert failure["record"] == "catalog.csv line 4"  # where the row starts: after a blank line, a two-line cell
    assert "twelve" in failure["reason"]


def test_a_server_presenting_another_host_key_is_refused_before_anything_is_sent(feed_to_shopify):
    world = feed_to_shopify
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    world.sor.settings = {**world.sor.settings, "host_key": other}
    db.session.commit()
    [result] = world.run("products.pull")
    assert result["status"] != "done"
    assert "pinned" in (result["message"] or "")
    assert db.session.execute(select(Variant)).first() is None
    assert "Accepted publickey" not in world.server.log()


def test_a_file_feed_wholesaler_trades_by_the_scheduler_alone(feed_to_shopify, app):
    world = feed_to_shopify

    def tick(*jobs, slot):
        for job in jobs:
            dispatch(job, slot=slot)
        make_worker(app).work(burst=True)
        db.session.expire_all()

    tick("products.pull", slot=1)  # chains products.push (and inventory.push)
    assert _retailer_level(world, "SHIRT-M") == 7
    place_order(world.shopify.sandbox, RT, [("TOTE-1", 1)])
    tick("orders.pull", slot=2)  # chains orders.push
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "sent" and _outbox(world) == [f"wholesync-order-{order.id}.csv"]
    world.write(
        "shipments/inbox/ship-2.csv", f"order,sku,quantity,tracking_number\n{order.sor_remote_order_id},TOTE-1,1,1Z42\n"
    )
    tick("order_updates.pull", slot=3)  # chains order_updates.push
    assert len(world.shopify.shop(RT).fulfillments) == 1
    failed = db.session.execute(select(SyncRun).where(SyncRun.status != "done")).scalars().all()
    assert [(r.job_name, r.message, r.failures) for r in failed] == []
