"""A job for the Redis restart test: each attempt writes `attempt-<n>` into the marker directory; the first one
works three seconds (the test restarts Redis meanwhile), later ones return at once."""

import time
from pathlib import Path


def slow_first_attempt(marker_dir: str) -> int:
    markers = Path(marker_dir)
    attempt = len(list(markers.glob("attempt-*"))) + 1
    (markers / f"attempt-{attempt}").write_text(str(time.time()))
    if attempt == 1:
        time.sleep(3)
    return attempt
