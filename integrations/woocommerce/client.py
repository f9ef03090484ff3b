"""The one place that sends WooCommerce REST calls (`wc/v3` and extension namespaces): authentication, paging,
one retry policy, and error mapping.

Authentication follows WooCommerce's own rule: over https the consumer key and secret go as HTTP Basic (or as
query parameters, for servers that strip `Authorization`); over plain http WooCommerce only accepts OAuth 1.0a
one-legged signatures (HMAC-SHA256, key `secret&`, the JSON body unsigned), so every http request is signed.
Reads and absolute writes (PUT, batch updates of stock) are retried on 429, 5xx, HTML error pages and timeouts with
backoff and `Retry-After`; a POST that creates something is retried only when it certainly did not arrive (a
refused connection, a 429): after an unknown outcome the caller looks up what it made before trying again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit

import httpx

from integrations.woocommerce.errors import (
    WooAuthError,
    WooError,
    WooNotFound,
    WooOutcomeUnknown,
    WooRefusal,
    WooTransientError,
)

NAMESPACE = "wc/v3"
PER_PAGE = 100  # WooCommerce refuses per_page > 100 (rest_invalid_param)
BATCH_LIMIT = 100  # create + update + delete items per batch request (413 above)
MAX_RETRIES = 5
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
USER_AGENT = "Wholesync"
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def rfc3986(value: str) -> str:
    """PHP's rawurlencode, which WooCommerce applies to every OAuth key and value."""
    return quote(str(value), safe="-_.~")


def oauth_signature(method: str, base_url: str, params: dict, secret: str, algorithm: str = "HMAC-SHA256") -> str:
    """The one-legged OAuth 1.0a signature WooCommerce checks (`check_oauth_signature`).

    Parameters are sorted by key, each `key=value` pair is encoded and then the pair encoded again, joined by
    `%26`; the base URL is the URL without its query string; the key is the consumer secret followed by `&`."""
    encoded = {rfc3986(k): rfc3986(v) for k, v in params.items() if k != "oauth_signature"}
    pairs = [rfc3986(f"{k}={encoded[k]}") for k in sorted(encoded)]
    base = f"{method.upper()}&{rfc3986(base_url)}&{'%26'.join(pairs)}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()


