"""Small factories for test data: each returns committed rows with sensible defaults."""

from __future__ import annotations

import itertools
from decimal import Decimal

from portal.extensions import db
from portal.models import Connection, Organization, Partnership, PriceList, Product, Variant, utcnow
from portal.services.accounts import create_wholesaler
from portal.services.partnerships import new_invite_code

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def wholesaler(name: str | None = None, email: str | None = None, password: str = PASSWORD):
    """A wholesaler organization with an admin user; returns the user."""
    n = next(_seq)
    return create_wholesaler(name or f"Wholesaler {n}", email or f"owner{n}@example.com", password)


def connection(org: Organization, role: str, shop: str | None = None, **kw) -> Connection:
    conn = Connection(
        organization_id=org.id, role=role, address=shop or f"shop-{next(_seq)}.myshopify.com",
        access_token=kw.pop("access_token", "shpat_test"), **kw,
    )  # fmt: skip
    db.session.add(conn)
    db.session.commit()
    return conn


def retailer(name: str | None = None) -> Organization:
    org = Organization(kind="retailer", name=name or f"Retailer {next(_seq)}")
    db.session.add(org)
    db.session.commit()
    return org


def price_list(wholesaler_org: Organization, **kw) -> PriceList:
    pl = PriceList(wholesaler_id=wholesaler_org.id, name=kw.pop("name", "Retail"), **kw)
    db.session.add(pl)
    db.session.commit()
    return pl


def partnership(wholesaler_org: Organization, retailer_org: Organization | None, **kw) -> Partnership:
    p = Partnership(
        wholesaler_id=wholesaler_org.id, retailer_id=retailer_org.id if retailer_org else None,
        invite_code=new_invite_code(), status=kw.pop("status", "active"), accepted_at=utcnow(), **kw,
    )  # fmt: skip
    db.session.add(p)
    db.session.commit()
    return p


def product(wholesaler_org: Organization, skus=("SKU-1",), price: str = "10.00", quantity: int = 5) -> Product:
    n = next(_seq)
    prod = Product(wholesaler_id=wholesaler_org.id, remote_id=f"gid://shopify/Product/{n}", title=f"Product {n}")
    db.session.add(prod)
    db.session.flush()
    for i, sku in enumerate(skus):
        db.session.add(
            Variant(
                product_id=prod.id, wholesaler_id=wholesaler_org.id, remote_id=f"gid://shopify/ProductVariant/{n}{i}",
                sku=sku, wholesale_price=Decimal(price), inventory_quantity=quantity,
            )
        )  # fmt: skip
    db.session.commit()
    return prod


def trading_pair():
    """A wholesaler (with user, system of record) and an active retailer partnership (with store)."""
    user = wholesaler()
    ws = user.organization
    sor = connection(ws, "system_of_record")
    rt = retailer()
    store = connection(rt, "store")
    p = partnership(ws, rt)
    return user, ws, sor, rt, store, p


def queued_receipt(event_id: str, scopes=("read_products",)):
    """A Shopify `app/scopes_update` receipt recorded as the endpoint records it (with its outbox row) and enqueued."""
    from jobs import outbox
    from portal.models import WebhookReceipt

    receipt = WebhookReceipt(source="shopify", event_id=event_id, topic="app/scopes_update",
                             shop_domain="a.myshopify.com", payload={"current": list(scopes)})  # fmt: skip
    db.session.add(receipt)
    db.session.flush()
    msg = outbox.add("webhook", "webhooks", f"webhook-{receipt.id}", [receipt.id], receipt.id, "test")
    db.session.commit()
    outbox.enqueue_now([msg])
    return receipt
