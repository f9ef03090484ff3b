import json

from sqlalchemy import select

from portal.extensions import db
from portal.models import SyncRun
from tests.support import factories

EXPECTED_INTERVALS = {
    "orders.pull": 3600, "orders.push": 3600, "order_updates.pull": 3600, "order_updates.push": 3600,
    "products.pull": 8 * 3600, "products.push": 8 * 3600, "inventory.pull": 3600, "inventory.push": 3600,
    "order_changes.push": 3600,
    "billing.run": 24 * 3600, "alerts.scan": 15 * 60,
}  # fmt: skip


def test_sync_plan_json_lists_the_nine_jobs_with_documented_intervals(runner):
    result = runner.invoke(args=["sync", "plan", "--json"])
    assert result.exit_code == 0
    plan = json.loads(result.output)
    assert {job["name"]: job["interval_seconds"] for job in plan} == EXPECTED_INTERVALS
    assert [job["name"] for job in plan if not job["manual"]] == ["billing.run"]
    assert all(set(job) == {"name", "leg", "interval_seconds", "description", "manual"} for job in plan)
    assert all(len(job["description"]) > 30 for job in plan)


def test_sync_plan_text_says_billing_is_never_by_hand(runner):
    result = runner.invoke(args=["sync", "plan"])
    assert "billing.run" in result.output and "never by hand" in result.output


def test_sync_run_refuses_billing_with_exit_code_2_and_creates_no_run(runner, app):
    factories.trading_pair()
    result = runner.invoke(args=["sync", "run", "billing.run"])
    assert result.exit_code == 2
    assert "never be started by hand" in result.output
    assert db.session.execute(select(SyncRun)).first() is None


def test_sync_run_rejects_an_unknown_job_with_exit_code_2(runner):
    result = runner.invoke(args=["sync", "run", "products.explode"])
    assert result.exit_code == 2 and "unknown job 'products.explode'" in result.output


def test_sync_run_runs_in_the_foreground_and_prints_each_runs_summary(runner, app):
    # orders.push with no received orders has nothing to send, so it needs no platform (the sync tests run the
    # flows against the Shopify sandbox).
    _, _, sor, _, _, partnership = factories.trading_pair()
    result = runner.invoke(args=["sync", "run", "orders.push", "--partnership", str(partnership.id)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["job_name"] == "orders.push" and summary["status"] == "done" and summary["total"] == 0
    assert summary["target_key"] == f"connection:{sor.id}" and summary["trigger"] == "manual"
    run = db.session.get(SyncRun, summary["id"])
    assert run.status == "done" and run.finished_at is not None


def test_sync_run_with_a_non_numeric_partnership_is_a_usage_error(runner):
    result = runner.invoke(args=["sync", "run", "products.push", "--partnership", "abc"])
    assert result.exit_code == 2 and "not a valid integer" in result.output