def _flat(params: dict | None) -> dict[str, str]:
    out = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list | tuple | set):
            value = ",".join(str(v) for v in value)
        out[key] = str(value)
    return out


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class WooClient:
    """One WooCommerce site reached with a consumer key and secret; every call goes through `request`."""

    def __init__(
        self,
        site: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        http: httpx.Client,
        on_call: Callable[[float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        query_string_auth: bool = False,
    ):
        self.site = site.rstrip("/")
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.http, self.on_call, self.sleep, self.clock = http, on_call, sleep, clock
        self.secure = urlsplit(self.site).scheme == "https"
        self.query_string_auth = query_string_auth

    # --- transport --------------------------------------------------------------------------------------------------
    def url(self, path: str, namespace: str = NAMESPACE) -> str:
        """The absolute URL of a REST route (`/products/12`) under `namespace` (pretty permalinks)."""
        return f"{self.site}/wp-json/{namespace}/{path.lstrip('/')}"

    def _signed(self, method: str, url: str, params: dict[str, str]) -> tuple[dict, tuple | None]:
        if self.secure:
            if self.query_string_auth:
                return {**params, "consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret}, None
            return params, (self.consumer_key, self.consumer_secret)
        oauth = {
            **params,
            "oauth_consumer_key": self.consumer_key,
            "oauth_nonce": secrets.token_hex(16),  # WooCommerce refuses a nonce seen in the last 15 minutes
            "oauth_signature_method": "HMAC-SHA256",
            "oauth_timestamp": str(int(self.clock())),
        }
        oauth["oauth_signature"] = oauth_signature(method, url, oauth, self.consumer_secret)
        return oauth, None

    def request(
        self,
        method: str,
        path: str,
        params: dict | None = None,
        body: dict | list | None = None,
        *,
        namespace: str = NAMESPACE,
        safe_to_repeat: bool | None = None,
    ) -> httpx.Response:
        """Send one call and return the successful response; raise a WooError otherwise.

        `safe_to_repeat` (default: every method but POST) allows retrying after an answer that may mean the
        request was applied (5xx, timeout); without it only 429 and refused connections are retried."""
        method = method.upper()
        repeatable = method != "POST" if safe_to_repeat is None else safe_to_repeat
        url = self.url(path, namespace)
        flat = _flat(params)
        attempt = 0
        while True:
            query, auth = self._signed(method, url, flat)  # a fresh nonce for every attempt
            waited = 0.0
            try:
                response = self.http.request(
                    method, url, params=query, json=body, auth=auth, headers={"User-Agent": USER_AGENT}
                )
            except httpx.ConnectError as exc:  # nothing reached the site: always safe to try again
                error, delay = WooTransientError(f"{method} {path}: {exc}"), None
            except httpx.TransportError as exc:  # the site may have acted on it
                error, delay = WooTransientError(f"{method} {path}: {type(exc).__name__} {exc}"), None
                if not repeatable:
                    self._count(0.0)
                    raise WooOutcomeUnknown(error.message) from exc
            else:
                self._count(0.0)
                error, delay = self._check(method, path, response)
                if error is None:
                    return response
                if not isinstance(error, WooTransientError):
                    raise error
                if response.status_code != 429 and not repeatable:
                    raise WooOutcomeUnknown(error.message, error.status, error.code, error.data)
            attempt += 1
            if attempt > MAX_RETRIES:
                raise error
            waited = delay if delay is not None else min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
            waited += random.uniform(0, waited / 4)  # spread the retries of concurrent workers
            if self.on_call:
                self.on_call(waited)
            self.sleep(waited)

    def _count(self, waited: float) -> None:
        if self.on_call:
            self.on_call(waited)

    @staticmethod
    def _check(method: str, path: str, response: httpx.Response) -> tuple[WooError | None, float | None]:
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if 200 <= status < 300:
            if payload is None and response.content:  # a 200 HTML page: a PHP fatal or a WAF challenge
                return WooTransientError(f"{method} {path}: the site answered HTML, not JSON", status), None
            return None, None
        code = payload.get("code") if isinstance(payload, dict) else None
        message = payload.get("message") if isinstance(payload, dict) else None
        data = payload.get("data") if isinstance(payload, dict) and isinstance(payload.get("data"), dict) else {}
        text = f"{method} {path}: {status} {code or ''} {message or response.text[:200]}".strip()
        if status == 429 or status >= 500 or payload is None:
            return WooTransientError(text, status, code, data), _retry_after(response)
        if status in (401, 403):
            return WooAuthError(text, status, code, data), None
        if status == 404:
            return WooNotFound(text, status, code, data), None
        return WooRefusal(text, status, code, data), None

    # --- conveniences -------------------------------------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None, **kwargs):
        """The JSON of a GET."""
        return self.request("GET", path, params, **kwargs).json()

    def post(self, path: str, body: dict, **kwargs):
        """The JSON of a POST (not repeated after an unknown outcome unless `safe_to_repeat`)."""
        return self.request("POST", path, None, body, **kwargs).json()

    def put(self, path: str, body: dict, **kwargs):
        """The JSON of a PUT (an absolute update: safe to repeat)."""
        return self.request("PUT", path, None, body, **kwargs).json()

    def batch(self, path: str, create=(), update=(), delete=()) -> dict:
        """One batch call (≤ BATCH_LIMIT items in total). Items may fail one by one: the answer carries `error`s.

        Only updates and deletes are repeated after an unknown outcome; a batch that creates is not."""
        size = len(create) + len(update) + len(delete)
        if size > BATCH_LIMIT:
            raise ValueError(f"a batch takes at most {BATCH_LIMIT} items, not {size}")
        body = {k: list(v) for k, v in (("create", create), ("update", update), ("delete", delete)) if v}
        return self.request("POST", path, None, body, safe_to_repeat=not create).json()

    def pages(self, path: str, params: dict | None = None, **kwargs) -> Iterator[dict]:
        """Every item of a collection, 100 per page, following `X-WP-TotalPages` (and `Link: rel="next"`)."""
        query = {"per_page": PER_PAGE, **(params or {})}
        page = 1
        while True:
            response = self.request("GET", path, {**query, "page": page}, **kwargs)
            items = response.json()
            yield from items
            total_pages = int(response.headers.get("X-WP-TotalPages") or 0)
            has_next = bool(_LINK_NEXT.search(response.headers.get("Link", "")))
            if not items or (page >= total_pages and not has_next):
                return
            page += 1

    def namespaces(self) -> set[str]:
        """The REST namespaces the site offers (`GET /wp-json/`): tells which extensions are installed."""
        response = self.http.get(f"{self.site}/wp-json/", headers={"User-Agent": USER_AGENT})
        self._count(0.0)
        try:
            return set(response.json().get("namespaces") or [])
        except (ValueError, AttributeError):
            return set()
