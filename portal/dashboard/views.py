"""The wholesaler's overview: sync health per partner, stuck orders, and where to go next."""

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.dashboard import bp
from portal.services import dashboard
from portal.services.connections import lost_access
from portal.services.orders import count_stuck
from portal.tenancy import current_org_id


@bp.get("/")
def index():
    """The front door: the dashboard when signed in, the login page otherwise."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("ops.index" if current_user.is_operator else "dashboard.overview"))


@bp.get("/dashboard")
@login_required
def overview():
    """Sync health per partner: last success per flow, failures in the last day, lag; and stuck orders."""
    if current_user.is_operator and current_user.organization_id is None:
        return redirect(url_for("ops.index"))
    org_id = current_org_id()
    failed_count, failed_records = dashboard.failed_records(org_id)
    return render_template(
        "dashboard/overview.html", health=dashboard.overview(org_id), stuck=count_stuck(),
        failed_count=failed_count, failed_records=failed_records, reconnect=lost_access(org_id),
    )  # fmt: skip
