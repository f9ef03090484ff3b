"""A worker process for the billing kill test: it stalls right after the gateway answers step KILL_STEP, once.

The test SIGKILLs the work-horse while it sleeps there: the gateway has done the work, our ledger has not heard.
"""

import os
import time
from pathlib import Path

import portal.services.billing.collect as collect

MARKERS = Path(os.environ["TEST_MARKER_DIR"])
KILL_STEP = os.environ["KILL_STEP"]


def stall_once(step: str) -> None:
    if step == KILL_STEP and not (MARKERS / "attempt-1").exists():
        (MARKERS / "attempt-1").write_text(str(os.getpid()))
        time.sleep(120)  # the test kills this work-horse here


collect.after_gateway_call = stall_once

if __name__ == "__main__":
    from jobs.worker import make_worker
    from portal import create_app

    make_worker(create_app()).work(with_scheduler=True)
