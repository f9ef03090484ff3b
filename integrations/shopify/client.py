"""The one place that sends Shopify Admin GraphQL calls: cost-aware, shared per-shop bucket, one retry policy.

Before each call the client reserves the query's expected cost in a Redis leaky bucket shared by every worker
process (a Lua script, so the check-and-take is atomic), sleeping until the points are there; after the answer it
reconciles with Shopify's `extensions.cost` (`actualQueryCost`, `throttleStatus`). It never hard-codes the bucket.
THROTTLED, 429 (Retry-After, fractional seconds included), 5xx and timeouts are retried by one bounded policy —
except that a mutation without `@idempotent` (orderCreate, fulfillmentCreate, fulfillmentServiceCreate...) is never
resent once it may have reached Shopify: after a timeout or a 5xx it raises ShopifyOutcomeUnknown and the caller
looks the object up by its marker. THROTTLED and 429 are refusals before execution, so those are resent.
A 401 is never retried blindly: a renewable token source (integrations.base.RenewableToken) is told once, and the
call is sent once more with the token it gives; otherwise ShopifyAccessRevoked ends the call.

Requests are sent with our own httpx client rather than `shopify_app.admin_graphql_request`: on an HTTP 200 with
`errors` (THROTTLED included) that function returns no `data` and no `extensions`, so a partial answer and the
throttle status the bucket needs would be lost, and its own 429 retry parses Retry-After as an integer. Everything
the client needs (shop, token source, Redis, API version, httpx client with its timeouts, sleep) is passed in.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from integrations.base import AccessRevoked
from integrations.shopify.errors import (
    ShopifyAccessRevoked,
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyOutcomeUnknown,
    ShopifyThrottledError,
    ShopifyTransientError,
)

# Returns an access token that is valid now (refreshing it first if need be); one with a `rejected(token)` method
# (integrations.base.RenewableToken) can also renew a token Shopify answered 401 to.
TokenSource = Callable[[], str]
USER_AGENT = "Wholesync"

# Used only until the first answer tells us the shop's real bucket (then `throttleStatus` wins).
ASSUMED_MAXIMUM, ASSUMED_RESTORE_RATE = 1000.0, 50.0
MAX_RETRIES = 6  # 429 / 5xx / timeouts
MAX_THROTTLED_RETRIES = 20  # THROTTLED answers (each preceded by a wait for the missing points)
TRANSIENT, THROTTLED = "transient", "throttled"
RETRY_LIMITS = {TRANSIENT: MAX_RETRIES, THROTTLED: MAX_THROTTLED_RETRIES}
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
COST_CACHE_TTL = 7 * 24 * 3600
NOT_SENT = -1  # the connection was never made: Shopify saw nothing
_IDEMPOTENT_DIRECTIVE = re.compile(r"@idempotent\b")


def resend_safe(document: str) -> bool:
    """Whether a document may be sent again after an answer was lost: queries, and mutations whose every field
    carries Shopify's `@idempotent(key:)` directive (the key makes a replay answer from the first execution)."""
    stripped = re.sub(r"#[^\n]*", "", document).lstrip()
    if not stripped.startswith("mutation"):
        return True
    return bool(_IDEMPOTENT_DIRECTIVE.search(stripped))


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
        """Give back a reservation whose request Shopify did not charge (429, 5xx, never sent)."""
        self._release(keys=[self.key], args=[reserved])


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


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header as seconds ("2", "1.5"); None when absent or not a number (the backoff then decides)."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return max(0.0, seconds) if seconds is not None and seconds == seconds else None  # NaN is not a delay


@dataclass
class _Retry(Exception):
    """An answer worth sending again: its kind (counted against RETRY_LIMITS), the least wait Shopify asked for, and
    the error to raise once the kind's retries are spent."""

    kind: str
    at_least: float
    give_up: ShopifyError
    cost: int | None = None  # Shopify's requested cost, when the answer told us


