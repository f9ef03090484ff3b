"""/login, /logout and /signup."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import bp
from portal.auth.forms import LoginForm, SignupForm
from portal.extensions import db, limiter, login_manager
from portal.models import User
from portal.services.accounts import AccountError, authenticate, create_wholesaler


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _email_key() -> str:
    return "login-email:" + request.form.get("email", "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_EMAIL"], key_func=_email_key, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.overview"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(url_for("dashboard.overview"))
        flash("Wrong e-mail address or password.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_LIMIT_PER_IP"], methods=["POST"])
def signup():
    """Create a wholesaler organization and its first user; throttled per client address (no login needed)."""
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = create_wholesaler(form.organization.data, form.email.data, form.password.data)
        except AccountError as err:
            flash(str(err), "error")
            return render_template("auth/signup.html", form=form), 400
        login_user(user)
        return redirect(url_for("dashboard.overview"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))
