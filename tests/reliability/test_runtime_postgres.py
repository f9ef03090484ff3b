"""Row 8 of the fault table: PostgreSQL restarted (immediate mode) in the middle of a job's batch.

The test runs its own PostgreSQL cluster (initdb + pg_ctl on a free port in a temporary directory), never the
machine's shared server; it is skipped only when the PostgreSQL server binaries are not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.runtime import request_run
from portal import create_app
from portal.extensions import db
from portal.models import ActivityLog, SyncRun
from tests.conftest import _config
from tests.reliability.servers import free_port
from tests.support import factories
from tests.support.waiting import wait_for

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = pytest.mark.skipif(not BIN, reason="PostgreSQL server binaries (initdb, pg_ctl) are not installed")


class PrivateCluster:
    """A throw-away PostgreSQL cluster owned by the postgres user when the test runs as root (initdb refuses root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="wholesync-pg-"))
        self.data, self.port = self.dir / "data", free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivateCluster:
        if not self.data.exists():
            self._run(f"{BIN[-1]}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, *command: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run(f"{BIN[-1]}/pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w",
                  *command)  # fmt: skip

    def restart_immediate(self) -> None:
        """Stop without a clean shutdown (every session cut, crash recovery on start), then start again."""
        self._pg_ctl("restart", "-m", "immediate")

    def close(self) -> None:
        subprocess.run([*self.as_user, f"{BIN[-1]}/pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    pg = PrivateCluster().start()
    yield pg
    pg.close()


def test_a_postgres_restart_mid_batch_rolls_the_batch_back_and_the_retry_writes_it_whole(
    cluster, make_redis, services, tmp_path
):
    server = make_redis(appendonly=True)
    app = create_app(_config(services, tmp_path / "instance") | {"SQLALCHEMY_DATABASE_URI": cluster.url,
                                                                 "REDIS_URL": server.url})  # fmt: skip
    with app.app_context():
        db.create_all()
        _, _, _, _, _, p = factories.trading_pair()
        run_id = request_run("products.push", f"partnership:{p.id}").id
        env = services.env() | {
            "DATABASE_URL": cluster.url, "REDIS_URL": server.url, "SECRET_KEY": app.config["SECRET_KEY"],
            "TOKEN_ENCRYPTION_KEYS": app.config["TOKEN_ENCRYPTION_KEYS"], "RQ_RETRY_INTERVALS": "0,0",
            "TEST_MARKER_DIR": str(tmp_path), "TEST_FLOW": "batch",
        }  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.worker_main"], env=env, start_new_session=True
        )
        try:
            assert wait_for(lambda: (tmp_path / "mid-batch").exists(), 60), "the batch never started"
            db.session.remove()
            db.engine.dispose()
            cluster.restart_immediate()
            (tmp_path / "restarted").write_text("")
            assert wait_for(lambda: (tmp_path / "completed").exists(), 120), "the job was not retried"

            def status():
                db.session.remove()
                return db.session.get(SyncRun, run_id).status

            assert wait_for(lambda: status() == "done", 60), f"run ended as {status()}"
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        final = db.session.get(SyncRun, run_id)
        assert final.attempts == 2
        rows = db.session.execute(select(ActivityLog.summary).where(ActivityLog.sync_run_id == run_id)).scalars()
        rows = list(rows)
        assert len(rows) == 50 and all(r.endswith("of attempt 2") for r in rows)  # no half of attempt 1
        assert db.session.execute(select(func.count()).select_from(ActivityLog)).scalar() == 50
        db.session.remove()
        db.engine.dispose()
