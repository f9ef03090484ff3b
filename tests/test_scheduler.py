"""The scheduler registers the sync plan in rq-scheduler without ever duplicating an entry (real Redis)."""

from dataclasses import replace

from jobs.plan import SYNC_PLAN
from jobs.scheduler import ENTRY_PREFIX, entry_id, make_scheduler, reconcile


def _entries(scheduler):
    return sorted(job.id for job in scheduler.get_jobs() if job.id.startswith(ENTRY_PREFIX))


def test_first_start_registers_one_entry_per_job_of_the_plan(app):
    scheduler = make_scheduler(app)
    added, removed = reconcile(scheduler)
    assert len(added) == len(SYNC_PLAN) and removed == []
    assert _entries(scheduler) == sorted(entry_id(spec) for spec in SYNC_PLAN)


def test_starting_the_scheduler_twice_leaves_exactly_one_entry_per_job(app):
    reconcile(make_scheduler(app))
    added, removed = reconcile(make_scheduler(app))  # a restart, or a second scheduler process
    assert (added, removed) == ([], [])
    entries = _entries(make_scheduler(app))
    assert len(entries) == len(set(entries)) == len(SYNC_PLAN)


def test_entries_carry_the_documented_intervals(app):
    scheduler = make_scheduler(app)
    reconcile(scheduler)
    intervals = {job.args[0]: job.meta["interval"] for job in scheduler.get_jobs()}
    assert intervals["products.push"] == 8 * 3600 and intervals["orders.pull"] == 3600
    assert intervals["billing.run"] == 3600  # billing's dispatcher checks hourly which partnerships are due today


def test_a_changed_plan_replaces_the_old_entry_and_drops_removed_jobs(app):
    scheduler = make_scheduler(app)
    reconcile(scheduler)
    changed = tuple(replace(s, interval_seconds=1800) if s.name == "orders.pull" else s for s in SYNC_PLAN[:-1])
    added, removed = reconcile(scheduler, changed)
    assert added == [entry_id(changed[0])]
    assert sorted(removed) == sorted([entry_id(SYNC_PLAN[0]), entry_id(SYNC_PLAN[-1])])
    assert len(_entries(scheduler)) == len(SYNC_PLAN) - 1


def test_scheduler_cli_reconciles_and_exits_with_reconcile_only(runner, app):
    first = runner.invoke(args=["scheduler", "--reconcile-only"])
    second = runner.invoke(args=["scheduler", "--reconcile-only"])
    assert f"{len(SYNC_PLAN)} added, 0 removed" in first.output and "0 added, 0 removed" in second.output
