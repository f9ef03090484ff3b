"""The feed settings page (wholesalers only) and its catalog preview; logic lives in portal.services.feeds."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from integrations.feeds.settings import CATALOG_FIELDS, FIELDS
from portal.extensions import db
from portal.feeds import bp
from portal.feeds.forms import FeedForm
from portal.models import Organization
from portal.services import feeds as service
from portal.tenancy import current_org_id


def _wholesaler() -> Organization:
    org = db.session.get(Organization, current_org_id())
    if org is None or org.kind != "wholesaler":
        abort(403)
    return org


def _page(org, form: FeedForm, errors: dict, preview=None, status: int = 200):
    conn = service.feed_connection(org)
    return render_template("feeds/settings.html", form=form, errors=errors, connection=conn, preview=preview,
                           fields=FIELDS, catalog_fields=CATALOG_FIELDS), status  # fmt: skip


@bp.get("/")
@login_required
def settings():
    """The saved settings (defaults before the first save)."""
    org = _wholesaler()
    return _page(org, FeedForm.from_settings(service.current_settings(org)), {})


@bp.post("/")
@login_required
def save():
    """Save the settings, then show the first catalog rows as the mapping reads them."""
    org = _wholesaler()
    form = FeedForm.from_request(request.form)
    errors = form.validate()
    if not errors:
        try:
            conn = service.save(org, form.values, form.private_key, form.authorization)
        except service.FeedSettingsRefused as exc:
            errors = {"form": str(exc)}
        else:
            flash("Feed settings saved.", "success")
            return _page(org, FeedForm.from_settings(service.current_settings(org)), {}, service.preview(conn))
    return _page(org, form, errors, status=400)


@bp.post("/preview")
@login_required
def preview():
    """Read the catalog file now with the saved settings and show its first rows as mapped."""
    org = _wholesaler()
    conn = service.feed_connection(org)
    if conn is None:
        return redirect(url_for("feeds.settings"))
    return _page(org, FeedForm.from_settings(service.current_settings(org)), {}, service.preview(conn))
