"""Billing test data: partnerships with a connected gateway, shipped orders, and readers of the fakes' state."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import Fulfillment, GatewayAccount, Invoice, Order, OrderLine
from tests.support import factories


def days_ago(n: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=n)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def billing_pair(fake=None, gateway="stripe", terms="card", tz="UTC", billing_time=time(6, 0), since_days=10, **kw):
    """A wholesaler with a connected gateway and one retailer partnership with billing on (card on file if Stripe)."""
    user, ws, _sor, rt, _store, p = factories.trading_pair()
    ws.timezone, ws.billing_time = tz, billing_time
    p.billing_enabled, p.billing_gateway, p.billing_terms = True, gateway, terms
    p.accepted_at = at(days_ago(since_days), 0)
    for name, value in kw.items():
        setattr(p, name, value)
    db.session.add(GatewayAccount(organization_id=ws.id, gateway=gateway, account_ref="merchant-1", secret="sk_test_1"))
    if gateway == "stripe" and fake is not None:
        p.gateway_customer_ref = fake.seed_customer(rt.name, card="4242424242424242" if terms == "card" else None)
    db.session.commit()
    return user, ws, rt, p


def shipped_order(p, lines, shipped_at: datetime | None, shipping: str = "0", name: str | None = None) -> Order:
    """An order with lines [(sku, quantity, unit price)], fully shipped at `shipped_at` (None: not shipped)."""
    order = Order(
        wholesaler_id=p.wholesaler_id, retailer_id=p.retailer_id, partnership_id=p.id,
        remote_order_id=name or secrets.token_hex(4), retailer_order_name=name or "", shipped_at=shipped_at,
        shipping_amount=Decimal(shipping), status="shipped" if shipped_at else "sent",
    )  # fmt: skip
    db.session.add(order)
    db.session.flush()
    made = []
    for sku, quantity, price in lines:
        line = OrderLine(
            order_id=order.id, remote_line_id=secrets.token_hex(4), sku=sku, title=sku, quantity=quantity,
            wholesale_price=Decimal(price), fulfilled_quantity=quantity if shipped_at else 0,
        )  # fmt: skip
        db.session.add(line)
        made.append(line)
    db.session.flush()
    if shipped_at:
        db.session.add(
            Fulfillment(
                order_id=order.id, sor_remote_fulfillment_id=secrets.token_hex(4), shipped_at=shipped_at,
                lines=[{"order_line_id": line.id, "quantity": line.quantity} for line in made],
            )
        )  # fmt: skip
    db.session.commit()
    return order


def invoices_of(p) -> list[Invoice]:
    db.session.expire_all()
    return list(db.session.query(Invoice).filter_by(partnership_id=p.id).order_by(Invoice.billing_date))


def stripe_invoices(fake) -> list[dict]:
    return fake.of_type("invoice")


def charges(fake) -> list[dict]:
    """Successful charges in the fake: invoices that went to paid."""
    return [e for e in fake.events if e["type"] == "invoice.paid"]
