"""Partners: the list, invitations by email with a price list, each partnership's flags and toggles, CSV upload."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from jobs.runtime import request_run
from portal.extensions import db
from portal.models import SYNC_TOGGLES, Organization, Partnership, PriceList
from portal.partners import bp
from portal.services import invitations, partnerships, stock
from portal.services.partners_csv import import_partners
from portal.services.text import page_number, whole_number
from portal.tenancy import current_org_id, get_owned_or_404, scoped

PER_PAGE = 50
INVOICE_PERIODS = ("daily", "monthly")
MAX_HOLD_MINUTES = 1440  # a day: longer would break the two-hour promise many times over


def _hold_minutes(raw: str | None) -> int:
    """The hold window typed on the partner page, in whole minutes from 0 to a day; anything else is refused."""
    text = (raw or "0").strip() or "0"
    minutes = whole_number(text)
    if minutes is None or minutes > MAX_HOLD_MINUTES:
        raise partnerships.PartnershipError(
            f"The hold window must be a whole number of minutes from 0 to {MAX_HOLD_MINUTES}; nothing was saved."
        )
    return minutes


def _own(partnership_id: int) -> Partnership:
    """A partnership this wholesaler supplies (a retailer may see a partnership, but not change its terms)."""
    partnership = get_owned_or_404(Partnership, partnership_id)
    if partnership.wholesaler_id != current_org_id():
        abort(404)
    return partnership


def _price_lists():
    return db.session.execute(scoped(PriceList).order_by(PriceList.name)).scalars().all()


def _price_list_id(raw: str | None) -> int | None:
    return whole_number(raw)


@bp.get("/")
@login_required
def index(errors=None, status=200):
    """Every partnership with its retailer, status, price list and flags; the invite and upload forms."""
    query = scoped(Partnership).order_by(Partnership.id.desc())
    page = db.paginate(query, page=page_number(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    retailer_ids = [p.retailer_id for p in page.items if p.retailer_id]
    names = dict(
        db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(retailer_ids))).all()
    )
    context = dict(page=page, names=names, price_lists=_price_lists(), errors=errors or [])
    return render_template("partners/index.html", **context), status


@bp.post("/invite")
@login_required
def invite():
    """Invite a retailer by email on one of this wholesaler's price lists."""
    email = request.form.get("email", "").strip()
    if "@" not in email:
        flash("Give the retailer's e-mail address.", "error")
        return index(status=400)
    try:
        partnership = partnerships.invite(current_org_id(), email, _price_list_id(request.form.get("price_list")))
    except partnerships.PartnershipError as err:
        flash(str(err), "error")
        return index(status=400)
    _send(partnership)
    return redirect(url_for("partners.index"))


def _send(partnership: Partnership) -> None:
    """E-mail the invitation and say so; when it cannot go, say why and give the link to pass on by hand."""
    try:
        flash(f"Invitation sent to {invitations.send_invitation(partnership)}.", "info")
    except invitations.InvitationNotSent as err:
        flash(
            f"Invitation for {partnership.invite_email} created, but not sent: {err}. "
            f"Give them this link: {invitations.join_url(partnership)}",
            "error",
        )


@bp.post("/upload")
@login_required
def upload():
    """Partner CSV: good lines become invitations, bad lines are listed with their line number and reason."""
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("Choose a CSV file to upload.", "error")
        return index(status=400)
    result = import_partners(current_org_id(), file.read())
    flash(result.summary(), "error" if result.file_error else "info")
    return index(errors=result.errors, status=422 if result.file_error or result.errors else 200)


@bp.get("/<int:partnership_id>")
@login_required
def show(partnership_id: int):
    """One partnership's settings: price list, flags, the eight toggles and its invitation."""
    return _show(_own(partnership_id))


def _show(partnership: Partnership, status: int = 200, **extra):
    retailer = db.session.get(Organization, partnership.retailer_id) if partnership.retailer_id else None
    transitions = sorted(partnerships.TRANSITIONS.get(partnership.status, ()))
    extra.setdefault("counted", set(stock.counted_location_ids(partnership)))
    extra["locations"] = stock.wholesaler_locations(partnership.wholesaler_id)
    return render_template("partners/show.html", p=partnership, retailer=retailer, price_lists=_price_lists(),
                           toggles=SYNC_TOGGLES, transitions=transitions,
                           invitation_link=invitations.join_url(partnership), **extra), status  # fmt: skip


