"""The `alerts.scan` job: picked once per wholesaler each quarter hour, run through the job runtime, safe by hand."""

from __future__ import annotations

from datetime import timedelta

from jobs.flows.alerts import wholesaler_targets
from jobs.plan import get_manual_job
from jobs.runtime import dispatch, run_job
from portal.extensions import db
from portal.models import SyncRun, utcnow
from tests.support import factories


def test_each_wholesaler_is_scanned_once_per_slot_whatever_its_number_of_partners(app):
    _user, ws, _sor, _rt, _store, p = factories.trading_pair()
    factories.partnership(ws, factories.retailer())
    _other_user, _other_ws, _other_sor, _other_rt, _other_store, other_p = factories.trading_pair()
    assert wholesaler_targets(slot=7) == [
        (f"partnership:{p.id}", ("slot", 7)),
        (f"partnership:{other_p.id}", ("slot", 7)),
    ]
    assert len(dispatch("alerts.scan", 7)) == 2
    assert dispatch("alerts.scan", 7) == []  # a double fire in the same slot enqueues nothing more


def test_a_run_of_the_scan_emails_the_failure_and_a_second_run_by_hand_does_not(app, inbox):
    user, ws, sor, _rt, _store, p = factories.trading_pair()
    db.session.add(
        SyncRun(
            job_name="orders.push", organization_id=ws.id, target_key=f"connection:{sor.id}", trigger="schedule",
            status="failed", attempts=3, message="Attempt 3 failed: boom.", finished_at=utcnow() - timedelta(minutes=3),
        )
    )  # fmt: skip
    db.session.commit()
    assert get_manual_job("alerts.scan").manual
    first = run_job("alerts.scan", f"partnership:{p.id}", "schedule")
    second = run_job("alerts.scan", f"partnership:{p.id}", "manual")
    assert first["status"] == second["status"] == "done"
    assert len(inbox.to(user.email)) == 1
    run = db.session.get(SyncRun, first["id"])
    assert "1 open alert(s), 1 new" in run.message and "1 e-mail(s)" in run.message
