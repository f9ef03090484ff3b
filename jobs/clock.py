"""The scheduler's clock: real time unless SYNC_CLOCK_SCALE compresses it (a soak test runs days in minutes).

SYNC_CLOCK_SCALE (default 1) makes scheduled ticks fire that many times faster and the billing dispatcher's "now"
run that many times faster from SYNC_CLOCK_EPOCH (unix seconds; every process of one deployment must share it).
"""

from __future__ import annotations

import os
import time as _time
from datetime import UTC, datetime


def scale() -> float:
    """How many clock seconds pass per real second (1 in production)."""
    return max(float(os.environ.get("SYNC_CLOCK_SCALE") or 1), 1.0)


def time() -> float:
    """Clock seconds since the Unix epoch: real time, or compressed time counted from SYNC_CLOCK_EPOCH."""
    real = _time.time()
    factor = scale()
    if factor == 1.0:
        return real
    epoch = float(os.environ.get("SYNC_CLOCK_EPOCH") or 0) or real
    return epoch + (real - epoch) * factor


def now() -> datetime:
    """The clock's current UTC datetime."""
    return datetime.fromtimestamp(time(), UTC)


def interval(seconds: int) -> int:
    """A schedule interval in real seconds (at least 1)."""
    return max(round(seconds / scale()), 1)
