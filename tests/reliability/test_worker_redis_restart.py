"""A Redis restart while a work-horse runs no longer ends the worker: it waits for Redis and hands the job that
ended unrecorded to its retry at once. RQ quit the worker there and left the job "started" until its execution
expired (about 90 s) before another worker retried it; the chaos soak met this at every Redis restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import redis
from rq import Queue, Retry

from tests.reliability.conftest import worker_env
from tests.support.waiting import wait_for


def test_a_redis_restart_under_a_running_job_keeps_the_worker_and_retries_the_job_at_once(
    app, services, make_redis, tmp_path
):
    server = make_redis(appendonly=True)
    env = worker_env(services, app, server.url, TEST_MARKER_DIR=tmp_path)
    job = Queue("sync", connection=redis.Redis.from_url(server.url)).enqueue(
        "tests.reliability.redis_outage_job.slow_first_attempt", str(tmp_path), retry=Retry(max=2), job_timeout=60
    )
    worker = subprocess.Popen([sys.executable, "-m", "tests.reliability.worker_main"], env=env, start_new_session=True)
    try:
        assert wait_for(lambda: (tmp_path / "attempt-1").exists(), 60), "the job never started"
        time.sleep(1.5)  # appendfsync everysec: the job's "started" is on disk
        server.kill()  # the first attempt ends while Redis is down: its horse cannot record it
        time.sleep(4)
        server.start()
        restarted = time.monotonic()
        assert wait_for(lambda: (tmp_path / "attempt-2").exists(), 150), "the job was never run again"
        retried_after = time.monotonic() - restarted
        print(f"\nRedis restarted under a job: retried {retried_after:.1f} s after Redis was back")
        assert worker.poll() is None, "the worker quit"
        assert retried_after < 30
        assert wait_for(lambda: job.get_status(refresh=True) == "finished", 30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
