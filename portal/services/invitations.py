"""Invitations that arrive: the e-mail with a link that installs the Shopify app or opens the retailer sign-up,
carrying the invitation code, so the retailer never types it.

The link opens /join/<code>. A Shopify retailer gives its shop's address there; the code is remembered for that
shop (in Redis, INVITE_TTL) and the shop is sent to the app's install page; once the app opens in that shop's
admin, the invitation waits on its Partners tab to be accepted with one click. Other platforms go to the sign-up.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import current_app, url_for
from sqlalchemy import select

from portal.extensions import db
from portal.models import Organization, Partnership
from portal.redis_conn import get_redis
from portal.services import mail

log = logging.getLogger(__name__)

INVITE_TTL = 30 * 24 * 3600  # how long a shop remembers the invitation it came with (seconds)
_KEY = "invite-shop:{shop}"


class InvitationNotSent(RuntimeError):
    """The e-mail could not be sent; the message says why, for the wholesaler."""


def _app_url() -> str:
    return str(current_app.config.get("SHOPIFY_APP_URL") or "").rstrip("/")


def join_url(partnership: Partnership) -> str:
    """The invitation link: our public page for this code."""
    return _app_url() + url_for("invitations.join", code=partnership.invite_code)


def open_invitation(code: str) -> tuple[Partnership, Organization] | None:
    """The invitation (and its wholesaler) while it can still be accepted; None once used, revoked or unknown."""
    row = db.session.execute(
        select(Partnership, Organization)
        .join(Organization, Organization.id == Partnership.wholesaler_id)
        .where(Partnership.invite_code == code, Partnership.status == "invited")
    ).first()
    return (row[0], row[1]) if row else None


def shopify_install_url(shop: str) -> str:
    """Where a shop installs the app: Shopify's install page for our client id, or the local sandbox admin's app
    page when the product talks to the sandbox."""
    base = current_app.config.get("SHOPIFY_ADMIN_BASE_URL")
    if base:
        return f"{base.rstrip('/')}/_sandbox/admin/{shop}/apps/wholesync"
    return f"https://{shop}/admin/oauth/install?" + urlencode({"client_id": current_app.config["SHOPIFY_API_KEY"]})


def remember_for_shop(shop: str, code: str) -> None:
    """Keep the code for the shop that is about to install the app."""
    get_redis().set(_KEY.format(shop=shop), code, ex=INVITE_TTL)


def pending_for_shop(shop: str) -> tuple[Partnership, Organization] | None:
    """The invitation a shop came with, while it can still be accepted; a Redis outage just shows none."""
    try:
        code = get_redis().get(_KEY.format(shop=shop))
    except Exception:  # the retailer can still type the code from the e-mail
        log.warning("pending invitation of %s not readable", shop, exc_info=True)
        return None
    if not code:
        return None
    return open_invitation(code.decode() if isinstance(code, bytes) else code)


def forget_for_shop(shop: str) -> None:
    """Drop the remembered code once it was accepted."""
    get_redis().delete(_KEY.format(shop=shop))


def send_invitation(partnership: Partnership) -> str:
    """E-mail the invitation to the partnership's invite address; returns the address. InvitationNotSent if not."""
    if partnership.status != "invited":
        raise InvitationNotSent("this invitation was already accepted or revoked")
    if not partnership.invite_email:
        raise InvitationNotSent("this invitation has no e-mail address")
    if not mail.enabled():
        raise InvitationNotSent("e-mail is not configured on this server (MAIL_SERVER)")
    wholesaler = db.session.get(Organization, partnership.wholesaler_id)
    link = join_url(partnership)
    signup = _app_url() + url_for("retailers.signup", code=partnership.invite_code)
    body = (
        f"{wholesaler.name} invites you to sell its products in your store through Wholesync: its catalog arrives in "
        f"your store unpublished, your orders reach it by themselves and tracking comes back.\n\n"
        f"Accept the invitation here (installs the Wholesync app on your Shopify store):\n{link}\n\n"
        f"Not on Shopify? Create your account here:\n{signup}\n\n"
        f"Your invitation code, if you are asked for it: {partnership.invite_code}\n"
    )
    try:
        mail.send([partnership.invite_email], f"{wholesaler.name} invites you to Wholesync", body)
    except Exception as exc:  # SMTP refusals and network errors alike: the wholesaler is told, nothing is lost
        log.warning("invitation %s not sent", partnership.id, exc_info=True)
        raise InvitationNotSent(f"the e-mail could not be sent ({type(exc).__name__})") from exc
    return partnership.invite_email
