"""The one place that sends Shopify Admin GraphQL calls: cost-aware, shared per-shop bucket, retries, pagination.

Before each call the client reserves the query's expected cost in a Redis leaky bucket shared by every worker
process (a Lua script, so the check-and-take is atomic), sleeping until the points are there; after the answer it
reconciles with Shopify's `extensions.cost` (`actualQueryCost`, `throttleStatus`). It never hard-codes the bucket.
THROTTLED, 429 (Retry-After), 5xx and timeouts are retried with bounded exponential backoff and jitter.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator

import httpx
from shopify_app import admin_graphql_request

from integrations.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyThrottledError,
    ShopifyTransientError,
    ShopifyUserError,
)

PAGE_SIZE = 250
# Used only until the first answer tells us the shop's real bucket (then `throttleStatus` wins).
ASSUMED_MAXIMUM, ASSUMED_RESTORE_RATE = 1000.0, 50.0
MAX_RETRIES = 6  # 429 / 5xx / timeouts
MAX_THROTTLED_RETRIES = 20  # THROTTLED answers (each preceded by a wait for the missing points)
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
COST_CACHE_TTL = 7 * 24 * 3600

# KEYS[1] bucket hash; ARGV: cost, assumed max, assumed rate. Returns {1, "0"} when taken, else {0, wait seconds}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'max', 'rate', 'avail', 'ts')
local max = tonumber(h[1]) or tonumber(ARGV[2])
local rate = tonumber(h[2]) or tonumber(ARGV[3])
local avail = tonumber(h[3]) or max
local ts = tonumber(h[4]) or now
avail = math.min(max, avail + math.max(0, now - ts) * rate)
local cost = tonumber(ARGV[1])
local need = math.min(cost, max)
local ok = 0
local wait = 0
if avail >= need then
  avail = avail - cost
  ok = 1
else
  wait = (need - avail) / rate
end
redis.call('HSET', KEYS[1], 'max', max, 'rate', rate, 'avail', avail, 'ts', now)
redis.call('EXPIRE', KEYS[1], 86400)
return {ok, tostring(wait)}
"""

# KEYS[1]; ARGV: refund points, max, rate, server currentlyAvailable. The local estimate never exceeds the server's.
_RECONCILE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'max', 'rate', 'avail', 'ts', 'known')
local max = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local server = tonumber(ARGV[4])
local avail
if h[5] and tonumber(h[1]) == max and tonumber(h[2]) == rate and h[3] then
  local ts = tonumber(h[4]) or now
  avail = math.min(max, tonumber(h[3]) + math.max(0, now - ts) * rate + tonumber(ARGV[1]))
  avail = math.min(avail, server)
else
  avail = server
end
redis.call('HSET', KEYS[1], 'max', max, 'rate', rate, 'avail', avail, 'ts', now, 'known', 1)
redis.call('EXPIRE', KEYS[1], 86400)
return tostring(avail)
"""

# KEYS[1]; ARGV: points to give back (a reservation whose request never reached Shopify).
_RELEASE = """
local h = redis.call('HMGET', KEYS[1], 'max', 'avail')
if h[2] then
  redis.call('HSET', KEYS[1], 'avail', math.min(tonumber(h[1]), tonumber(h[2]) + tonumber(ARGV[1])))
end
return 1
"""


class CostBucket:
    """The client-side model of one shop's Shopify bucket, in Redis, shared by every process."""

    def __init__(self, redis, shop: str, sleep: Callable[[float], None] = time.sleep):
        self.redis = redis
        self.key = f"shopify:bucket:{shop}"
        self.sleep = sleep
        self._reserve = redis.register_script(_RESERVE)
        self._reconcile = redis.register_script(_RECONCILE)
        self._release = redis.register_script(_RELEASE)

    def acquire(self, cost: int) -> float:
        """Block until `cost` points are reserved; returns the seconds waited."""
        waited = 0.0
        while True:
            ok, wait = self._reserve(keys=[self.key], args=[cost, ASSUMED_MAXIMUM, ASSUMED_RESTORE_RATE])
            if int(ok) == 1:
                return waited
            pause = min(float(wait), 60.0) + random.uniform(0, 0.02)  # jitter: don't wake every worker at once
            self.sleep(pause)
            waited += pause

    def reconcile(self, reserved: int, cost: dict) -> None:
        """Correct the model from an answer's `extensions.cost` (refund the over-reservation, trust the server)."""
        status = cost.get("throttleStatus") or {}
        if not status:
            return
        actual = cost.get("actualQueryCost")
        refund = reserved - (actual if actual is not None else 0)
        self._reconcile(
            keys=[self.key],
            args=[refund, status["maximumAvailable"], status["restoreRate"], status["currentlyAvailable"]],
        )

    def release(self, reserved: int) -> None:
        self._release(keys=[self.key], args=[reserved])


