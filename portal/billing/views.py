"""Billing pages (invoices, tomorrow's preview, gateway setup, add a card) and the gateways' webhooks.

Nothing here starts billing: there is deliberately no route that claims or collects an invoice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from integrations.payments import GatewayError
from portal.billing import bp
from portal.extensions import csrf, db
from portal.models import GatewayAccount, Invoice, Organization, Partnership
from portal.services import billing as service
from portal.services.billing.events import EventDeferred
from portal.services.billing.ledger import card_updated
from portal.tenancy import current_org_id, get_owned_or_404, scoped

GATEWAYS = ("stripe", "apruve")


def _is_wholesaler() -> bool:
    org = db.session.get(Organization, current_org_id())
    return org is not None and org.kind == "wholesaler"


def _counterparty_names(partnerships) -> dict[int, str]:
    ids = {p.retailer_id for p in partnerships} | {p.wholesaler_id for p in partnerships}
    orgs = db.session.execute(select(Organization).where(Organization.id.in_(ids))).scalars()
    return {o.id: o.name for o in orgs}


@bp.get("/")
@login_required
def index():
    """Every partnership of this organization with its billing terms and latest invoices."""
    partnerships = db.session.execute(scoped(Partnership).order_by(Partnership.id)).scalars().all()
    latest = {}
    for p in partnerships:
        latest[p.id] = db.session.execute(
            select(Invoice).where(Invoice.partnership_id == p.id).order_by(Invoice.billing_date.desc()).limit(1)
        ).scalar_one_or_none()
    return render_template(
        "billing/index.html", partnerships=partnerships, latest=latest, names=_counterparty_names(partnerships),
        is_wholesaler=_is_wholesaler(), org_id=current_org_id(),
    )  # fmt: skip


@bp.get("/partnerships/<int:partnership_id>/invoices")
@login_required
def invoices(partnership_id: int):
    """The partnership's invoices, newest first, each with its lines and status."""
    partnership = get_owned_or_404(Partnership, partnership_id)
    rows = db.session.execute(
        scoped(Invoice).where(Invoice.partnership_id == partnership.id).order_by(Invoice.billing_date.desc())
    ).scalars()
    return render_template(
        "billing/invoices.html", partnership=partnership, invoices=list(rows),
        names=_counterparty_names([partnership]),
    )  # fmt: skip


@bp.get("/partnerships/<int:partnership_id>/preview")
@login_required
def preview(partnership_id: int):
    """For the wholesaler: what tomorrow's invoice would hold if the day ended now (computed, nothing written)."""
    partnership = get_owned_or_404(Partnership, partnership_id)
    if partnership.wholesaler_id != current_org_id():
        abort(404)
    lines = service.preview(partnership)
    db.session.rollback()  # belt and braces: a preview never leaves anything behind
    total = sum((line.amount for line in lines), start=0)
    return render_template(
        "billing/preview.html", partnership=partnership, lines=lines, total=total,
        names=_counterparty_names([partnership]),
    )  # fmt: skip


@bp.route("/gateway", methods=["GET", "POST"])
@login_required
def gateway():
    """The wholesaler connects its Stripe account (key or Connect id) and Apruve merchant; secrets stored encrypted."""
    if not _is_wholesaler():
        abort(403)
    accounts = {a.gateway: a for a in db.session.execute(scoped(GatewayAccount).order_by(GatewayAccount.id)).scalars()}
    if request.method == "POST" and request.form.get("form") == "schedule":
        return _save_schedule()
    if request.method == "POST":
        name = request.form.get("gateway", "")
        if name not in GATEWAYS:
            abort(400)
        account = accounts.get(name) or GatewayAccount(organization_id=current_org_id(), gateway=name)
        account.account_ref = request.form.get("account_ref", "").strip() or None
        secret = request.form.get("secret", "").strip()
        if secret:  # an empty field keeps the stored secret (it is never shown back)
            account.secret = secret
        db.session.add(account)
        db.session.commit()
        flash(f"{name.title()} account saved.", "success")
        return redirect(url_for("billing.gateway"))
    org = db.session.get(Organization, current_org_id())
    return render_template("billing/gateway.html", accounts=accounts, gateways=GATEWAYS, org=org)


