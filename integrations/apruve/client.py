"""Apruve as a PaymentGateway (v4 REST through httpx): one order and one issued invoice per billing date.

Apruve documents no idempotency header, so our ids are the natural keys: `merchant_order_id` and
`merchant_invoice_id` are derived from our Invoice row and every create is preceded by a lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal

import httpx

from integrations.payments import (
    INVOICE_STATUS,
    OTHER,
    CustomerRequest,
    GatewayError,
    GatewayEvent,
    GatewaySettings,
    InvoiceDraft,
    LineDraft,
    Progress,
    RemoteInvoice,
    Unsupported,
    WebhookRejected,
)

EVENT_STATUS = {"invoice.closed": "paid", "invoice.cancelled": "void", "payment_term.paid": "paid"}
INVOICE_STATUS_MAP = {"pending": "draft", "closed": "paid", "canceled": "void", "cancelled": "void"}


class ApruveError(GatewayError):
    """A non-2xx answer from Apruve."""


def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    """True when `signature` is the hex HMAC-SHA256 of the raw body with our shared secret (constant-time)."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return bool(secret) and hmac.compare_digest(expected, signature or "")


def event_from_apruve(body: dict) -> GatewayEvent:
    """A verified Apruve webhook in the seam's neutral terms (invoice closed = paid, cancelled = void)."""
    entity = body.get("entity") or {}
    status = EVENT_STATUS.get(str(body.get("event")))
    return GatewayEvent(
        gateway="apruve",
        event_id=str(body.get("id") or f"{body.get('event')}:{entity.get('id')}:{entity.get('status')}"),
        topic=str(body.get("event")),
        kind=INVOICE_STATUS if status else OTHER,
        happened_at=None,  # Apruve's payload carries no event time: the receiver stamps it
        account=str(entity["merchant_id"]) if entity.get("merchant_id") else None,
        object_id=entity.get("id"),
        status=status,
    )


def _our_id(draft: InvoiceDraft) -> str:
    return f"wholesync-{draft.reference}"


def _cents(line: LineDraft) -> int:
    return int((line.amount * 100).quantize(Decimal(1)))


def _remote(invoice: dict) -> RemoteInvoice:
    status = str(invoice.get("status") or "open")
    return RemoteInvoice(id=invoice["id"], status=INVOICE_STATUS_MAP.get(status, "open"))


