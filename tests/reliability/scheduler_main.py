"""A real scheduler process for the two-schedulers test: the plan is products.push alone, fired every second.

The entry fires far more often than the job's tick, so every fire lands in the same dispatch slot; each pass is
logged (pid) in TEST_MARKER_DIR/passes.
"""

import dataclasses
import os
from pathlib import Path

import jobs.scheduler as scheduler_module
from jobs.plan import get_job

MARKERS = Path(os.environ["TEST_MARKER_DIR"])


class LoggedScheduler(scheduler_module.AppScheduler):
    plan = (dataclasses.replace(get_job("products.push"), tick_seconds=1),)

    def enqueue_jobs(self):
        with open(MARKERS / "passes", "a") as f:
            f.write(f"{os.getpid()}\n")
        return super().enqueue_jobs()


if __name__ == "__main__":
    from portal import create_app
    from portal.redis_conn import worker_redis

    app = create_app()
    scheduler = LoggedScheduler(connection=worker_redis(app), interval=1)
    scheduler.app = app
    scheduler.run()
