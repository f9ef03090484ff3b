"""Demo data for `make run`: a wholesaler with a login, two retailers, partnerships and sandbox shops, and money:
the retailers billed by card through the local Stripe fake, the day closing a few minutes after the first start."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection, GatewayAccount, Organization, Partnership, PriceList, User, utcnow
from portal.services import partnerships
from portal.services.accounts import create_wholesaler

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-wholesaler"
WHOLESALER_SHOP = "demo-wholesaler.myshopify.com"
RETAILER_SHOPS = ("demo-retailer-1.myshopify.com", "demo-retailer-2.myshopify.com")
# The demo's day closes this long after the data is first seeded (UTC), so the first invoice comes during the tour.
DEMO_BILLING_DELAY = timedelta(minutes=20)
DEMO_STRIPE_KEY = "sk_test_wholesync_demo"  # the local Stripe fake's key for the demo wholesaler's account
DEMO_CARD = "4242424242424242"  # Stripe's test card


# The wholesaler's catalog in the sandbox for `make run`: 12 products, 30 variants (title, [(sku, price, stock)]).
DEMO_CATALOG = [
    (
        "Organic Cotton Tee",
        [("TEE-S", "9.50", 40), ("TEE-M", "9.50", 55), ("TEE-L", "9.50", 12), ("TEE-XL", "9.50", 6)],
    ),
    ("Canvas Tote Bag", [("TOTE-NAT", "6.25", 120), ("TOTE-BLK", "6.25", 64)]),
    ("Enamel Camp Mug", [("MUG-WHT", "4.80", 75), ("MUG-BLK", "4.80", 3)]),
    ("Beeswax Candle", [("CANDLE-S", "7.00", 0), ("CANDLE-L", "12.00", 18)]),
    ("Linen Apron", [("APRON-NAT", "14.00", 22), ("APRON-SLT", "14.00", 9)]),
    ("Wool Beanie", [("BEANIE-GRY", "8.40", 30), ("BEANIE-MUS", "8.40", 14), ("BEANIE-NVY", "8.40", 25)]),
    ("Ceramic Planter", [("PLANT-S", "11.00", 16), ("PLANT-M", "16.50", 8), ("PLANT-L", "24.00", 4)]),
    ("Recycled Notebook", [("NOTE-A5", "3.90", 200), ("NOTE-A4", "5.10", 140)]),
    ("Bamboo Cutlery Set", [("CUTLERY-1", "5.60", 90), ("CUTLERY-2", "9.80", 45)]),
    ("Cork Yoga Block", [("YOGA-CORK", "10.20", 35), ("YOGA-BLK", "10.20", 21)]),
    ("Merino Socks", [("SOCK-S", "6.80", 48), ("SOCK-M", "6.80", 60), ("SOCK-L", "6.80", 41)]),
    ("Glass Water Bottle", [("BOTTLE-05", "8.90", 27), ("BOTTLE-10", "11.90", 19), ("BOTTLE-15", "13.90", 0)]),
]


def seed_sandbox_catalog(sandbox) -> None:
    """Give the sandbox's demo wholesaler shop the catalog above (for `fakes.serve`'s demo seeding)."""
    for title, variants in DEMO_CATALOG:
        sandbox.add_product(
            WHOLESALER_SHOP, title, [{"sku": sku, "price": price, "available": qty} for sku, price, qty in variants]
        )


def sandbox_token(shop: str) -> str:
    """The access token the local sandbox issues to a demo shop (the sandbox accepts it)."""
    return f"shpat_sandbox_{shop.split('.')[0]}"


def seed() -> str:
    """Create the demo organizations once; running it again changes nothing."""
    if db.session.execute(select(User).where(User.email == DEMO_EMAIL)).scalar_one_or_none():
        return f"demo data present; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
    wholesaler = create_wholesaler("Demo Wholesale Co.", DEMO_EMAIL, DEMO_PASSWORD).organization
    closes = utcnow() + DEMO_BILLING_DELAY
    wholesaler.timezone, wholesaler.billing_time = "UTC", closes.time().replace(second=0, microsecond=0)
    db.session.add(
        Connection(
            organization=wholesaler, role="system_of_record", address=WHOLESALER_SHOP,
            access_token=sandbox_token(WHOLESALER_SHOP), scopes="read_products,read_inventory,write_orders",
        )
    )  # fmt: skip
    price_list = PriceList(wholesaler_id=wholesaler.id, name="Standard retail", markup_percent=Decimal("40"),
                           rounding_ending=Decimal("0.99"))  # fmt: skip
    db.session.add(price_list)
    for number, shop in enumerate(RETAILER_SHOPS, start=1):
        retailer = Organization(kind="retailer", name=f"Demo Retailer {number}")
        db.session.add(retailer)
        db.session.add(Connection(organization=retailer, role="store", address=shop, access_token=sandbox_token(shop)))
        db.session.flush()
        db.session.add(
            Partnership(
                wholesaler_id=wholesaler.id, retailer_id=retailer.id, status="active", price_list=price_list,
                invite_code=partnerships.new_invite_code(), accepted_at=utcnow(),
            )
        )  # fmt: skip
    db.session.commit()
    return f"demo data created; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"


def setup_billing() -> str:
    """Bill the demo retailers daily by card through the local Stripe fake, as a wholesaler and its retailers would:
    the wholesaler's Stripe account, billing switched on, and each retailer saving the test card on the card page
    the product links it to (Stripe then tells the product by webhook, which makes the card the one charged).

    Run once the web and the fake are up (`make run` does); a partnership that already has a customer is left alone.
    """
    from portal.services.billing.collect import card_setup_url

    if not current_app.config.get("STRIPE_API_BASE"):
        return "STRIPE_API_BASE is not set: demo billing needs the local Stripe fake"
    user = db.session.execute(select(User).where(User.email == DEMO_EMAIL)).scalar_one_or_none()
    if user is None:
        return "no demo data; run `flask demo seed` first"
    wholesaler_id = user.organization_id
    account = db.session.execute(
        select(GatewayAccount).where(
            GatewayAccount.organization_id == wholesaler_id, GatewayAccount.gateway == "stripe"
        )
    ).scalar_one_or_none()
    if account is None:
        db.session.add(GatewayAccount(organization_id=wholesaler_id, gateway="stripe", secret=DEMO_STRIPE_KEY))
        db.session.commit()
    rows = db.session.execute(
        select(Partnership).where(Partnership.wholesaler_id == wholesaler_id, Partnership.status == "active")
    ).scalars()
    base = str(current_app.config.get("SHOPIFY_APP_URL") or "").rstrip("/")
    saved = 0
    for partnership in rows:
        if partnership.gateway_customer_ref:
            continue
        partnerships.set_billing(partnership.id, "stripe", "card")
        page = card_setup_url(
            partnership,
            f"{base}/billing/partnerships/{partnership.id}/card/done",
            f"{base}/billing/",
            f"ws-setup-{partnership.id}-demo",
        )
        # The retailer on the card page: it opens the page and saves the test card.
        httpx.get(page, timeout=30).raise_for_status()
        answer = httpx.post(page, data={"number": DEMO_CARD}, timeout=30)
        if answer.status_code != 303:
            raise RuntimeError(f"the card page answered {answer.status_code}")
        saved += 1
    return f"demo billing: {saved} retailer card(s) saved through the Stripe fake"
