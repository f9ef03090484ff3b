"""The Apruve calls billing makes (v4 REST through httpx).

Apruve documents no idempotency header, so our ids are the natural keys: `merchant_order_id` and
`merchant_invoice_id` are derived from our Invoice row and every create is preceded by a lookup.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
from flask import current_app


class ApruveError(RuntimeError):
    """A non-2xx answer from Apruve."""


def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    """True when `signature` is the hex HMAC-SHA256 of the raw body with our shared secret (constant-time)."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return bool(secret) and hmac.compare_digest(expected, signature or "")


class ApruveGateway:
    """One wholesaler's Apruve merchant account."""

    def __init__(self, base: str, api_key: str, merchant_id: str, timeout: float = 30.0):
        self.merchant_id = merchant_id
        self.http = httpx.Client(
            base_url=base.rstrip("/") + "/",
            headers={"Apruve-Api-Key": api_key, "Accept": "application/json"},
            timeout=timeout,
        )

    def _call(self, method: str, path: str, **kw):
        response = self.http.request(method, path, **kw)
        if response.status_code >= 400:
            raise ApruveError(f"Apruve {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def find_order(self, merchant_order_id: str) -> dict | None:
        orders = self._call("GET", "orders", params={"merchant_order_id": merchant_order_id})
        return next((o for o in orders if o.get("merchant_order_id") == merchant_order_id), None)

    def create_order(self, payload: dict) -> dict:
        return self._call("POST", "orders", json={"merchant_id": self.merchant_id, **payload})

    def find_invoice(self, order_id: str, merchant_invoice_id: str) -> dict | None:
        invoices = self._call("GET", f"orders/{order_id}/invoices")
        return next((i for i in invoices if i.get("merchant_invoice_id") == merchant_invoice_id), None)

    def create_invoice(self, payload: dict) -> dict:
        return self._call("POST", "invoices", json=payload)


def gateway_for(account) -> ApruveGateway:
    """The ApruveGateway for a wholesaler's GatewayAccount (account_ref = merchant id, secret = API key)."""
    return ApruveGateway(
        current_app.config["APRUVE_API_BASE"],
        account.secret or "",
        account.account_ref or "",
        float(current_app.config.get("APRUVE_TIMEOUT_SECONDS", 30)),
    )
