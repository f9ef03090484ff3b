"""A work-horse killed in the middle of a job: the job is retried, finishes once, and its SyncRun says so."""

import os
import signal
import subprocess
import sys

from jobs.runtime import request_run
from portal.extensions import db
from portal.models import SyncRun
from tests.support import factories
from tests.support.waiting import run_status, wait_for


def test_killed_work_horse_is_retried_and_the_job_finishes_once(app, services, tmp_path):
    _, _, _, _, _, p = factories.trading_pair()
    run = request_run("products.push", f"partnership:{p.id}")
    env = services.env() | {
        "TEST_MARKER_DIR": str(tmp_path),
        "RQ_RETRY_INTERVALS": "0,0",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "TOKEN_ENCRYPTION_KEYS": app.config["TOKEN_ENCRYPTION_KEYS"],
    }
    worker = subprocess.Popen([sys.executable, "-m", "tests.support.kill_worker"], env=env, start_new_session=True)
    try:
        assert wait_for(lambda: (tmp_path / "attempt-1").exists()), "the job never started"
        horse_pid = int((tmp_path / "attempt-1").read_text())
        os.kill(horse_pid, signal.SIGKILL)
        assert wait_for(lambda: (tmp_path / "completed").exists()), "the job was not retried"
        assert wait_for(lambda: run_status(run.id) == "done"), f"run ended as {run_status(run.id)}"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert (tmp_path / "completed").read_text().splitlines() == ["2"]  # finished once, by the retry
    db.session.expire_all()
    final = db.session.get(SyncRun, run.id)
    assert (final.status, final.attempts, final.done, final.created) == ("done", 2, 3, 3)
    assert final.message == "Resumed after an interrupted attempt."
