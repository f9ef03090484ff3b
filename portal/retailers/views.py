"""GET/POST /retailers/signup: a retailer account from a wholesaler's invitation, then on to connect its shop."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from portal.retailers import bp
from portal.retailers.forms import RetailerSignupForm
from portal.services.retailers import SignupError, sign_up_with_invitation


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create the retailer, its first user and the partnership; then connect the WooCommerce shop."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.overview"))
    form = RetailerSignupForm()
    if request.method == "GET" and request.args.get("code"):
        form.invite_code.data = request.args["code"][:64]
    if form.validate_on_submit():
        try:
            user, _partnership = sign_up_with_invitation(
                form.invite_code.data, form.organization.data, form.email.data, form.password.data
            )
        except SignupError as err:
            flash(str(err), "error")
            return render_template("retailers/signup.html", form=form), 400
        login_user(user)
        flash("Your account is ready. Connect your WooCommerce shop to receive your supplier's catalog.", "success")
        return redirect(url_for("woocommerce.connect"))
    status = 400 if request.method == "POST" else 200
    return render_template("retailers/signup.html", form=form), status
