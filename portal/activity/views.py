"""The activity log: every add / edit / delete the hub made, by day, filterable, paginated in the database."""

from datetime import UTC, date, datetime, timedelta

from flask import abort, render_template, request
from flask_login import login_required

from portal.activity import bp
from portal.extensions import db, htmx
from portal.models import ActivityLog
from portal.services.text import page_number, whole_number
from portal.tenancy import scoped

PER_PAGE = 50
ACTIONS = ("add", "edit", "delete")


def _query(args):
    query = scoped(ActivityLog).order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())
    if args.get("action") in ACTIONS:
        query = query.where(ActivityLog.action == args["action"])
    if args.get("record_type"):
        query = query.where(ActivityLog.record_type == args["record_type"])
    if (run := whole_number(args.get("run"))) is not None:
        query = query.where(ActivityLog.sync_run_id == run)
    if args.get("day"):
        try:
            day = date.fromisoformat(args["day"])
        except ValueError:
            abort(400, "day must be a date like 2026-11-26")
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        query = query.where(ActivityLog.created_at >= start, ActivityLog.created_at < start + timedelta(days=1))
    return query


@bp.app_template_filter("groupby_day")
def groupby_day(entries):
    """[(date, [entries...]), ...] in the order given (newest day first)."""
    days: dict = {}
    for entry in entries:
        days.setdefault(entry.created_at.date().isoformat(), []).append(entry)
    return list(days.items())


@bp.get("/")
@login_required
def index():
    """Entries newest first, grouped by day on the page; filter by action, record type, day or run."""
    args = request.args.to_dict()
    page = db.paginate(_query(args), page=page_number(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    return render_template("activity/_table.html" if htmx else "activity/index.html", page=page, args=args,
                           actions=ACTIONS)  # fmt: skip
