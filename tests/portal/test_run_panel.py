"""The live panel: polls while open, shows progress, failures and ETA, and stops itself (286, no trigger) when done."""

from datetime import timedelta

from portal.extensions import db
from portal.models import SyncRun, utcnow

HX = {"HX-Request": "true"}


def _run(org, **kw) -> SyncRun:
    run = SyncRun(job_name="products.push", organization_id=org.id, target_key="partnership:1", trigger="manual", **kw)
    db.session.add(run)
    db.session.commit()
    return run


def test_an_open_run_keeps_polling_and_shows_progress_and_eta(client, signed_in):
    run = _run(signed_in.org, status="running", total=100, done=25, started_at=utcnow() - timedelta(seconds=30))
    response = client.get(f"/sync/runs/{run.id}", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in html and "25 / 100" in html
    assert "about 90 s" in html or "about 2 min" in html  # 30 s for 25 -> ~90 s for the other 75


def test_a_finished_run_answers_286_without_a_trigger(client, signed_in):
    run = _run(signed_in.org, status="done", total=5, done=5, started_at=utcnow(), finished_at=utcnow())
    response = client.get(f"/sync/runs/{run.id}", headers=HX)
    assert response.status_code == 286
    assert "hx-trigger" not in response.get_data(as_text=True)


def test_failures_are_listed_with_their_reasons(client, signed_in):
    failures = [{"record": "SKU-9", "reason": "price missing"}]
    run = _run(signed_in.org, status="failed", total=3, done=3, failed=1, failures=failures, finished_at=utcnow())
    html = client.get(f"/sync/runs/{run.id}", headers=HX).get_data(as_text=True)
    assert "SKU-9" in html and "price missing" in html


def test_the_run_page_lists_what_the_run_changed(client, signed_in):
    html = client.get("/sync/runs").get_data(as_text=True)
    assert "products.push" in html
    run_id = db.session.query(SyncRun.id).filter_by(trigger="schedule").scalar()
    page = client.get(f"/sync/runs/{run_id}").get_data(as_text=True)
    assert "Created Product 1 unpublished" in page


def test_runs_started_by_the_scheduler_show_on_the_sync_page_while_open(client, signed_in):
    run = SyncRun(
        job_name="inventory.push",
        organization_id=signed_in.org.id,
        target_key="partnership:1",
        trigger="schedule",
        status="running",
        total=10,
        done=2,
    )
    db.session.add(run)
    db.session.commit()
    html = client.get("/sync/").get_data(as_text=True)
    section = html.split('data-job="inventory.push"')[1].split("</article>")[0]
    assert f'id="run-{run.id}"' in section and 'hx-trigger="every 2s"' in section