class ShopifyClient:
    """An Admin GraphQL client for one shop. `query()` returns `data`; errors raise `ShopifyError` subclasses.

    `token` is a token source called before every request (so a long run never sends a token that lapsed
    meanwhile), or a fixed access token. A source with `rejected(token)` (RenewableToken) is told about a 401 and
    the call is sent once more with its answer; a second 401, or one with nothing to renew, raises
    ShopifyAccessRevoked.
    """

    def __init__(
        self,
        shop: str,
        token: str | TokenSource,
        *,
        api_version: str,
        redis,
        http: httpx.Client,
        on_call: Callable[[float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.shop = shop if "." in shop else f"{shop}.myshopify.com"
        self.token: TokenSource = token if callable(token) else (lambda: token)
        self.renew: Callable[[str], str] | None = getattr(token, "rejected", None)
        self.api_version = api_version
        self.redis = redis
        self.http = http
        self.on_call = on_call
        self.sleep = sleep
        self.bucket = CostBucket(redis, self.shop, sleep=sleep)

    # -- cost estimates ------------------------------------------------------------------------------------------
    def _cost_key(self, document: str, variables: dict | None) -> str:
        ints = {k: v for k, v in (variables or {}).items() if isinstance(v, int)}
        return hashlib.sha1((document + json.dumps(ints, sort_keys=True)).encode()).hexdigest()

    def _estimate(self, key: str, document: str, variables: dict | None) -> int:
        cached = self.redis.hget("shopify:query_cost", key)
        return int(cached) if cached is not None else estimate_cost(document, variables)

    # -- sending -------------------------------------------------------------------------------------------------
    def execute(self, document: str, variables: dict | None = None, *, resendable: bool | None = None) -> dict:
        """Send one document with cost reservation and retries; returns the whole JSON body (data, extensions).

        `resendable` None decides from the document (`resend_safe`). A document that is not resendable raises
        ShopifyOutcomeUnknown, without resending, when its answer is lost (timeout) or is a 5xx."""
        key = self._cost_key(document, variables)
        cost = self._estimate(key, document, variables)
        safe = resend_safe(document) if resendable is None else resendable
        tries = dict.fromkeys(RETRY_LIMITS, 0)
        waited = 0.0  # budget waits and retry delays, reported with the next call
        renewed = False
        while True:
            token = self._current_token()  # before reserving: a lost store costs no budget and sends nothing
            waited += self.bucket.acquire(cost)
            status, body, headers = self._send(document, variables, token, cost)
            if self.on_call:
                self.on_call(waited)
            waited = 0.0
            if status == 401:
                # Rejected before execution (never charged, so resending is safe even for a create): renew once.
                self.bucket.release(cost)
                self._rejected(token, body, renewed)
                renewed = True
                continue
            if not safe and (status == 0 or status >= 500):
                if status >= 500:
                    self.bucket.release(cost)
                raise ShopifyOutcomeUnknown(
                    f"Shopify gave no usable answer to a create for {self.shop} (HTTP {status or 'timeout'}); it may "
                    "have been committed, so it was not sent again",
                    status=status or None,
                )
            try:
                return self._answer(status, body, headers, key, cost)
            except _Retry as retry:
                tries[retry.kind] += 1
                if tries[retry.kind] > RETRY_LIMITS[retry.kind]:
                    raise retry.give_up from None
                cost = retry.cost or cost
                # THROTTLED needs no backoff: the next acquire() waits for exactly the missing points.
                delay = retry.at_least if retry.kind == THROTTLED else max(_backoff(tries[TRANSIENT]), retry.at_least)
                if delay:
                    self.sleep(delay)
                    waited += delay

    def _current_token(self) -> str:
        try:
            return self.token()
        except AccessRevoked as exc:
            if isinstance(exc, ShopifyError):
                raise
            raise ShopifyAccessRevoked(str(exc), status=401) from exc

    def _rejected(self, token: str, body: dict, renewed: bool) -> None:
        """Shopify answered 401 to `token`: tell a renewable source (which renews or marks the connection lost);
        raise ShopifyAccessRevoked unless the call is worth one more try."""
        message = f"Shopify answered 401 for {self.shop}: it no longer accepts the access token"
        if self.renew is None:
            raise ShopifyAccessRevoked(message, status=401, errors=body)
        try:
            fresh = self.renew(token)
        except AccessRevoked as exc:
            if isinstance(exc, ShopifyError):
                raise
            raise ShopifyAccessRevoked(str(exc), status=401, errors=body) from exc
        if renewed or not fresh or fresh == token:
            # The source gave no new token, or the renewed one was refused too and the source did not give up:
            # one retry per call is all a 401 earns (a later call may try the next token).
            raise ShopifyAuthError(message, status=401, errors=body)

    def _send(self, document: str, variables: dict | None, token: str, cost: int) -> tuple[int, dict, httpx.Headers]:
        """POST the document; (status, JSON body, headers), status 0 when no answer came back."""
        payload: dict = {"query": document}
        if variables:
            payload["variables"] = variables
        try:
            response = self.http.post(
                f"https://{self.shop}/admin/api/{self.api_version}/graphql.json",
                json=payload,
                headers={"X-Shopify-Access-Token": token, "Accept": "application/json", "User-Agent": USER_AGENT},
            )
        except httpx.ConnectError:
            self.bucket.release(cost)  # never reached Shopify, so never charged (and safe to send again)
            return NOT_SENT, {}, httpx.Headers()
        except httpx.TransportError:
            return 0, {}, httpx.Headers()  # a timeout may have been charged: keep the reservation
        return response.status_code, self._body(response), response.headers

    def _answer(self, status: int, body: dict, headers: httpx.Headers, key: str, cost: int) -> dict:
        """The body of a usable answer; raises `_Retry` for one worth resending, a `ShopifyError` otherwise."""
        if status == 403:  # a missing scope: the token is valid, so there is nothing to renew
            raise ShopifyAuthError(f"Shopify answered {status} for {self.shop}", status=status, errors=body)
        if status == 429 or status >= 500 or status in (0, NOT_SENT):
            if status > 0:  # 429/5xx were not charged (a failed send released its own reservation)
                self.bucket.release(cost)
            gave_up = ShopifyTransientError(
                f"Shopify kept failing for {self.shop} (HTTP {max(status, 0)})", status=status
            )
            at_least = (retry_after_seconds(headers.get("retry-after")) or 1.0) if status == 429 else 0.0
            raise _Retry(TRANSIENT, at_least, gave_up)
        if status != 200:
            raise ShopifyError(f"Shopify answered HTTP {status} for {self.shop}", status=status, errors=body)
        extensions = body.get("extensions") or {}
        cost_info = extensions.get("cost") or {}
        errors = body.get("errors") or []
        requested = cost_info.get("requestedQueryCost")
        if requested is not None:
            self.redis.hset("shopify:query_cost", key, int(requested))
            self.redis.expire("shopify:query_cost", COST_CACHE_TTL)
        if any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            self.bucket.reconcile(cost, {**cost_info, "actualQueryCost": 0})
            gave_up = ShopifyThrottledError(
                f"Shopify kept throttling {self.shop}", errors=errors, extensions=extensions
            )
            raise _Retry(THROTTLED, 0.0, gave_up, int(requested) if requested is not None else None)
        self.bucket.reconcile(cost, cost_info)
        if errors:
            message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            raise ShopifyGraphQLError(
                message, errors=errors, status=status, data=body.get("data"), extensions=extensions
            )
        return body

    @staticmethod
    def _body(response: httpx.Response) -> dict:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {"errors": body}

    def query(self, document: str, variables: dict | None = None, *, resendable: bool | None = None) -> dict:
        """Run a query or mutation; returns its `data` (see `execute` for `resendable`)."""
        return self.execute(document, variables, resendable=resendable).get("data") or {}
