"""Partnerships as a service: invite with a code, accept by code, status, the eight toggles, force overwrite, buffer.

Views and the `flask partners` CLI call these functions with ids; they enforce the rules and commit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from portal.extensions import db
from portal.models import SYNC_TOGGLES, Organization, Partnership, PriceList, utcnow

STATUSES = ("invited", "active", "paused", "ended")
# Which status may follow which: an ended partnership stays ended (a new invite starts a new one).
TRANSITIONS = {"invited": {"active", "ended"}, "active": {"paused", "ended"}, "paused": {"active", "ended"}}


class PartnershipError(ValueError):
    """A request that breaks a partnership rule; the message is shown to the person as is."""


def _get(partnership_id: int) -> Partnership:
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        raise PartnershipError(f"no partnership {partnership_id}")
    return partnership


def new_invite_code() -> str:
    """A fresh unguessable invitation code (96 bits) of letters and digits only: pasted into a form, a link or a
    command line it never starts with "-" (read as an option) and never needs escaping."""
    return secrets.token_hex(12)


def invite(wholesaler_id: int, email: str | None = None, price_list_id: int | None = None) -> Partnership:
    """A new invitation from a wholesaler, with a fresh unguessable code to give the retailer."""
    if price_list_id is not None:
        price_list = db.session.get(PriceList, price_list_id)
        if price_list is None or price_list.wholesaler_id != wholesaler_id:
            raise PartnershipError("that price list is not this wholesaler's")
    partnership = Partnership(
        wholesaler_id=wholesaler_id, invite_email=email, price_list_id=price_list_id,
        invite_code=new_invite_code(), status="invited",
    )  # fmt: skip
    db.session.add(partnership)
    db.session.commit()
    return partnership


def accept(code: str, retailer_id: int) -> Partnership:
    """The retailer accepts an invitation by its code; the partnership becomes active."""
    partnership = db.session.execute(select(Partnership).where(Partnership.invite_code == code)).scalar_one_or_none()
    if partnership is None or partnership.status != "invited":
        raise PartnershipError("this invitation code is unknown or was already used")
    retailer = db.session.get(Organization, retailer_id)
    if retailer is None or retailer.kind != "retailer":
        raise PartnershipError("only a retailer can accept an invitation")
    taken = db.session.execute(
        select(Partnership.id).where(
            Partnership.wholesaler_id == partnership.wholesaler_id, Partnership.retailer_id == retailer_id
        )
    ).first()
    if taken:
        raise PartnershipError("this retailer already has a partnership with this wholesaler")
    partnership.retailer_id = retailer_id
    partnership.status, partnership.accepted_at = "active", utcnow()
    db.session.commit()
    return partnership


def set_status(partnership_id: int, status: str) -> Partnership:
    """Pause, resume or end a partnership (only the transitions in TRANSITIONS)."""
    partnership = _get(partnership_id)
    if status not in TRANSITIONS.get(partnership.status, set()):
        raise PartnershipError(f"a partnership that is {partnership.status} cannot become {status}")
    partnership.status = status
    db.session.commit()
    return partnership


def set_toggle(partnership_id: int, toggle: str, enabled: bool) -> Partnership:
    """Switch one of the eight sync toggles (each flow, each direction)."""
    if toggle not in SYNC_TOGGLES:
        raise PartnershipError(f"unknown toggle {toggle!r}; the toggles are: {', '.join(SYNC_TOGGLES)}")
    partnership = _get(partnership_id)
    setattr(partnership, toggle, bool(enabled))
    db.session.commit()
    return partnership


def set_force_overwrite(partnership_id: int, enabled: bool) -> Partnership:
    """With force overwrite every synced field is pushed on each run; without, only price and stock after load."""
    partnership = _get(partnership_id)
    partnership.force_overwrite = bool(enabled)
    db.session.commit()
    return partnership


# More units than any store holds of one item; keeps the column a small integer on every database.
MAX_STOCK_BUFFER = 1_000_000


def set_stock_buffer(partnership_id: int, units: int) -> Partnership:
    """Units held back from every SKU's stock shown to this retailer (oversell protection margin)."""
    if not 0 <= units <= MAX_STOCK_BUFFER:
        raise PartnershipError(f"the stock buffer is a whole number of units from 0 to {MAX_STOCK_BUFFER}")
    partnership = _get(partnership_id)
    partnership.stock_buffer = units
    db.session.commit()
    return partnership


def set_price_list(partnership_id: int, price_list_id: int | None) -> Partnership:
    """Put the partnership on one of its wholesaler's price lists (or none: retail = wholesale price)."""
    partnership = _get(partnership_id)
    if price_list_id is not None:
        price_list = db.session.get(PriceList, price_list_id)
        if price_list is None or price_list.wholesaler_id != partnership.wholesaler_id:
            raise PartnershipError("that price list is not this wholesaler's")
    partnership.price_list_id = price_list_id
    db.session.commit()
    return partnership


BILLING_GATEWAYS = ("stripe", "apruve")
BILLING_TERMS = ("card", "net")


def set_billing(partnership_id: int, gateway: str | None, terms: str = "card") -> Partnership:
    """Bill this retailer daily through the wholesaler's `gateway` on `terms` (card or net), or stop (None).

    Only says whether and how the daily billing job may bill; nothing is billed here.
    """
    if gateway is not None and gateway not in BILLING_GATEWAYS:
        raise PartnershipError(f"unknown gateway {gateway!r}; the gateways are: {', '.join(BILLING_GATEWAYS)}")
    if terms not in BILLING_TERMS:
        raise PartnershipError(f"unknown terms {terms!r}; the terms are: {', '.join(BILLING_TERMS)}")
    partnership = _get(partnership_id)
    partnership.billing_enabled = gateway is not None
    if gateway is not None:
        partnership.billing_gateway, partnership.billing_terms = gateway, terms
    db.session.commit()
    return partnership


def describe(partnership: Partnership) -> dict:
    """The partnership as a plain dict (CLI output, API)."""
    data = {
        "id": partnership.id,
        "wholesaler_id": partnership.wholesaler_id,
        "retailer_id": partnership.retailer_id,
        "status": partnership.status,
        "invite_code": partnership.invite_code,
        "price_list_id": partnership.price_list_id,
        "force_overwrite": partnership.force_overwrite,
        "stock_buffer": partnership.stock_buffer,
        "billing": partnership.billing_gateway if partnership.billing_enabled else None,
        "billing_terms": partnership.billing_terms,
    }
    data |= {toggle: getattr(partnership, toggle) for toggle in SYNC_TOGGLES}
    return data
