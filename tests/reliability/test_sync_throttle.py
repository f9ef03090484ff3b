"""Per-shop throttling: shop A answering 429 + Retry-After is waited out by A's calls only; shop B's calls never wait
for it (B's pace beside A and alone, in calls per second, is printed, not asserted: it depends on the load)."""

# ruff: noqa: F811 - pytest fixtures are imported by name and requested as parameters

from __future__ import annotations

import threading
import time

import httpx

from integrations.shopify.client import ShopifyClient
from integrations.shopify.transport import BaseURLTransport
from portal.redis_conn import get_redis
from tests.support.sandbox import sandbox  # noqa: F401 - the fixture

SHOP_A, SHOP_B = "throttled-a.myshopify.com", "steady-b.myshopify.com"
QUERY = "query Ping { shop { name } }"
RETRY_AFTER = 0.5
WINDOW = 2.0


def _client(sandbox, shop: str, token: str, sent: list[float], slept: list[float]) -> ShopifyClient:
    http = httpx.Client(
        transport=BaseURLTransport(sandbox.base_url),
        timeout=10.0,
        event_hooks={"request": [lambda request: sent.append(time.monotonic())]},
    )

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    return ShopifyClient(shop, token, api_version="2026-07", redis=get_redis(), http=http, sleep=sleep)


def _calls_per_second(client: ShopifyClient, seconds: float) -> float:
    calls, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.query(QUERY)
        calls += 1
    return calls / seconds


def _hammer_throttled(client: ShopifyClient, stop: threading.Event, outcomes: list[str]) -> None:
    while not stop.is_set():
        try:
            client.query(QUERY)
            outcomes.append("ok")
        except Exception as exc:  # gave up after its bounded retries: the caller (a job) would be retried later
            outcomes.append(type(exc).__name__)


def test_a_429_for_one_shop_does_not_slow_another_shop(app, sandbox):
    tokens = {shop: sandbox.add_shop(shop) for shop in (SHOP_A, SHOP_B)}
    for shop in (SHOP_A, SHOP_B):  # a generous bucket: the measure is about 429s, not the points budget
        sandbox.set_bucket(shop, maximum_available=100000, restore_rate=100000, currently_available=100000)
    sent_a, sent_b, slept_a, slept_b = [], [], [], []
    shop_b = _client(sandbox, SHOP_B, tokens[SHOP_B], sent_b, slept_b)
    _calls_per_second(shop_b, 0.3)  # warm up the connection and the query-cost cache
    alone = _calls_per_second(shop_b, WINDOW)

    sandbox.inject(SHOP_A, "429", count=10_000, retry_after=RETRY_AFTER)
    stop, outcomes = threading.Event(), []
    throttled = [
        threading.Thread(
            target=_hammer_throttled, args=(_client(sandbox, SHOP_A, tokens[SHOP_A], sent_a, slept_a), stop, outcomes)
        )
        for _ in range(2)
    ]
    for thread in throttled:
        thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    beside_a = _calls_per_second(shop_b, WINDOW)
    a_calls = sum(1 for t in sent_a if started <= t <= started + WINDOW)
    stop.set()
    for thread in throttled:
        thread.join(timeout=30)

    print(
        f"\nshop B alone: {alone:.1f} calls/s; shop B while shop A answers 429: {beside_a:.1f} calls/s "
        f"({beside_a / alone:.0%}); shop A sent {a_calls} requests in {WINDOW:.0f} s with Retry-After {RETRY_AFTER} s"
    )
    assert alone > 0 and beside_a > 0  # B kept calling beside A
    assert slept_b == []  # B never waited: neither A's Retry-After nor a points wait reached it
    assert slept_a and min(slept_a) >= RETRY_AFTER  # A's callers waited out every Retry-After
    # A's two callers wait out Retry-After between sends: at most one send per caller per Retry-After (+1 each).
    assert 0 < a_calls <= 2 * (WINDOW / RETRY_AFTER + 1)
    assert "ok" not in outcomes  # every answer A got was a 429
