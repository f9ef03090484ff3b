"""The operator view: only operators; tenants' health, queue depths, failed jobs with retry; billing never retried."""

from rq.registry import FailedJobRegistry
from rq.results import Result

from jobs.runtime import connection, queue
from portal.extensions import db
from portal.models import SyncRun
from portal.services.accounts import create_user
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def _fail(queue_name: str, description: str) -> str:
    job = queue(queue_name).enqueue("jobs.runtime.summary", args=(None,), description=description)
    registry = FailedJobRegistry(queue_name, connection=connection())
    job.set_status("failed")
    registry.add(job)
    Result.create_failure(job, ttl=600, exc_string="Traceback...\nRuntimeError: shop unreachable")
    queue(queue_name).remove(job.id)
    return job.id


def test_a_wholesaler_cannot_open_the_operator_view(client, signed_in):
    assert client.get("/ops/").status_code == 403


def test_operator_sees_every_tenant_queues_and_failed_jobs_and_can_retry(client, auth, world, other):
    db.session.add(
        SyncRun(
            job_name="orders.pull",
            organization_id=other.org.id,
            target_key="connection:1",
            trigger="schedule",
            status="failed",
        )
    )
    db.session.commit()
    create_user("ops@example.com", PASSWORD, role="operator")
    auth.login("ops@example.com")
    sync_job = _fail("sync", "products.push on partnership:1 (manual)")
    billing_job = _fail("billing", "billing.run on partnership:1 (schedule)")
    html = client.get("/ops/").get_data(as_text=True)
    assert world.org.name in html and other.org.name in html
    assert "shop unreachable" in html and sync_job in html and billing_job in html
    assert html.count(">Retry</button>") == 1  # billing is listed, never retried by a person
    token = csrf_token(html)
    client.post("/ops/failed/retry", data={"job": sync_job, "csrf_token": token})
    client.post("/ops/failed/retry", data={"job": billing_job, "csrf_token": token})
    assert sync_job in queue("sync").job_ids
    assert billing_job not in queue("billing").job_ids
    assert billing_job in FailedJobRegistry("billing", connection=connection()).get_job_ids()
