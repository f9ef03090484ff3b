"""The soak's faults: a schedule drawn from CHAOS_SEED, and how each kind is injected from the outside (signals,
process restarts, the sandbox's control routes).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from urllib.parse import quote

import httpx

from benchmarks.chaos.processes import Cluster

KINDS = (
    "kill_horse", "kill_worker", "scheduler_restart", "two_schedulers", "redis_restart", "postgres_restart",
    "http_5xx", "http_429", "throttled", "late_answer", "webhook_drop", "webhook_duplicate", "webhook_reorder",
    "expired_token",
)  # fmt: skip


def schedule(rng: random.Random, seconds: float, *, postgres: bool) -> list[tuple[float, str]]:
    """(offset in seconds, kind) pairs between 10% and 85% of the soak, about one every 4 s on average."""
    kinds = [k for k in KINDS if k != "postgres_restart" or postgres]
    at, out = seconds * 0.1, []
    while True:
        at += rng.expovariate(1 / 4.0)
        if at >= seconds * 0.85:
            return out
        out.append((round(at, 2), rng.choice(kinds)))


class Injector:
    """Injects one fault at a time and counts what was injected by kind."""

    def __init__(self, cluster: Cluster, rng: random.Random, wholesaler: str, retailers: list[str],
                 expiring: list[str]):  # fmt: skip
        self.cluster, self.rng, self.wholesaler, self.retailers = cluster, rng, wholesaler, retailers
        self.expiring = expiring  # shops whose tokens expire (and are refreshed): the wholesaler's among them
        self.shops = [wholesaler, *retailers]
        self.http = httpx.Client(timeout=10.0)
        self.counts: Counter = Counter()
        self.pending: list[tuple[float, str, object]] = []  # (monotonic due, name, action) follow-ups

    def _control(self, path: str, body: dict) -> None:
        self.http.post(f"{self.cluster.sandbox_url}/_sandbox/{path}", json=body).raise_for_status()

    def inject(self, kind: str) -> bool:
        """Inject `kind`; False when there was nothing to hit (e.g. no work-horse busy)."""
        done = getattr(self, f"_{kind}")()
        if done is not False:
            self.counts[kind] += 1
        return done is not False

    def due(self) -> None:
        """Run the follow-ups whose time has come (second scheduler stopped, merchant reopening the app)."""
        now = time.monotonic()
        for item in [p for p in self.pending if p[0] <= now]:
            self.pending.remove(item)
            item[2]()

    def finish(self) -> None:
        for _, _, action in self.pending:
            action()
        self.pending.clear()

    # ---- processes ---------------------------------------------------------------------------------------------
    def _kill_horse(self):
        for _ in range(20):  # wait up to 2 s for a busy work-horse
            horses = [h for w in ("worker-1", "worker-2") for h in self.cluster.horses(w)]
            if horses:
                os.kill(self.rng.choice(horses).pid, signal.SIGKILL)
                return True
            time.sleep(0.1)
        return False

    def _kill_worker(self):
        name = self.rng.choice(("worker-1", "worker-2"))
        self.cluster.kill(name)
        self.cluster.start(name)

    def _scheduler_restart(self):
        self.cluster.kill("scheduler")
        time.sleep(self.rng.uniform(0.5, 3.0))
        self.cluster.start("scheduler")

    def _two_schedulers(self):
        if "scheduler-2" in self.cluster.procs:
            return False
        self.cluster.start("scheduler-2")
        self.pending.append((time.monotonic() + self.rng.uniform(8, 20), "scheduler-2",
                             lambda: self.cluster.kill("scheduler-2", signal.SIGTERM)))  # fmt: skip

    def _redis_restart(self):
        self.cluster.kill("redis", signal.SIGTERM)  # a clean shutdown: the append-only file keeps the data
        time.sleep(self.rng.uniform(0.5, 3.0))
        self.cluster.start("redis")
        self.cluster.wait_redis()

    def _postgres_restart(self):
        command = os.environ.get("CHAOS_POSTGRES_RESTART", "sudo -n service postgresql restart")
        subprocess.run(command, shell=True, check=False, timeout=120)

    # ---- the store -----------------------------------------------------------------------------------------------
    def _fault(self, kind: str, count: int, **extra) -> None:
        shop = self.rng.choice(self.shops)
        self._control(f"shops/{shop}/faults", {"kind": kind, "count": count, **extra})

    def _http_5xx(self):
        self._fault(self.rng.choice(("500", "502", "503")), self.rng.randint(1, 3))

    def _http_429(self):
        self._fault("429", self.rng.randint(1, 3), retry_after=1.0)

    def _throttled(self):
        self._fault("throttled", self.rng.randint(1, 3))

    def _late_answer(self):
        shop = self.rng.choice(self.shops)
        timeout = float(self.cluster.env.get("SHOPIFY_HTTP_TIMEOUT", "30"))
        self._control(f"shops/{shop}/late_answers", {"count": 1, "seconds": timeout + 2})

    def _webhook(self, kind: str):
        self._control("webhooks/faults", {"kind": kind, "count": self.rng.randint(1, 4)})

    def _webhook_drop(self):
        self._webhook("drop")

    def _webhook_duplicate(self):
        self._webhook("duplicate")

    def _webhook_reorder(self):
        self._webhook("reorder")

    def _expired_token(self):
        """A store's expiring access token stops working before the hub expected; the merchant reopens the app
        some seconds later (a retailer's app home runs token exchange; the wholesaler's store is refreshed)."""
        shop = self.rng.choice(self.expiring)
        self._control(f"shops/{shop}/expire_tokens", {})
        if shop != self.wholesaler:
            self.pending.append((time.monotonic() + self.rng.uniform(5, 15), f"reopen {shop}",
                                 lambda: reopen_app(self.cluster, shop)))  # fmt: skip


def reopen_app(cluster: Cluster, shop: str) -> int:
    """The merchant opens the app in the Shopify admin: a document load with a fresh id_token (token exchange)."""
    token = httpx.post(f"{cluster.sandbox_url}/_sandbox/shops/{shop}/session_token", json={}, timeout=10).json()
    url = f"{cluster.web_url}/shopify?shop={shop}&host=YWRtaW4&embedded=1&id_token={quote(token['session_token'])}"
    return httpx.get(url, timeout=30).status_code
