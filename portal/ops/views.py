"""The operator view (operator role only): tenants' sync health, queue depths, failed jobs with retry."""

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from jobs import queues
from portal.ops import bp
from portal.services import dashboard, ops


def operator_required(view):
    """Only operators; everyone else gets 403 (they are signed in, just not allowed)."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_operator:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/")
@operator_required
def index():
    """Every tenant's last day of runs, queue depths and the failed jobs."""
    failed_count, failed_records = dashboard.failed_records()
    return render_template(
        "ops/index.html", tenants=ops.tenant_health(), queues=queues.queue_depths(), failed=queues.failed_jobs(),
        failed_count=failed_count, failed_records=failed_records,
    )  # fmt: skip


@bp.post("/failed/retry")
@operator_required
def retry():
    """Put one failed RQ job back on its queue."""
    rq_job_id = request.form.get("job", "")
    if queues.retry_failed(rq_job_id):
        flash(f"Requeued {rq_job_id}.", "info")
    else:
        flash(f"No failed job {rq_job_id}.", "error")
    return redirect(url_for("ops.index"))
