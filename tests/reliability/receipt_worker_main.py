"""A worker process for the in-process receipt tests: its `app/scopes_update` handler is scripted.

Each attempt writes `attempt-<n>` (the pid that ran it) into TEST_MARKER_DIR; attempt 1 sleeps 300 s (the test kills
its worker meanwhile), later attempts return at once and write `completed`.
"""

import os
import time
from pathlib import Path

from jobs import webhook_jobs

MARKERS = Path(os.environ["TEST_MARKER_DIR"])


def scripted(receipt):
    attempt = len(list(MARKERS.glob("attempt-*"))) + 1
    (MARKERS / f"attempt-{attempt}").write_text(str(os.getpid()))
    if attempt == 1:
        time.sleep(300)
    (MARKERS / "completed").write_text(str(attempt))
    return {"attempt": attempt}


webhook_jobs.HANDLERS["app/scopes_update"] = scripted

if __name__ == "__main__":
    from jobs.worker import make_worker
    from portal import create_app

    make_worker(create_app()).work(with_scheduler=True)
