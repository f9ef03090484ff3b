"""Demo data for `make run`: a wholesaler with a login, two retailers, partnerships and sandbox shops."""

from __future__ import annotations

import secrets
from decimal import Decimal

from sqlalchemy import select

from portal.auth.service import create_wholesaler
from portal.extensions import db
from portal.models import Connection, Organization, Partnership, PriceList, User, utcnow

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-wholesaler"
WHOLESALER_SHOP = "demo-wholesaler.myshopify.com"
RETAILER_SHOPS = ("demo-retailer-1.myshopify.com", "demo-retailer-2.myshopify.com")


def sandbox_token(shop: str) -> str:
    """The access token the local sandbox issues to a demo shop (the sandbox accepts it)."""
    return f"shpat_sandbox_{shop.split('.')[0]}"


def seed() -> str:
    """Create the demo organizations once; running it again changes nothing."""
    if db.session.execute(select(User).where(User.email == DEMO_EMAIL)).scalar_one_or_none():
        return f"demo data present; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
    wholesaler = create_wholesaler("Demo Wholesale Co.", DEMO_EMAIL, DEMO_PASSWORD).organization
    db.session.add(
        Connection(
            organization=wholesaler, role="system_of_record", shop_domain=WHOLESALER_SHOP,
            access_token=sandbox_token(WHOLESALER_SHOP), scopes="read_products,read_inventory,write_orders",
        )
    )  # fmt: skip
    price_list = PriceList(wholesaler_id=wholesaler.id, name="Standard retail", markup_percent=Decimal("40"),
                           rounding_ending=Decimal("0.99"))  # fmt: skip
    db.session.add(price_list)
    for number, shop in enumerate(RETAILER_SHOPS, start=1):
        retailer = Organization(kind="retailer", name=f"Demo Retailer {number}")
        db.session.add(retailer)
        db.session.add(
            Connection(organization=retailer, role="store", shop_domain=shop, access_token=sandbox_token(shop))
        )
        db.session.flush()
        db.session.add(
            Partnership(
                wholesaler_id=wholesaler.id, retailer_id=retailer.id, status="active", price_list=price_list,
                invite_code=secrets.token_urlsafe(12), accepted_at=utcnow(),
            )
        )  # fmt: skip
    db.session.commit()
    return f"demo data created; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
