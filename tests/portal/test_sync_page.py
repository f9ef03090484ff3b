"""Settings -> Sync: every job described for this account, Run now per target, billing listed but never runnable."""

from sqlalchemy import func, select

from jobs.plan import BILLING_REFUSAL, SYNC_PLAN
from jobs.preview import DryRun
from portal.extensions import db
from portal.models import SyncRun
from tests.conftest import csrf_token


def _runs() -> int:
    return db.session.execute(select(func.count(SyncRun.id))).scalar_one()


def test_sync_page_lists_every_job_with_a_description_counted_for_this_account(client, signed_in):
    html = client.get("/sync/").get_data(as_text=True)
    for spec in SYNC_PLAN:
        assert f'data-job="{spec.name}"' in html
    assert "Send 3 products to 1 retailer&#39;s store; new products arrive unpublished." in html
    assert "Create 2 orders waiting in Wholesync" in html


def test_sync_page_shows_the_last_run_and_when_the_job_runs_next(client, signed_in):
    html = client.get("/sync/").get_data(as_text=True)
    section = html.split('data-job="products.push"')[1].split("</article>")[0]
    assert "done" in section and "(schedule)" in section
    assert "Next scheduled run" in section and "UTC" in section  # last scheduled run + 8 h


def test_billing_is_listed_with_its_refusal_and_no_control(client, signed_in):
    html = client.get("/sync/").get_data(as_text=True)
    section = html.split('data-job="billing.run"')[1].split("</article>")[0]
    assert BILLING_REFUSAL.replace("'", "&#39;") in section
    assert "<form" not in section and "<button" not in section and "hx-" not in section


def test_run_now_starts_one_run_per_partnership_and_swaps_in_a_polling_panel(client, signed_in, world):
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    response = client.post(
        "/sync/run", data={"job": "products.push", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    run = db.session.execute(select(SyncRun).where(SyncRun.trigger == "manual")).scalar_one()
    assert (run.job_name, run.target_key, run.status) == (
        "products.push",
        f"partnership:{world.partnership.id}",
        "queued",
    )
    html = response.get_data(as_text=True)
    assert f'id="run-{run.id}"' in html and 'hx-trigger="every 2s"' in html


def test_run_now_without_htmx_redirects_back_to_the_page(client, signed_in):
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    response = client.post("/sync/run", data={"job": "inventory.pull", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sync/")
    assert _runs() == 2  # the fixture's scheduled run and this one


def test_pressing_run_now_twice_coalesces_into_the_open_run(client, signed_in):
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    for _ in range(2):
        client.post("/sync/run", data={"job": "products.push", "csrf_token": token})
    assert _runs() == 2


def test_billing_cannot_be_started_by_a_forged_post(client, signed_in):
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    response = client.post("/sync/run", data={"job": "billing.run", "csrf_token": token})
    assert response.status_code == 403
    assert "never be started by hand" in response.get_data(as_text=True)
    assert _runs() == 1


def test_unknown_jobs_are_404(client, signed_in):
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    assert client.post("/sync/run", data={"job": "nope", "csrf_token": token}).status_code == 404
    assert client.get("/sync/dry-run?job=nope").status_code == 404
    assert client.get("/sync/dry-run?job=billing.run").status_code == 403


def test_run_now_only_starts_runs_on_this_accounts_targets(client, signed_in, other):
    token = csrf_token(client.get("/sync/").get_data(as_text=True))
    client.post("/sync/run", data={"job": "products.push", "csrf_token": token})
    started = db.session.execute(select(SyncRun).where(SyncRun.trigger == "manual")).scalars().all()
    assert [r.organization_id for r in started] == [signed_in.org.id]


def test_dry_run_shows_counts_sample_and_cost_of_each_target(client, signed_in, world, monkeypatch):
    calls = []

    def fake_dry_run(job, target):
        calls.append((job, target))
        return DryRun(
            job,
            target,
            create=3,
            change=1,
            skip=2,
            sample=["Create Product 1 unpublished"],
            api_calls=7,
            api_cost=70,
            seconds=3.5,
        )

    monkeypatch.setattr("portal.sync.views.dry_run", fake_dry_run)
    html = client.get("/sync/dry-run?job=products.push", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert calls == [("products.push", f"partnership:{world.partnership.id}")]
    assert "Would create <strong>3</strong>, change <strong>1</strong>, skip <strong>2</strong>" in html
    assert "Create Product 1 unpublished" in html and "70 cost points" in html
    assert "<html" not in html  # the partial, not the page
    assert "<html" in client.get("/sync/dry-run?job=products.push").get_data(as_text=True)


def test_description_counts_every_active_retailer_with_the_toggle_on(client, signed_in, world):
    from tests.support import factories

    for _ in range(2):
        factories.partnership(world.org, factories.retailer())
    factories.partnership(world.org, factories.retailer(), sync_products_to_retailer=False)
    factories.partnership(world.org, factories.retailer(), status="paused")
    html = client.get("/sync/").get_data(as_text=True)
    assert "Send 3 products to 3 retailers&#39; stores; new products arrive unpublished." in html
