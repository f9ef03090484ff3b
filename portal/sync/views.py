"""Settings -> Sync: every job described for this account, dry run, Run now, the live panel and run history."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_htmx.responses import HTMXResponseStopPolling
from flask_login import login_required
from sqlalchemy import select

from jobs.manual import job_rows, org_targets, start_manual_run
from jobs.plan import BILLING_REFUSAL, ManualRunRefused, UnknownJob, get_manual_job
from jobs.preview import dry_run
from jobs.targets import load_target
from portal.extensions import db, htmx
from portal.models import ActivityLog, Organization, Partnership, SyncRun
from portal.services.sync import eta_seconds
from portal.services.text import page_number
from portal.sync import bp
from portal.tenancy import current_org_id, get_owned_or_404, scoped

PER_PAGE = 25


@bp.app_template_global("run_eta")
def run_eta(run: SyncRun) -> str | None:
    """'about 3 min' left for an open run with a pace, else None."""
    seconds = eta_seconds(run)
    if seconds is None:
        return None
    return f"about {round(seconds)} s" if seconds < 90 else f"about {round(seconds / 60)} min"


@bp.app_template_global("target_label")
def target_label(key: str) -> str:
    """A person's name for a target key: the retailer of a partnership, or a connection's shop."""
    row = load_target(key)
    if isinstance(row, Partnership):
        org = db.session.get(Organization, row.retailer_id) if row.retailer_id else None
        return org.name if org else row.invite_email or key
    return getattr(row, "address", None) or key


def _manual_spec(name: str | None):
    """The job a person asked for; 404 for unknown names, 403 with the reason for billing."""
    try:
        return get_manual_job(name or "")
    except UnknownJob:
        abort(404)
    except ManualRunRefused as refusal:
        abort(403, str(refusal))


@bp.get("/")
@login_required
def index():
    """Settings -> Sync: each job with its description for this account, last and next run, and Run now."""
    rows = job_rows(current_org_id())
    return render_template("sync/index.html", rows=rows, billing_refusal=BILLING_REFUSAL)


@bp.get("/dry-run")
@login_required
def preview():
    """What Run now would do on each of this account's targets, computed without writing anything."""
    spec = _manual_spec(request.args.get("job"))
    previews = [dry_run(spec.name, key) for key in org_targets(spec, current_org_id())]
    template = "sync/_dry_run.html" if htmx else "sync/dry_run.html"
    return render_template(template, spec=spec, previews=previews)


@bp.post("/run")
@login_required
def run_now():
    """Run now: one run per target; htmx gets the live panels, a plain form post goes back to the page."""
    spec = _manual_spec(request.form.get("job"))
    started = start_manual_run(spec.name, current_org_id())
    # A run on a partner's store (a wholesaler pulling its retailers' orders) belongs to the retailer: its panel
    # would show the store's other suppliers' orders, so only a line says it started; the orders appear as usual.
    runs = [r for r in started if r.organization_id == current_org_id()]
    on_partners = len(started) - len(runs)
    if htmx:
        return render_template("sync/_run_panels.html", runs=runs, spec=spec, on_partners=on_partners)
    message = f"{spec.name}: started {len(started)} run(s)." if started else f"{spec.name}: nothing to run on."
    if on_partners:
        message += f" {on_partners} on partners' stores: new orders appear under Orders."
    flash(message, "info")
    return redirect(url_for("sync.index"))


@bp.get("/runs/<int:sync_run_id>")
@login_required
def run_panel(sync_run_id: int):
    """The run's panel; as an htmx poll of a finished run it answers htmx's stop-polling status."""
    run = get_owned_or_404(SyncRun, sync_run_id)
    if not htmx:
        activity = select(ActivityLog).where(ActivityLog.sync_run_id == run.id).order_by(ActivityLog.id)
        page = db.paginate(activity, page=page_number(request.args.get("page")), per_page=PER_PAGE, error_out=False)
        return render_template("sync/run.html", run=run, activity=page)
    html = render_template("sync/_run_panel.html", run=run)
    return HTMXResponseStopPolling(html) if run.finished else html


@bp.get("/runs")
@login_required
def history():
    """Every run of this account, newest first, filterable by job, paginated in the database."""
    query = scoped(SyncRun).order_by(SyncRun.id.desc())
    if request.args.get("job"):
        query = query.where(SyncRun.job_name == request.args["job"])
    page = db.paginate(query, page=page_number(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    return render_template("sync/history.html", page=page, job=request.args.get("job", ""))
