"""Polling helpers for tests that watch other processes (workers, work-horses) change the database."""

from __future__ import annotations

import time

from portal.extensions import db
from portal.models import SyncRun


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """True as soon as `predicate()` is true; False if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def run_status(run_id: int) -> str:
    """The SyncRun's status as another process last committed it."""
    db.session.expire_all()
    return db.session.get(SyncRun, run_id).status
