"""WooCommerce application authentication (`/wc-auth/v1/authorize`) and the shop's site URL as we store it.

The merchant approves on their shop; WooCommerce then POSTs the new key as JSON to our callback (unsigned: the
`user_id` we sent is the only proof, so the caller signs it and checks the keys with a call before trusting them).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

SCOPE = "read_write"
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_NAME = re.compile(rf"{LABEL}(?:\.{LABEL})*\.?")


class InvalidSite(ValueError):
    """Not a usable WooCommerce site URL."""


def normalize_site(value: str) -> str:
    """The site URL as stored: scheme, host, port and path, no query, no trailing slash, no `/wp-json` suffix."""
    value = (value or "").strip()
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise InvalidSite("Enter the shop's address, e.g. https://shop.example.com")
    path = parts.path.rstrip("/")
    for suffix in ("/wp-json", "/wp-admin"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    try:
        # An international name is stored as its ASCII (punycode) form; labels of 1-63 letters, digits and hyphens.
        host = parts.hostname.encode("idna").decode("ascii").lower()
        port = parts.port
    except (UnicodeError, ValueError):
        raise InvalidSite("Enter the shop's address, e.g. https://shop.example.com") from None
    if not (HOST_NAME.fullmatch(host) or _ip_address(host)):
        raise InvalidSite("Enter the shop's address, e.g. https://shop.example.com")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def authorize_url(site: str, app_name: str, user_id: str, return_url: str, callback_url: str) -> str:
    """Where to send the merchant to approve a read/write key for us (all five parameters are mandatory)."""
    query = urlencode(
        {
            "app_name": app_name,
            "scope": SCOPE,
            "user_id": user_id,
            "return_url": return_url,
            "callback_url": callback_url,
        }
    )
    return f"{site}/wc-auth/v1/authorize?{query}"


def parse_callback(payload: dict) -> dict:
    """The key WooCommerce posted to our callback: consumer key, secret, permissions and our user_id."""
    needed = ("consumer_key", "consumer_secret", "user_id")
    if not isinstance(payload, dict) or any(not payload.get(k) for k in needed):
        raise ValueError("the callback carries no key")
    return {
        "consumer_key": str(payload["consumer_key"]),
        "consumer_secret": str(payload["consumer_secret"]),
        "user_id": str(payload["user_id"]),
        "key_permissions": str(payload.get("key_permissions") or ""),
    }
