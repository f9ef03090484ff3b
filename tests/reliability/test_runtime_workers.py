"""Work-horses paused, killed with their worker, and crowded onto one shop: rows 2, 17 and 18 of the fault table.

Every test runs real worker processes (tests.reliability.worker_main) on this session's database and Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from jobs.runtime import LOCK_PREFIX, connection, drain_outbox, request_run
from jobs.sweeper import take_over_lost_leases
from portal.extensions import db
from portal.models import ActivityLog, SyncRun
from tests.reliability.conftest import worker_env
from tests.support import factories
from tests.support.waiting import run_status, wait_for


def _workers(env: dict, n: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-m", "tests.reliability.worker_main"], env=env, start_new_session=True)
        for _ in range(n)
    ]


def _stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_a_paused_work_horse_whose_lease_expired_is_fenced_and_cannot_commit_over_the_run_that_took_over(
    app, services, tmp_path
):
    _, _, _, _, _, p = factories.trading_pair()
    target = f"partnership:{p.id}"
    run = request_run("products.push", target)
    env = worker_env(services, app, app.config["REDIS_URL"], TEST_MARKER_DIR=tmp_path, TEST_FLOW="stale")
    env["RQ_LEASE_SECONDS"] = "3"
    workers = _workers(env, 1)
    horse = None
    try:
        # Paused once it waits, not while it commits its progress: a SQLite writer frozen mid-commit would hold the
        # database's one write lock for everyone (a race seen once on a loaded machine).
        assert wait_for(lambda: (tmp_path / "waiting").exists(), 60), "the run never started"
        horse = int((tmp_path / "attempt-1").read_text())
        os.kill(horse, signal.SIGSTOP)  # paused, heartbeat and all
        workers += _workers(env, 1)  # a second worker, free to take the run over
        assert wait_for(lambda: connection().get(f"{LOCK_PREFIX}products.push:{target}") is None, 10)
        assert take_over_lost_leases() == [run.id]  # the scheduler's pass notices nobody renews the lease
        drain_outbox()
        assert wait_for(lambda: _lines(tmp_path / "completed") == ["2"], 60), "the run was not taken over"
        assert wait_for(lambda: run_status(run.id) == "done", 30)
        (tmp_path / "wake").write_text("")
        os.kill(horse, signal.SIGCONT)
        assert wait_for(lambda: (tmp_path / "refused").exists(), 30), "the stale work-horse was not fenced"
    finally:
        if horse:
            with contextlib.suppress(ProcessLookupError):  # a fenced horse may already have finished and exited
                os.kill(horse, signal.SIGCONT)
        _stop(workers)
    assert _lines(tmp_path / "refused") == ["StaleLease"] and not (tmp_path / "committed").exists()
    db.session.expire_all()
    final = db.session.get(SyncRun, run.id)
    assert (final.status, final.attempts, final.fence) == ("done", 2, 2)
    summaries = db.session.execute(select(ActivityLog.summary)).scalars().all()
    assert summaries == ["written by the run that took over"]


def test_a_job_whose_worker_and_work_horse_are_killed_together_is_run_again_within_two_minutes(app, services, tmp_path):
    _, _, _, _, _, p = factories.trading_pair()
    run = request_run("products.push", f"partnership:{p.id}")
    env = worker_env(services, app, app.config["REDIS_URL"], TEST_MARKER_DIR=tmp_path, TEST_FLOW="stall")
    first = _workers(env, 1)
    survivors = []
    try:
        assert wait_for(lambda: (tmp_path / "attempt-1").exists(), 60), "the run never started"
        survivors = _workers(env, 1)
        horse = int((tmp_path / "attempt-1").read_text())
        os.killpg(first[0].pid, signal.SIGKILL)  # the host "crashes": the worker and, separately, its horse
        os.kill(horse, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_for(lambda: (tmp_path / "attempt-2").exists(), 150), "the abandoned job was never run again"
        recovered = time.monotonic() - killed_at
        print(f"\nworker and work-horse killed: the job ran again after {recovered:.0f} s")
        assert recovered < 120
        assert wait_for(lambda: run_status(run.id) == "done", 30)
    finally:
        _stop(first + survivors)
    assert _lines(tmp_path / "completed") == ["2"]  # finished once, by the second attempt
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).attempts == 2


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_ten_runs_on_one_shop_with_four_workers_never_run_more_than_the_shop_cap_at_once(app, services, tmp_path):
    _, wholesaler, _, _, _, first = factories.trading_pair()
    partnerships = [first]
    for _ in range(9):  # nine more retailers, each with its own store: the wholesaler's shop is what they share
        retailer = factories.retailer()
        factories.connection(retailer, "store")
        partnerships.append(factories.partnership(wholesaler, retailer))
    runs = [request_run("products.push", f"partnership:{p.id}") for p in partnerships]
    assert len({r.id for r in runs}) == 10
    env = worker_env(services, app, app.config["REDIS_URL"], TEST_MARKER_DIR=tmp_path, TEST_FLOW="sleep")
    env["SYNC_SHOP_CONCURRENCY"] = "2"
    workers = _workers(env, 4)
    try:
        assert wait_for(lambda: len(_lines(tmp_path / "completed")) == 10, 180), "not every run finished"
    finally:
        _stop(workers)
    starts, ends = {}, {}
    for line in (tmp_path / "spans").read_text().splitlines():
        kind, at, target = line.split()
        (starts if kind == "start" else ends)[target] = float(at)
    spans = [(starts[t], ends[t]) for t in starts]
    peak = _max_overlap(spans)
    print(f"\n10 runs on one shop, 4 workers, cap 2: at most {peak} at once")
    assert peak == 2


def test_two_real_scheduler_processes_firing_every_second_run_each_target_once_per_slot(app, services, tmp_path):
    _, _, _, _, _, p = factories.trading_pair()
    _, _, _, _, _, q = factories.trading_pair()
    env = worker_env(services, app, app.config["REDIS_URL"], TEST_MARKER_DIR=tmp_path, TEST_FLOW="sleep")
    schedulers = [
        subprocess.Popen([sys.executable, "-m", "tests.reliability.scheduler_main"], env=env, start_new_session=True)
        for _ in range(2)
    ]
    workers = _workers(env, 2)
    try:
        assert wait_for(lambda: len(_lines(tmp_path / "passes")) >= 16, 90), "the schedulers did not run"
        time.sleep(3)  # let the last fires reach the workers
    finally:
        _stop(schedulers + workers)
    passes = _lines(tmp_path / "passes")
    print(f"\ntwo schedulers: {len(passes)} passes by {len(set(passes))} processes")
    runs = db.session.execute(select(SyncRun.target_key, SyncRun.status)).all()
    # Every fire fell into one 8-hour slot: one run per target, whichever scheduler fired it and how often.
    assert sorted(runs) == [(f"partnership:{p.id}", "done"), (f"partnership:{q.id}", "done")]
    assert len(_lines(tmp_path / "completed")) == 2
