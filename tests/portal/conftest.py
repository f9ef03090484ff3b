"""Fixtures for the portal pages: a wholesaler's world with products, orders, runs and activity, and an intruder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import ActivityLog, Fulfillment, Order, OrderLine, SyncRun, utcnow
from tests.support import factories


@dataclass
class World:
    user: object
    org: object
    sor: object
    retailer: object
    store: object
    partnership: object
    products: list
    orders: list


def make_order(ws, rt, p, name: str, received_ago: timedelta, sent: bool = False, **kw) -> Order:
    """An order received `received_ago` ago; `sent` marks it as already in the system of record."""
    received = utcnow() - received_ago
    order = Order(
        wholesaler_id=ws.id,
        retailer_id=rt.id,
        partnership_id=p.id,
        remote_order_id=f"gid://shopify/Order/{name}",
        retailer_order_name=name,
        received_at=received,
        placed_at=received - timedelta(minutes=1),
        sent_to_sor_at=received + timedelta(minutes=30) if sent else None,
        **kw,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(
        OrderLine(
            order_id=order.id, remote_line_id=f"{name}-1", sku="SKU-A", quantity=2, wholesale_price=Decimal("10.00")
        )
    )
    db.session.commit()
    return order


def make_world() -> World:
    user, ws, sor, rt, store, p = factories.trading_pair()
    products = [factories.product(ws, skus=(f"SKU-{n}-A", f"SKU-{n}-B"), quantity=4) for n in range(3)]
    # Created oldest first, as orders arrive (ids grow with arrival).
    shipped = make_order(
        ws, rt, p, "#1003", timedelta(hours=5), sent=True, status="shipped", shipped_at=utcnow() - timedelta(hours=1)
    )
    stuck = make_order(ws, rt, p, "#1002", timedelta(hours=3))
    fresh = make_order(ws, rt, p, "#1001", timedelta(minutes=30))
    db.session.add(
        Fulfillment(
            order_id=shipped.id,
            sor_remote_fulfillment_id="F1",
            carrier="UPS",
            tracking_numbers=["1Z999"],
            pushed_at=utcnow(),
        )
    )
    run = SyncRun(
        job_name="products.push",
        organization_id=ws.id,
        partnership_id=p.id,
        target_key=f"partnership:{p.id}",
        trigger="schedule",
        status="done",
        total=6,
        done=6,
        created=6,
        started_at=utcnow() - timedelta(minutes=5),
        finished_at=utcnow() - timedelta(minutes=4),
    )
    db.session.add(run)
    db.session.flush()
    db.session.add(
        ActivityLog(
            organization_id=ws.id,
            partnership_id=p.id,
            sync_run_id=run.id,
            action="add",
            record_type="product",
            record_id="1",
            summary="Created Product 1 unpublished",
        )
    )
    db.session.commit()
    return World(user, ws, sor, rt, store, p, products, [fresh, stuck, shipped])


@pytest.fixture
def world(app):
    return make_world()


@pytest.fixture
def other(app, world):
    """A second wholesaler with its own data: nothing of it may show on the first one's pages."""
    return make_world()


@pytest.fixture
def signed_in(client, auth, world):
    auth.login(world.user.email)
    return world
