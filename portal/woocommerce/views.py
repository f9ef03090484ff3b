"""Connect a WooCommerce shop (the connect page, WooCommerce's key callback and return page); logic lives in
portal.services.woocommerce."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.extensions import csrf, db
from portal.models import Connection, Organization
from portal.services import woocommerce as service
from portal.tenancy import current_org_id
from portal.woocommerce import bp
from portal.woocommerce.forms import ConnectForm


def _org() -> Organization:
    return db.session.get(Organization, current_org_id())


def _connection(org: Organization) -> Connection | None:
    return next((c for c in org.connections if c.platform == "woocommerce"), None)


@bp.get("/connect")
@login_required
def connect():
    """The connect page: approve in WooCommerce, or paste keys."""
    org = _org()
    return render_template("woocommerce/connect.html", form=ConnectForm(), errors={}, connection=_connection(org),
                           role=service.role_for(org))  # fmt: skip


@bp.post("/connect")
@login_required
def connect_post():
    """Pasted keys are checked and stored; otherwise the merchant goes to WooCommerce to approve."""
    org = _org()
    form = ConnectForm.from_request(request.form)
    errors = form.validate()
    if not errors:
        try:
            if form.method == "keys":
                conn = service.connect_with_keys(org, form.site, form.consumer_key, form.consumer_secret)
                flash(f"Connected {conn.address}.", "success")
                return redirect(url_for("woocommerce.connect"))
            return redirect(
                service.start_authorization(
                    org,
                    form.site,
                    return_url=url_for("woocommerce.returned", _external=True),
                    callback_url=url_for("woocommerce.callback", _external=True),
                )
            )
        except service.ConnectError as exc:
            errors = {"form": str(exc)}
    status = 400
    return render_template("woocommerce/connect.html", form=form, errors=errors, connection=_connection(org),
                           role=service.role_for(org)), status  # fmt: skip


@bp.post("/callback")
@csrf.exempt
def callback():
    """WooCommerce posts the approved key here (server to server); only an exact 200 keeps the key."""
    try:
        conn = service.receive_keys(request.get_json(silent=True) or {})
    except service.ConnectError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(status="connected", connection=conn.id), 200


@bp.get("/return")
@login_required
def returned():
    """Where WooCommerce sends the merchant back (`success=1` approved, `success=0` denied)."""
    if service.state_organization(request.args.get("user_id", "")) != current_user.organization_id:
        flash("This authorization was not started from your account.", "error")
    elif request.args.get("success") == "1":
        flash("WooCommerce approved the connection.", "success")
    else:
        flash("The connection was not approved in WooCommerce.", "error")
    return redirect(url_for("woocommerce.connect"))
