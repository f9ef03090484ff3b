"""A worker process for the kill test: its products.push flow records each attempt and stalls on the first."""

import os
import time
from pathlib import Path

import jobs.flows.products as products

MARKERS = Path(os.environ["TEST_MARKER_DIR"])


def stalling_push(ctx):
    attempt = len(list(MARKERS.glob("attempt-*"))) + 1
    (MARKERS / f"attempt-{attempt}").write_text(str(os.getpid()))
    ctx.set_total(3)
    if attempt == 1:
        time.sleep(120)  # the test kills this work-horse here
    for _ in range(3):
        ctx.count("created")
    with open(MARKERS / "completed", "a") as f:
        f.write(f"{attempt}\n")


products.push = stalling_push

if __name__ == "__main__":
    from jobs.worker import make_worker
    from portal import create_app

    make_worker(create_app()).work(with_scheduler=True)
