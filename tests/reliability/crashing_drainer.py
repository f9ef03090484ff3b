"""A drainer process that dies (SIGKILL) right after RQ accepted a job and before the outbox row is marked sent."""

import os
import signal

import jobs.outbox as outbox

_enqueue = outbox._enqueue


def enqueue_then_die(msg):
    _enqueue(msg)
    os.kill(os.getpid(), signal.SIGKILL)


outbox._enqueue = enqueue_then_die

if __name__ == "__main__":
    from jobs.runtime import drain_outbox
    from portal import create_app

    with create_app().app_context():
        drain_outbox()
