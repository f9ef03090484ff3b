"""A worker process for the kill tests: right after the first remote create of attempt 1 (an order created in the
system of record, or a product created in a retailer's store) the work-horse records its pid and stalls, so the
test can SIGKILL it at the worst moment: the remote side has the record, our database does not know yet."""

import os
import sys
import time
from pathlib import Path

from integrations.shopify.catalog import CatalogTarget
from integrations.shopify.orders import OrderSink

MARKERS = Path(os.environ["TEST_MARKER_DIR"])


def _attempt() -> int:
    return len(list(MARKERS.glob("attempt-*")))


def _stall_after(cls, name: str) -> None:
    original = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if _attempt() == 1 and not (MARKERS / "stalled").exists():
            (MARKERS / "stalled").write_text(str(os.getpid()))
            time.sleep(120)  # killed here
        return result

    setattr(cls, name, wrapper)


def _count_attempts(job_name: str) -> None:
    import jobs.runtime as runtime

    original = runtime._execute

    def execute(spec, run, target):
        if spec.name != job_name:  # other queued jobs (chained ones) run normally and are not counted
            return original(spec, run, target)
        (MARKERS / f"attempt-{_attempt() + 1}").write_text(str(os.getpid()))
        result = original(spec, run, target)
        with open(MARKERS / "completed", "a") as f:
            f.write(f"{_attempt()}\n")
        return result

    runtime._execute = execute


if __name__ == "__main__":
    from jobs.worker import make_worker
    from portal import create_app

    orders = sys.argv[1] == "orders"
    _count_attempts("orders.push" if orders else "products.push")
    _stall_after(OrderSink if orders else CatalogTarget, "create_order" if orders else "set_product")
    make_worker(create_app()).work(with_scheduler=True)
