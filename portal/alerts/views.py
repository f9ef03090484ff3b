"""Alert pages: what is open now for the signed-in person's organization, and their own e-mail settings."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.alerts import bp
from portal.services import alerts, mail


def _org_scope() -> int | None:
    """The operator sees every organization's alerts; everyone else only their own."""
    return None if current_user.is_operator else current_user.organization_id


@bp.get("/")
@login_required
def index():
    """The open alerts, newest first, with a link to the settings."""
    return render_template("alerts/index.html", alerts=alerts.open_alerts(_org_scope()), kinds=alerts.KINDS)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The signed-in person's alert e-mails: at once, a daily digest, and the kinds not to e-mail at once."""
    setting = alerts.setting_for(current_user)
    if request.method == "POST":
        alerts.save_settings(
            current_user,
            immediate=bool(request.form.get("immediate")),
            daily_digest=bool(request.form.get("daily_digest")),
            muted=request.form.getlist("muted"),
        )
        flash("Alert settings saved.")
        return redirect(url_for("alerts.settings"))
    muted = set((setting.muted_kinds or "").split(","))
    return render_template(
        "alerts/settings.html", setting=setting, muted=muted, kinds=alerts.KINDS, mail_enabled=mail.enabled()
    )
