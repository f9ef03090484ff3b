"""GET /join/<code>: who invites you and the two ways in; POST /join/<code>/shopify: install on your shop."""

from __future__ import annotations

from flask import redirect, render_template, request

from integrations.shopify import auth
from portal.invitations import bp
from portal.services import invitations


def _gone():
    return render_template("invitations/gone.html"), 404


@bp.get("/<code>")
def join(code: str):
    """The invitation: the wholesaler's name, a shop-address form for Shopify, a sign-up link otherwise."""
    found = invitations.open_invitation(code[:64])
    if found is None:
        return _gone()
    partnership, wholesaler = found
    return render_template("invitations/join.html", code=partnership.invite_code, wholesaler=wholesaler, error=None)


@bp.post("/<code>/shopify")
def install(code: str):
    """Remember the code for the shop and send it to the app's install page."""
    found = invitations.open_invitation(code[:64])
    if found is None:
        return _gone()
    partnership, wholesaler = found
    raw = (request.form.get("shop") or "").strip().lower().removeprefix("https://").removeprefix("http://")
    shop = auth.valid_shop(raw.rstrip("/") if "." in raw else f"{raw}.myshopify.com")
    if shop is None:
        error = "Enter your store's address like your-store.myshopify.com."
        context = dict(code=partnership.invite_code, wholesaler=wholesaler, error=error)
        return render_template("invitations/join.html", **context), 400
    invitations.remember_for_shop(shop, partnership.invite_code)
    return redirect(invitations.shopify_install_url(shop))
