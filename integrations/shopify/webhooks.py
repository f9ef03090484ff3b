"""Shopify's two HMAC schemes: base64 over a webhook's raw body, hex over an OAuth redirect's sorted query.

Both are proven on the vectors Shopify publishes in its HMAC documentation in tests/shopify_app/test_hmac.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping

# Newer ("Events") deliveries drop the X- prefix; both forms must be read (research §2.1).
_PREFIXES = ("x-shopify-", "shopify-")


def webhook_hmac(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(secret, raw body)): the value of `X-Shopify-Hmac-Sha256`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook_hmac(body: bytes, received: str | None, secrets: Iterable[str | None]) -> bool:
    """True when `received` is the body's HMAC under any of `secrets` (current and, during rotation, old)."""
    if not received:
        return False
    return any(hmac.compare_digest(received.encode(), webhook_hmac(body, s).encode()) for s in secrets if s)


def shopify_header(headers: Mapping[str, str], name: str) -> str | None:
    """A Shopify header by its bare name (`topic`, `event-id`, ...), with or without the `X-` prefix."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for prefix in _PREFIXES:
        value = lowered.get(prefix + name.lower())
        if value:
            return value
    return None


def _signature_pairs(params: Iterable[tuple[str, object]]) -> str:
    """The message Shopify signs: every pair but `hmac`, escaped, sorted, joined with `&`.

    Escaping follows Shopify's Python library (`Session.calculate_hmac`): `%` and `=` in keys, `%` in values, then
    `&` in the pair, so a value cannot smuggle a second pair in; `ids[]` lists become `ids=["2", "1"]`.
    """
    pairs = []
    for key, value in params:
        if key == "hmac":
            continue
        if key.endswith("[]"):
            key = key[:-2]
            value = json.dumps([str(v) for v in (value if isinstance(value, list | tuple) else [value])])
        key = str(key).replace("%", "%25").replace("=", "%3D")
        value = str(value).replace("%", "%25")
        pairs.append(f"{key}={value}".replace("&", "%26"))
    return "&".join(sorted(pairs))


def query_hmac(params: Mapping[str, object] | Iterable[tuple[str, object]], secret: str) -> str:
    """Hex HMAC-SHA256 of an OAuth query (install request or authorization-code callback)."""
    items = params.items() if isinstance(params, Mapping) else params
    return hmac.new(secret.encode(), _signature_pairs(items).encode(), hashlib.sha256).hexdigest()


def verify_query_hmac(params: Mapping[str, object], secrets: Iterable[str | None]) -> bool:
    """True when the query's `hmac` matches under any of `secrets` (constant-time compare)."""
    received = params.get("hmac")
    if not isinstance(received, str) or not received:
        return False
    return any(hmac.compare_digest(received.encode(), query_hmac(params, s).encode()) for s in secrets if s)
