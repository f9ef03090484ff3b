"""The worker process: an RQ worker whose jobs run inside the Flask app context.

Most jobs run in a forked work-horse (RQ's isolation: a timeout or a crash kills the horse, not the worker). The
many short webhook receipts run in the worker itself (IN_PROCESS): the fork, a new database connection and a new
HTTP pool cost more than the receipt's own work, and the chaos soak's echoes of our own writes queued hundreds.

Between jobs (RQ's maintenance, every RQ_MAINTENANCE_INTERVAL seconds) one worker of the fleet at a time also
drains the outbox, so work the web could not enqueue reaches RQ even when no scheduler runs.
"""

from __future__ import annotations

import importlib
import os
import threading
import time

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.utils import now, str_to_date
from rq.worker import WorkerStatus

from jobs.plan import QUEUES
from portal.extensions import db
from portal.redis_conn import worker_redis

DRAIN_KEY = "wholesync:outbox:drainer"
# Short jobs run without a fork. A receipt's handler records it and requests runs (which go through the outbox to
# forked horses), or notes ids for a coalesced read; it waits on a remote call only within the client's timeouts.
IN_PROCESS = frozenset({"jobs.webhook_jobs.process_receipt"})
REDIS_WAIT_SECONDS = 120  # how long a worker waits for a restarting Redis before it gives up (and quits, as RQ does)


class AppWorker(Worker):
    """Runs each job (in its forked work-horse) inside an app context with a fresh database pool."""

    app: Flask | None = None

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            if self._is_horse:
                db.engine.dispose(close=False)  # the forked horse must not reuse the parent's open connections
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()

    def execute_job(self, job, queue):
        """Fork a work-horse for the job, or run it here when it is one of the IN_PROCESS kinds; a Redis restart
        meanwhile is waited out (see _after_redis_outage) instead of ending the worker."""
        try:
            self._execute(job, queue)
        except RedisConnectionError as exc:
            self._after_redis_outage(job, queue, exc)

    def _after_redis_outage(self, job, queue, exc: Exception) -> None:
        """Redis went away while the job ran (RQ would quit the worker and leave the job "started" until its
        execution expired, about 90 s, before retrying it; the chaos soak met this at every Redis restart). Wait
        for Redis, go on watching a horse that is still working, and hand a job that ended unrecorded to its retry
        at once."""
        self.log.warning("Redis unavailable while job %s ran (%s); waiting for it", job.id, exc)
        deadline = time.monotonic() + REDIS_WAIT_SECONDS
        while True:
            try:
                self.connection.ping()
                break
            except RedisConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        execution = next((e for e in self.executions.values() if e.job_id == job.id), None)
        if self._horse_pid and _alive(self._horse_pid):
            self.monitor_work_horse(job, queue, execution)
        elif job.get_status(refresh=True) == JobStatus.STARTED:
            job.refresh()
            self.handle_job_failure(job, queue=queue, exc_string=f"Redis restarted while the job ran: {exc}",
                                    execution=execution)  # fmt: skip
        self.set_state(WorkerStatus.IDLE)

    def _execute(self, job, queue) -> None:
        """In the worker itself the job's execution keeps its heartbeat from a thread, as the horse's monitor does,
        so a worker killed mid-job leaves an execution that expires and RQ's registry cleanup retries the job."""
        if job.func_name not in IN_PROCESS:
            return super().execute_job(job, queue)
        execution = self.prepare_execution(job)
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, execution, stop), daemon=True)
        beat.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            stop.set()
            beat.join()
        self.set_state(WorkerStatus.IDLE)

    def _beat(self, job, execution, stop: threading.Event) -> None:
        while not stop.wait(self.job_monitoring_interval):
            try:
                self.maintain_heartbeats(job, execution)
            except Exception:  # Redis restarting: the next beat tries again (the TTL outlives one missed beat)
                self.log.exception("heartbeat of in-process job %s failed", job.id)

    def reorder_queues(self, reference_queue: Queue) -> None:
        """Queues in priority order for the next take, except that a lower queue whose oldest job has waited
        RQ_STARVED_SECONDS goes first once: a steady stream of events must not starve the passes behind them (the
        chaos soak found chained stock pushes queued for its whole run while events kept the urgent queues busy)."""
        self._ordered_queues = self.queues[:]
        limit = float(self.app.config.get("RQ_STARVED_SECONDS", 30)) if self.app else 30.0
        for queue in self.queues[1:]:
            head = self.connection.lindex(queue.key, 0)  # RQ pushes at the tail and pops the head: the oldest
            stamp = (
                self.connection.hget(f"{Job.redis_job_namespace_prefix}{head.decode()}", "enqueued_at")
                if head
                else None
            )
            if stamp and (now() - str_to_date(stamp)).total_seconds() >= limit:
                self._ordered_queues = [queue, *(q for q in self.queues if q is not queue)]
                return

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        from jobs.runtime import drain_outbox

        try:
            # One drain per interval for the whole fleet, counted from the end of the last one: N workers draining
            # the same rows only add contention.
            interval = max(int(self.maintenance_interval), 1)
            if not self.connection.set(DRAIN_KEY, self.name, nx=True, ex=interval):
                return
            with self.app.app_context():
                try:
                    drain_outbox()
                finally:
                    db.session.remove()
                    self.connection.set(DRAIN_KEY, self.name, ex=interval)
        except Exception:  # the database or Redis may be restarting; the next maintenance pass tries again
            self.log.exception("outbox drain failed")
        finally:
            # RQ stamps the pass before the drain; counting from its end keeps a slow drain from running back to
            # back with itself and leaving queued jobs untouched between passes.
            self.last_cleaned_at = now()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def preload() -> None:
    """Import every job's code in the worker itself, so a forked work-horse does not import it again for each job."""
    from jobs.outbox import FUNCS
    from jobs.plan import PLAN_BY_NAME

    modules = {func.rpartition(".")[0] for func in FUNCS.values()}
    modules |= {spec.flow.partition(":")[0] for spec in PLAN_BY_NAME.values()}
    for module in sorted(modules):
        importlib.import_module(module)


def make_worker(app: Flask, queues: tuple[str, ...] = QUEUES, name: str | None = None) -> AppWorker:
    """A worker on the named queues (priority order), with the recovery timings from the config."""
    preload()
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