_FIRST = re.compile(r"\b(first|last)\s*:\s*(\d+|\$\w+)")


def estimate_cost(document: str, variables: dict | None = None) -> int:
    """A schema-free, deliberately generous estimate used until Shopify tells us the real requested cost."""
    variables = variables or {}
    stripped = document.lstrip()
    if stripped.startswith("mutation"):
        return 10
    total, stack, pending = 0, [1], None
    tokens = re.finditer(r"[{}]|\b(?:first|last)\s*:\s*(?:\d+|\$\w+)", document)
    for m in tokens:
        tok = m.group(0)
        if tok == "{":
            mult = stack[-1]
            if pending is not None:
                total += 2 * mult
                stack.append(mult * max(pending, 1))
                pending = None
            else:
                total += mult
                stack.append(mult)
        elif tok == "}":
            if len(stack) > 1:
                stack.pop()
        else:
            value = tok.split(":")[1].strip()
            pending = int(variables.get(value[1:], 1) or 1) if value.startswith("$") else int(value)
    return max(1, min(total, 1000))


def _backoff(attempt: int) -> float:
    return min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.uniform(0.5, 1.0)


class ShopifyClient:
    """An Admin GraphQL client for one shop. `query()` returns `data`; errors raise `ShopifyError` subclasses."""

    def __init__(
        self,
        shop: str,
        access_token: str,
        *,
        api_version: str,
        redis,
        http: httpx.Client,
        on_call: Callable[[float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.shop = shop if "." in shop else f"{shop}.myshopify.com"
        self.access_token = access_token
        self.api_version = api_version
        self.redis = redis
        self.http = http
        self.on_call = on_call
        self.sleep = sleep
        self.bucket = CostBucket(redis, self.shop, sleep=sleep)
        self.last_cost: dict | None = None

    # -- cost estimates ------------------------------------------------------------------------------------------
    def _cost_key(self, document: str, variables: dict | None) -> str:
        ints = {k: v for k, v in (variables or {}).items() if isinstance(v, int)}
        return hashlib.sha1((document + json.dumps(ints, sort_keys=True)).encode()).hexdigest()

    def _estimate(self, key: str, document: str, variables: dict | None) -> int:
        cached = self.redis.hget("shopify:query_cost", key)
        return int(cached) if cached is not None else estimate_cost(document, variables)

    # -- sending -------------------------------------------------------------------------------------------------
    def execute(self, document: str, variables: dict | None = None) -> dict:
        """Send one document with cost reservation and retries; returns the whole JSON body (data, extensions)."""
        key = self._cost_key(document, variables)
        cost = self._estimate(key, document, variables)
        retries = throttled = 0
        pending_wait = 0.0
        while True:
            pending_wait += self.bucket.acquire(cost)
            result = admin_graphql_request(
                document,
                self.shop.removesuffix(".myshopify.com"),
                self.access_token,
                self.api_version,
                variables=variables,
                max_retries=0,
                http_client=self.http,
            )
            if self.on_call:
                self.on_call(pending_wait)
            pending_wait = 0.0
            status = result.response.status
            body = self._body(result)
            if status in (401, 403):
                raise ShopifyAuthError(f"Shopify answered {status} for {self.shop}", status=status, errors=body)
            if status == 429 or status >= 500 or status == 0:
                if status != 0:  # 429/5xx were not charged; a timeout may have been, so keep its reservation
                    self.bucket.release(cost)
                retries += 1
                if retries > MAX_RETRIES:
                    raise ShopifyTransientError(f"Shopify kept failing for {self.shop} (HTTP {status})", status=status)
                delay = _backoff(retries)
                if status == 429:
                    retry_after = (result.response.headers or {}).get("retry-after") or (
                        result.response.headers or {}
                    ).get("Retry-After")
                    delay = max(delay, float(retry_after or 1.0))
                self.sleep(delay)
                pending_wait += delay
                continue
            if status != 200:
                raise ShopifyError(f"Shopify answered HTTP {status} for {self.shop}", status=status, errors=body)
            extensions_cost = (body.get("extensions") or {}).get("cost") or {}
            errors = body.get("errors") or []
            if extensions_cost.get("requestedQueryCost") is not None:
                requested = int(extensions_cost["requestedQueryCost"])
                self.redis.hset("shopify:query_cost", key, requested)
                self.redis.expire("shopify:query_cost", COST_CACHE_TTL)
            if any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                self.bucket.reconcile(cost, {**extensions_cost, "actualQueryCost": 0})
                throttled += 1
                if throttled > MAX_THROTTLED_RETRIES:
                    raise ShopifyThrottledError(f"Shopify kept throttling {self.shop}", errors=errors)
                if extensions_cost.get("requestedQueryCost") is not None:
                    cost = int(extensions_cost["requestedQueryCost"])
                continue
            self.bucket.reconcile(cost, extensions_cost)
            self.last_cost = extensions_cost or None
            if errors:
                message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
                raise ShopifyGraphQLError(message, errors=errors, status=status, data=body.get("data"))
            return body

    @staticmethod
    def _body(result) -> dict:
        try:
            body = json.loads(result.response.body or "{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {"errors": body}

    def query(self, document: str, variables: dict | None = None) -> dict:
        """Run a query or mutation; returns its `data`."""
        return self.execute(document, variables).get("data") or {}

    def paginate(self, document: str, variables: dict | None, connection_path: str) -> Iterator[dict]:
        """Yield every node of the connection at `connection_path` (dotted, e.g. `products` or `product.variants`).

        The document must declare `$first: Int` and `$after: String` and pass them to that connection, and select
        `pageInfo { hasNextPage endCursor }` plus `nodes` or `edges { node }`.
        """
        variables = {"first": PAGE_SIZE, **(variables or {}), "after": None}
        while True:
            data = self.query(document, variables)
            conn = data
            for part in connection_path.split("."):
                conn = (conn or {}).get(part)
            if not conn:
                return
            items = conn.get("nodes")
            if items is None:
                items = [edge["node"] for edge in conn.get("edges") or []]
            yield from items
            page = conn.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return
            variables["after"] = page["endCursor"]


def raise_for_user_errors(payload: dict | None, what: str = "mutation") -> dict:
    """Return a mutation payload, or raise `ShopifyUserError` when it carries `userErrors`."""
    if payload is None:
        raise ShopifyUserError(f"{what} returned no payload")
    user_errors = payload.get("userErrors") or []
    if user_errors:
        message = "; ".join(f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in user_errors)
        raise ShopifyUserError(f"{what}: {message}", errors=user_errors)
    return payload


INVENTORY_SET_QUANTITIES = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup {
      id reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { field message code }
  }
}
"""


def inventory_set_quantities(
    quantities: list[dict],
    *,
    key: str,
    reason: str = "correction",
    reference_document_uri: str | None = None,
    name: str = "available",
) -> tuple[str, dict]:
    """Build an `inventorySetQuantities` call: (document, variables), with `@idempotent(key:)` and an explicit
    `changeFromQuantity` on every quantity (None opts out of the compare-and-swap check, as 2026-04+ requires).

    `quantities`: [{"inventoryItemId", "locationId", "quantity", "changeFromQuantity"}]; at most 250 per call.
    `key` must be deterministic for the same intended change (e.g. f"stock:{partnership}:{sku}:{run_id}").
    """
    if not key or not key.strip():
        raise ValueError("an idempotency key is required")
    if len(quantities) > 250:
        raise ValueError("inventorySetQuantities takes at most 250 quantities")
    items = []
    for q in quantities:
        if "changeFromQuantity" not in q:
            raise ValueError("changeFromQuantity must be given for every quantity (None to opt out)")
        items.append(
            {
                "inventoryItemId": q["inventoryItemId"],
                "locationId": q["locationId"],
                "quantity": int(q["quantity"]),
                "changeFromQuantity": q["changeFromQuantity"],
            }
        )
    variables = {"input": {"name": name, "reason": reason, "quantities": items}, "idempotencyKey": key}
    if reference_document_uri:
        variables["input"]["referenceDocumentUri"] = reference_document_uri
    return INVENTORY_SET_QUANTITIES, variables


def client_for(connection, on_call: Callable[[float], None] | None = None) -> ShopifyClient:
    """A client for a `portal.models.Connection`, using the current app's config, Redis and HTTP transport."""
    from flask import current_app

    from integrations.shopify.transport import http_client_for
    from portal.redis_conn import get_redis
    from portal.shopify_app.service import fresh_access_token

    app = current_app._get_current_object()
    return ShopifyClient(
        connection.address,
        fresh_access_token(connection),  # expiring offline tokens are refreshed before they lapse
        api_version=app.config["SHOPIFY_API_VERSION"],
        redis=get_redis(app),
        http=http_client_for(app),
        on_call=on_call,
    )
