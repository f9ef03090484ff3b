"""REST API keys and request authentication as WooCommerce does it: Basic/query keys when the site is on HTTPS,
OAuth 1.0a one-legged signatures otherwise, then a read/write check of the key's permission per HTTP method.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

NONCE_WINDOW = 15 * 60


@dataclass
class ApiKey:
    """A consumer key/secret pair tied to a store admin, with `read`, `write` or `read_write` permission."""

    key_id: int
    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"
    description: str = ""
    nonces: dict = field(default_factory=dict)  # nonce -> timestamp (OAuth replay protection)


def new_key_pair() -> tuple[str, str]:
    """`ck_` and `cs_` followed by 40 hex characters, like wc_rand_hash()."""
    return "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)


class AuthError(Exception):
    """A 401 that WordPress returns before routing (rest_authentication_errors)."""

    def __init__(self, message: str, code: str = "woocommerce_rest_authentication_error", basic: bool = False):
        super().__init__(message)
        self.code, self.message, self.basic = code, message, basic


def rfc3986(value: str) -> str:
    """PHP rawurlencode."""
    return quote(str(value), safe="-_.~")


def oauth_signature(method: str, url: str, params: dict, secret: str, algorithm: str = "HMAC-SHA256") -> str:
    """WooCommerce's check_oauth_signature: sorted, encoded `key=value` pairs, each pair encoded again."""
    normalized = {rfc3986(unquote(k)): rfc3986(unquote(str(v))) for k, v in params.items() if k != "oauth_signature"}
    pairs = [rfc3986(f"{k}={normalized[k]}") for k in sorted(normalized)]
    base = f"{method.upper()}&{rfc3986(url)}&{'%26'.join(pairs)}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    return base64.b64encode(hmac.new((secret + "&").encode(), base.encode(), digest).digest()).decode()


def _oauth_header_params(header: str) -> dict:
    if not header.lower().startswith("oauth "):
        return {}
    return {k: unquote(v) for k, v in re.findall(r'(oauth_[a-z_]+)="([^"]*)"', header[6:])}


def authenticate(shop, request, form: dict, url: str, now: float) -> ApiKey | None:
    """The key the request authenticates as, None when it carries no credentials; AuthError when they are wrong."""
    if shop.ssl:
        key = _basic(shop, request)
        if key:
            return key
    return _oauth(shop, request, form, url, now)


def _basic(shop, request) -> ApiKey | None:
    # Query-string keys win over the Authorization header (perform_basic_authentication).
    consumer_key = request.args.get("consumer_key")
    consumer_secret = request.args.get("consumer_secret")
    if not consumer_key and request.authorization and request.authorization.type == "basic":
        consumer_key = request.authorization.username
        consumer_secret = request.authorization.password
    if not consumer_key or consumer_secret is None:
        return None
    key = shop.keys.get(consumer_key)
    if key is None:
        raise AuthError("Consumer key is invalid.", basic=True)
    if not hmac.compare_digest(key.consumer_secret, consumer_secret):
        raise AuthError("Consumer secret is invalid.", basic=True)
    return key


def _oauth(shop, request, form: dict, url: str, now: float) -> ApiKey | None:
    params = {**request.args.to_dict(), **form, **_oauth_header_params(request.headers.get("Authorization", ""))}
    required = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
    if not any(p in params for p in required):
        return None
    missing = [p for p in required if not params.get(p)]
    if missing:
        raise AuthError(
            f"Missing OAuth parameter {', '.join(missing)}",
            code="woocommerce_rest_authentication_missing_parameter",
        )
    key = shop.keys.get(params["oauth_consumer_key"])
    if key is None:
        raise AuthError("Consumer key is invalid.")
    algorithm = params["oauth_signature_method"]
    if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
        raise AuthError("Invalid signature - signature method is invalid.")
    # PHP decodes "+" in the query to a space; WooCommerce maps it back before comparing.
    sent = params["oauth_signature"].replace(" ", "+")
    expected = oauth_signature(request.method, url, params, key.consumer_secret, algorithm)
    if not hmac.compare_digest(sent, expected):
        raise AuthError("Invalid signature - provided signature does not match.")
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        raise AuthError("Invalid timestamp.") from None
    if abs(timestamp - now) > NONCE_WINDOW:
        raise AuthError("Invalid timestamp.")
    key.nonces = {n: t for n, t in key.nonces.items() if t > now - NONCE_WINDOW}
    if params["oauth_nonce"] in key.nonces:
        raise AuthError("Invalid nonce - nonce has already been used.")
    key.nonces[params["oauth_nonce"]] = timestamp
    return key


def check_permission(key: ApiKey, method: str) -> None:
    """GET/HEAD need read, everything else write (check_permissions)."""
    needed = "read" if method in ("GET", "HEAD") else "write"
    if key.permissions != "read_write" and key.permissions != needed:
        raise AuthError(f"The API key provided does not have {needed} permissions.")
