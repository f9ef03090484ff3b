"""`flask partners ...`: invite, accept, status, toggles, force overwrite, buffer and price explanations.

A thin shell over portal.partnerships and portal.services.pricing; every rule lives there.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.models import Partnership, Variant
from portal.services import partnerships as service

partners = AppGroup("partners", help="Partnerships between wholesalers and retailers (invite, accept, settings).")


def _echo(partnership) -> None:
    click.echo(json.dumps(service.describe(partnership)))


def _run(func, *args):
    try:
        _echo(func(*args))
    except service.PartnershipError as err:
        raise click.ClickException(str(err)) from None


@partners.command("invite")
@click.argument("wholesaler_id", type=int)
@click.option("--email", help="The retailer's email, for the record.")
@click.option("--price-list", "price_list_id", type=int, help="The price list the retailer will buy under.")
def invite_cmd(wholesaler_id: int, email: str | None, price_list_id: int | None) -> None:
    """Invite a retailer: prints the partnership with its invite code."""
    _run(service.invite, wholesaler_id, email, price_list_id)


@partners.command("accept")
@click.argument("code")
@click.argument("retailer_id", type=int)
def accept_cmd(code: str, retailer_id: int) -> None:
    """Accept an invitation CODE as retailer RETAILER_ID."""
    _run(service.accept, code, retailer_id)


@partners.command("status")
@click.argument("partnership_id", type=int)
@click.argument("status", type=click.Choice(["active", "paused", "ended"]))
def status_cmd(partnership_id: int, status: str) -> None:
    """Pause, resume or end a partnership."""
    _run(service.set_status, partnership_id, status)


@partners.command("toggle")
@click.argument("partnership_id", type=int)
@click.argument("toggle")
@click.argument("state", type=click.Choice(["on", "off"]))
def toggle_cmd(partnership_id: int, toggle: str, state: str) -> None:
    """Switch a sync toggle on or off (e.g. sync_orders_from_retailer off)."""
    _run(service.set_toggle, partnership_id, toggle, state == "on")


@partners.command("force-overwrite")
@click.argument("partnership_id", type=int)
@click.argument("state", type=click.Choice(["on", "off"]))
def force_cmd(partnership_id: int, state: str) -> None:
    """Force overwrite on: every synced product field is pushed each time, not only price and stock."""
    _run(service.set_force_overwrite, partnership_id, state == "on")


@partners.command("buffer")
@click.argument("partnership_id", type=int)
@click.argument("units", type=int)
def buffer_cmd(partnership_id: int, units: int) -> None:
    """Hold back UNITS of every SKU's stock from this retailer."""
    _run(service.set_stock_buffer, partnership_id, units)


@partners.command("billing")
@click.argument("partnership_id", type=int)
@click.argument("gateway", type=click.Choice(["stripe", "apruve", "off"]))
@click.option("--terms", type=click.Choice(["card", "net"]), default="card", show_default=True)
def billing_cmd(partnership_id: int, gateway: str, terms: str) -> None:
    """Bill this retailer daily through the wholesaler's GATEWAY (or switch billing off)."""
    _run(service.set_billing, partnership_id, None if gateway == "off" else gateway, terms)


@partners.command("card-link")
@click.argument("partnership_id", type=int)
def card_link_cmd(partnership_id: int) -> None:
    """Print the gateway-hosted page where the retailer saves the card its wholesaler charges (Stripe)."""
    from flask import current_app

    from portal.services.billing.collect import card_setup_url

    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None or partnership.billing_gateway != "stripe":
        raise click.ClickException(f"partnership {partnership_id} does not bill through Stripe")
    base = (current_app.config.get("SHOPIFY_APP_URL") or "").rstrip("/")
    done = f"{base}/billing/partnerships/{partnership.id}/card/done"
    # A setup session moves no money, so each link may use a fresh key.
    page = card_setup_url(
        partnership, done, f"{base}/billing/", f"ws-setup-{partnership.id}-cli-{secrets.token_hex(8)}"
    )
    if page is None:
        raise click.ClickException("the wholesaler has not connected Stripe yet")
    click.echo(page)


@partners.command("show")
@click.argument("partnership_id", type=int)
def show_cmd(partnership_id: int) -> None:
    """Print a partnership's settings."""
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        raise click.ClickException(f"no partnership {partnership_id}")
    _echo(partnership)


@partners.command("explain-price")
@click.argument("partnership_id", type=int)
@click.argument("sku")
def explain_cmd(partnership_id: int, sku: str) -> None:
    """Show how the retail price of SKU for this partnership is computed, step by step."""
    from sqlalchemy import select

    from portal.services.pricing import compute_retail_price

    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        raise click.ClickException(f"no partnership {partnership_id}")
    variant = db.session.execute(
        select(Variant).where(Variant.wholesaler_id == partnership.wholesaler_id, Variant.sku == sku)
    ).scalar_one_or_none()
    if variant is None:
        raise click.ClickException(f"no SKU {sku!r} in this wholesaler's catalog")
    quote = compute_retail_price(partnership.price_list, sku, Decimal(variant.wholesale_price))
    click.echo(quote.explain())
    click.echo(f"Retail price: {quote.price} {quote.currency}")
