"""A worker process for runtime fault tests whose products.push flow is scripted by TEST_FLOW.

Every attempt writes `attempt-<n>` (its pid) into TEST_MARKER_DIR and appends "start/end <time> <target>" lines
to `spans`, so a test can see which horse ran what, and when. TEST_FLOW picks what an attempt does:
- "stall": attempt 1 sleeps 300 s (the test kills or pauses it), later attempts finish at once;
- "stale": attempt 1 sleeps until `wake` exists, then logs an activity and commits; attempt 2 logs and commits;
- "sleep": every attempt sleeps one second (concurrency measurements);
- "batch": every attempt writes a batch of 50 activity rows in one transaction; attempt 1 stops half-way until
  `restarted` exists (the test restarts the database meanwhile), then commits.
"""

import os
import time
from pathlib import Path

import jobs.flows.products as products
from portal.extensions import db

MARKERS = Path(os.environ["TEST_MARKER_DIR"])
FLOW = os.environ.get("TEST_FLOW", "stall")


def _mark(name: str, text: str) -> None:
    with open(MARKERS / name, "a") as f:
        f.write(text + "\n")


def scripted_push(ctx):
    attempt = len(list(MARKERS.glob("attempt-*"))) + 1
    (MARKERS / f"attempt-{attempt}").write_text(str(os.getpid()))
    _mark("spans", f"start {time.time()} {ctx.run.target_key}")
    ctx.set_total(1)
    if FLOW == "stall" and attempt == 1:
        time.sleep(300)
    elif FLOW == "stale" and attempt == 1:
        _mark("waiting", "1")  # its progress committed: paused from here on, it holds no database lock
        while not (MARKERS / "wake").exists():
            time.sleep(0.1)
        ctx.log("add", "listing", 1, "written by the paused work-horse")
        try:
            db.session.commit()
        except Exception as exc:
            _mark("refused", type(exc).__name__)
            raise
        _mark("committed", "1")
    elif FLOW == "stale":
        ctx.log("add", "listing", 2, "written by the run that took over")
        db.session.commit()
    elif FLOW == "sleep":
        time.sleep(1)
    elif FLOW == "batch":
        for i in range(50):
            ctx.log("add", "listing", i, f"batch row {i} of attempt {attempt}")
            if i == 25:
                db.session.flush()
                if attempt == 1:
                    _mark("mid-batch", "1")
                    while not (MARKERS / "restarted").exists():
                        time.sleep(0.1)
        db.session.commit()
    ctx.count("created")
    _mark("spans", f"end {time.time()} {ctx.run.target_key}")
    _mark("completed", str(attempt))


products.push = scripted_push

if __name__ == "__main__":
    from jobs.worker import make_worker
    from portal import create_app

    make_worker(create_app()).work(with_scheduler=True)