@bp.post("/<int:partnership_id>")
@login_required
def update(partnership_id: int):
    """Save the price list, force overwrite, billing flag, stock buffer, hold window and the eight toggles."""
    partnership = _own(partnership_id)
    form = request.form
    try:
        hold_minutes = _hold_minutes(form.get("hold_minutes"))  # checked first: a refusal saves nothing
        invoice_period = form.get("invoice_period") or "daily"
        if invoice_period not in INVOICE_PERIODS:
            raise partnerships.PartnershipError("Invoices are daily or a monthly statement; nothing was saved.")
        partnerships.set_price_list(partnership.id, _price_list_id(form.get("price_list")))
        partnerships.set_force_overwrite(partnership.id, "force_overwrite" in form)
        partnerships.set_stock_buffer(partnership.id, form.get("stock_buffer", 0, type=int) or 0)
        for toggle in SYNC_TOGGLES:
            partnerships.set_toggle(partnership.id, toggle, toggle in form)
    except partnerships.PartnershipError as err:
        flash(str(err), "error")
        return redirect(url_for("partners.show", partnership_id=partnership.id))
    # The billing flag only says whether the daily billing job may bill this retailer; it never starts billing.
    partnership.billing_enabled = "billing_enabled" in form
    partnership.hold_minutes = hold_minutes
    partnership.invoice_period = invoice_period
    if form.get("returns_credit") in ("yes", "no"):  # absent: unchanged
        partnership.returns_credit = form["returns_credit"] == "yes"
    db.session.commit()
    flash("Saved.", "info")
    return redirect(url_for("partners.show", partnership_id=partnership.id))


@bp.post("/<int:partnership_id>/resend")
@login_required
def resend(partnership_id: int):
    """Send the invitation e-mail again, with the same code."""
    partnership = _own(partnership_id)
    _send(partnership)
    return redirect(url_for("partners.show", partnership_id=partnership.id))


@bp.post("/<int:partnership_id>/revoke")
@login_required
def revoke(partnership_id: int):
    """Withdraw an invitation not yet accepted: its link and code stop working."""
    partnership = _own(partnership_id)
    if partnership.status != "invited":
        flash("Only an invitation not yet accepted can be revoked.", "error")
    else:
        partnerships.set_status(partnership.id, "ended")
        flash(f"Invitation for {partnership.invite_email or 'this retailer'} revoked.", "info")
    return redirect(url_for("partners.show", partnership_id=partnership.id))


@bp.post("/<int:partnership_id>/status")
@login_required
def set_status(partnership_id: int):
    """Pause, resume or end the partnership."""
    partnership = _own(partnership_id)
    try:
        partnerships.set_status(partnership.id, request.form.get("status", ""))
    except partnerships.PartnershipError as err:
        flash(str(err), "error")
    return redirect(url_for("partners.show", partnership_id=partnership.id))


@bp.post("/<int:partnership_id>/locations")
@login_required
def set_locations(partnership_id: int):
    """Which of the wholesaler's locations count for this retailer: preview the level changes, save (and push the
    retailer's stock again), or go back to the default (locations that fulfil online orders)."""
    partnership = _own(partnership_id)
    action = request.form.get("action", "save")
    try:
        chosen = (
            None if action == "default" else stock.check_location_ids(partnership, request.form.getlist("location"))
        )
    except stock.StockLocationRefused as err:
        flash(str(err), "error")
        return _show(partnership, status=400)
    if action == "preview":
        proposed = chosen
        if proposed is None:
            proposed = stock.default_location_ids(stock.wholesaler_locations(partnership.wholesaler_id))
        return _show(partnership, counted=set(proposed), preview=stock.preview_locations(partnership, proposed))
    stock.set_location_ids(partnership, chosen)
    if partnership.status == "active" and partnership.sync_inventory_to_retailer and partnership.placement:
        request_run("inventory.push", f"partnership:{partnership.id}")
        flash("Saved. The retailer's stock is being pushed again from these locations.", "info")
    else:
        flash("Saved. The retailer's stock follows these locations from its first push.", "info")
    return redirect(url_for("partners.show", partnership_id=partnership.id))
