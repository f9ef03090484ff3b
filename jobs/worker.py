"""The worker process: an RQ worker whose jobs run inside the Flask app context.

Between jobs (RQ's maintenance, every RQ_MAINTENANCE_INTERVAL seconds) it also drains the outbox, so work the web
could not enqueue reaches RQ even when no scheduler runs.
"""

from __future__ import annotations

from flask import Flask
from rq import Queue, Worker

from jobs.plan import QUEUES
from portal.extensions import db
from portal.redis_conn import worker_redis


class AppWorker(Worker):
    """Runs each job (in its forked work-horse) inside an app context with a fresh database pool."""

    app: Flask | None = None

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            db.engine.dispose(close=False)  # the forked horse must not reuse the parent's open connections
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        from jobs.runtime import drain_outbox

        with self.app.app_context():
            try:
                drain_outbox()
            except Exception:  # the database may be restarting; the next maintenance pass tries again
                self.log.exception("outbox drain failed")
            finally:
                db.session.remove()


def make_worker(app: Flask, queues: tuple[str, ...] = QUEUES, name: str | None = None) -> AppWorker:
    """A worker on the named queues (priority order), with the recovery timings from the config."""
    conn = worker_redis(app)
    worker = AppWorker(
        [Queue(q, connection=conn) for q in queues],
        connection=conn,
        name=name,
        worker_ttl=app.config["RQ_WORKER_TTL"],
        maintenance_interval=app.config["RQ_MAINTENANCE_INTERVAL"],
    )
    worker.app = app
    return worker
