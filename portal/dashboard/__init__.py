"""The wholesaler's dashboard (pages are added per area)."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    return redirect(url_for("dashboard.overview" if current_user.is_authenticated else "auth.login"))


@bp.get("/dashboard")
@login_required
def overview():
    return render_template("dashboard/overview.html")