class ApruveGateway:
    """One wholesaler's Apruve merchant account."""

    name = "apruve"
    idempotency_keys = False
    itemized = False
    issues_on_create = True

    def __init__(
        self, base: str, api_key: str, merchant_id: str, timeout: float = 30.0, retries: int = 0, webhook_secret=""
    ):
        self.merchant_id = merchant_id
        self.webhook_secret = webhook_secret
        self.http = httpx.Client(
            base_url=base.rstrip("/") + "/",
            headers={"Apruve-Api-Key": api_key, "Accept": "application/json"},
            timeout=timeout,
            transport=httpx.HTTPTransport(retries=retries),  # connection failures only: a POST is never resent
        )

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> ApruveGateway:
        """The gateway for one merchant account (account_ref = merchant id, api_key = the account's key)."""
        return cls(
            settings.base_url or "",
            settings.api_key,
            settings.account_ref,
            settings.timeout,
            settings.max_network_retries,
            settings.webhook_secret,
        )

    def _call(self, method: str, path: str, **kw):
        response = self.http.request(method, path, **kw)
        if response.status_code >= 400:
            raise ApruveError(f"Apruve {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def find_order(self, merchant_order_id: str) -> dict | None:
        """Our order by its merchant_order_id, else None."""
        orders = self._call("GET", "orders", params={"merchant_order_id": merchant_order_id})
        return next((o for o in orders if o.get("merchant_order_id") == merchant_order_id), None)

    def _find_invoice_of(self, order_id: str, merchant_invoice_id: str) -> dict | None:
        invoices = self._call("GET", f"orders/{order_id}/invoices")
        return next((i for i in invoices if i.get("merchant_invoice_id") == merchant_invoice_id), None)

    # --- the PaymentGateway seam (contracts in integrations.payments) ------------------------------------------
    def create_customer(self, customer: CustomerRequest, key: str) -> None:
        """Apruve links the retailer's corporate account itself; there is nothing to create (None)."""
        return None

    def find_invoice(self, draft: InvoiceDraft) -> RemoteInvoice | None:
        """Our invoice under our order, both found by their merchant ids, else None."""
        order = self.find_order(_our_id(draft))
        found = self._find_invoice_of(order["id"], _our_id(draft)) if order else None
        return _remote(found) if found else None

    def create_invoice(self, draft: InvoiceDraft, key: str, progress: Progress) -> RemoteInvoice:
        """The order on net terms (looked up first, reported as step "order"), then its invoice, issued at once.

        `key` is unused: Apruve has no idempotency keys, so the caller looks the invoice up before calling this.
        """
        ours = _our_id(draft)
        items = [{"title": line.description, "price_total_cents": _cents(line), "quantity": line.quantity}
                 for line in draft.lines]  # fmt: skip
        total = sum(_cents(line) for line in draft.lines)
        order = self.find_order(ours)
        if order is None:
            order = self._call(
                "POST",
                "orders",
                json={
                    "merchant_id": self.merchant_id,
                    "merchant_order_id": ours,
                    "amount_cents": total,
                    "currency": draft.currency,
                    "corporate_account_id": draft.customer_ref,
                    "payment_term": {"type": "net", "days": draft.net_days},
                    "order_items": items,
                },
            )
        progress("order", order["id"])
        invoice = self._call(
            "POST",
            "invoices",
            json={
                "order_id": order["id"],
                "merchant_invoice_id": ours,
                "amount_cents": total,
                "currency": draft.currency,
                "issue_on_create": True,
                "invoice_items": items,
            },
        )
        return _remote(invoice)

    def find_line(self, invoice_id: str, line: LineDraft) -> str | None:
        """Lines travel with the invoice on Apruve (itemized is False)."""
        raise Unsupported("Apruve invoices are created with their lines")

    def add_line(self, invoice_id: str, draft: InvoiceDraft, line: LineDraft, key: str) -> str:
        """Lines travel with the invoice on Apruve (itemized is False)."""
        raise Unsupported("Apruve invoices are created with their lines")

    def fetch_invoice(self, invoice_id: str) -> RemoteInvoice:
        """The invoice as Apruve has it now."""
        return _remote(self._call("GET", f"invoices/{invoice_id}"))

    def finalize(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Apruve issues on create: the current state."""
        return self.fetch_invoice(invoice_id)

    def send(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Apruve sends the issued invoice itself: the current state."""
        return self.fetch_invoice(invoice_id)

    def charge(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Apruve collects on its own terms; there is no charge call."""
        raise Unsupported("Apruve invoices are paid on net terms, not charged")

    def save_payment_method(self, customer_ref: str, setup_ref: str, key: str) -> None:
        """Apruve keeps no payment methods for us."""
        raise Unsupported("Apruve has no saved payment methods")

    def card_setup_url(
        self, customer_ref: str, partnership_reference: str, success_url: str, cancel_url: str, key: str
    ) -> str:
        """Apruve has no card page."""
        raise Unsupported("Apruve has no card setup page")

    def owns_event(self, event: GatewayEvent) -> bool:
        """An event naming a merchant must name ours; the invoice is then read back with this merchant's key."""
        return event.account is None or event.account == self.merchant_id

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Check the shared-secret HMAC of the raw body (`X-Apruve-Signature`) and read the event."""
        if not verify_webhook(payload, headers.get("X-Apruve-Signature", ""), self.webhook_secret):
            raise WebhookRejected("invalid signature")
        try:
            body = json.loads(payload)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise WebhookRejected("not an event")
        return event_from_apruve(body)
