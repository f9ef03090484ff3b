"""The progress panel of one SyncRun; htmx polls it while the run is open and it stops itself when done."""

from flask import render_template
from flask_login import login_required

from portal.extensions import htmx
from portal.models import SyncRun
from portal.sync import bp
from portal.tenancy import get_owned_or_404

HTMX_STOP_POLLING = 286


@bp.get("/runs/<int:sync_run_id>")
@login_required
def run_panel(sync_run_id: int):
    """The run's panel; as an htmx poll of a finished run it answers 286 so htmx stops polling."""
    run = get_owned_or_404(SyncRun, sync_run_id)
    if not htmx:
        return render_template("sync/run.html", run=run)
    status = HTMX_STOP_POLLING if run.finished else 200
    return render_template("sync/_run_panel.html", run=run), status