def _save_schedule():
    """The wholesaler's daily billing time and timezone (the day closes then; billing follows within the hour)."""
    org = db.session.get(Organization, current_org_id())
    try:
        billing_time = datetime.strptime(request.form.get("billing_time", ""), "%H:%M").time()
        zone = request.form.get("timezone", "").strip()
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        flash("Give the time as HH:MM and a timezone such as America/New_York.", "error")
        return redirect(url_for("billing.gateway"))
    org.billing_time, org.timezone = billing_time, zone
    db.session.commit()
    flash(f"Billing runs daily at {billing_time:%H:%M} {zone}.", "success")
    return redirect(url_for("billing.gateway"))


@bp.post("/partnerships/<int:partnership_id>/card")
@login_required
def add_card(partnership_id: int):
    """For the retailer: open a Stripe-hosted Checkout page (setup mode); the card never touches our servers."""
    partnership = get_owned_or_404(Partnership, partnership_id)
    if partnership.retailer_id != current_org_id() or partnership.billing_gateway != "stripe":
        abort(404)
    done = url_for("billing.card_done", partnership_id=partnership.id, _external=True)
    # A setup session moves no money, so each click may get a fresh key.
    key = f"ws-setup-{partnership.id}-{current_user.id}-{uuid.uuid4().hex}"
    try:
        page = service.card_setup_url(partnership, done, url_for("billing.index", _external=True), key)
    except GatewayError as exc:  # the gateway refused or is down: say so on the page instead of a 500
        flash(f"The card page could not be opened: {exc}. Please try again later.", "error")
        return redirect(url_for("billing.index"))
    if page is None:
        flash("Your wholesaler has not connected Stripe yet.", "error")
        return redirect(url_for("billing.index"))
    return redirect(page, code=303)


@bp.get("/partnerships/<int:partnership_id>/card/done")
@login_required
def card_done(partnership_id: int):
    """Where Stripe sends the retailer back after saving a card; declined invoices are charged again next run."""
    partnership = get_owned_or_404(Partnership, partnership_id)
    if partnership.retailer_id == current_org_id():
        card_updated(partnership)
    flash("Card saved with Stripe. Your wholesaler will charge it once a day for what shipped.", "success")
    return redirect(url_for("billing.index"))


# --- webhooks (no login, no CSRF: the signature is the authentication) -------------------------------------------
def _gateway_webhook(gateway: str):
    """Verify the gateway's signature (forged, stale, unsigned -> 400, nothing stored), then apply once by event id.

    The body is read under the webhook size limit (413 beyond it, before it is buffered).
    """
    try:
        event = service.parse_webhook(gateway, request.get_data(), request.headers)
    except service.WebhookRejected as exc:
        return {"error": str(exc)}, 400
    try:
        return {"result": service.handle_event(event)}, 200
    except EventDeferred:  # the gateway could not be asked: nothing recorded, its redelivery tries again
        return {"error": "the gateway could not be reached; deliver again later"}, 503


def stripe_webhook():
    """Stripe: `Stripe-Signature` checked, and older than 300 s refused."""
    return _gateway_webhook("stripe")


def apruve_webhook():
    """Apruve: the shared-secret HMAC of the raw body."""
    return _gateway_webhook("apruve")


csrf.exempt(stripe_webhook)
csrf.exempt(apruve_webhook)


@bp.record_once
def _register_webhooks(state) -> None:
    """Mount the two webhooks at /webhooks/<gateway> (outside this blueprint's /billing prefix)."""
    state.app.add_url_rule("/webhooks/stripe", "billing.stripe_webhook", stripe_webhook, methods=["POST"])
    state.app.add_url_rule("/webhooks/apruve", "billing.apruve_webhook", apruve_webhook, methods=["POST"])
