"""Stripe as a PaymentGateway, through the real SDK's StripeClient: metadata keys, minor units and statuses.

Every POST carries the idempotency key the caller derives from our ledger (so an RQ retry replays instead of
repeating); the `find_*` lookups exist for retries more than 24 h later, when Stripe may have pruned the key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import stripe

from integrations.payments import (
    INVOICE_STATUS,
    OTHER,
    PAYMENT_METHOD_SAVED,
    CustomerRequest,
    GatewayError,
    GatewayEvent,
    GatewaySettings,
    InvoiceDraft,
    LineDraft,
    PaymentDeclined,
    Progress,
    RemoteInvoice,
    WebhookRejected,
)

log = logging.getLogger(__name__)

ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof"}
WEBHOOK_TOLERANCE_SECONDS = 300
INVOICE_METADATA_KEY = "wholesync_invoice_id"
LINE_METADATA_KEY = "wholesync_invoice_line_id"
PARTNERSHIP_METADATA_KEY = "wholesync_partnership_id"
# Statuses after which a transition call that Stripe refuses has in fact already happened.
SETTLED_OR_OPEN = ("open", "paid", "void", "uncollectible")
# A payment refused while the invoice is still open did not happen: e.g. the customer has no default payment method
# yet (the card saved on Checkout becomes the default only when its webhook is handled).
SETTLED = ("paid", "void", "uncollectible")
EVENT_STATUS = {
    "invoice.paid": "paid",
    "invoice.payment_succeeded": "paid",
    "invoice.payment_failed": "payment_failed",
    "invoice.voided": "void",
    "invoice.marked_uncollectible": "uncollectible",
    "invoice.sent": "sent",
}


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Decimal money -> Stripe's integer minor units (cents), rounded half-up, never through float."""
    exponent = 0 if currency.lower() in ZERO_DECIMAL else 2
    return int((Decimal(amount) * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def verify_webhook(payload: bytes, signature: str, secret: str) -> dict:
    """The event in a webhook body whose `Stripe-Signature` is valid and at most 300 s old.

    Raises stripe.SignatureVerificationError (forged or stale) or ValueError (not JSON).
    """
    stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, WEBHOOK_TOLERANCE_SECONDS)
    return json.loads(payload)


def event_from_stripe(event: dict) -> GatewayEvent:
    """A verified Stripe event in the seam's neutral terms (invoice status, card saved, or other)."""
    remote = (event.get("data") or {}).get("object") or {}
    metadata = remote.get("metadata") or {}
    kind, status = OTHER, EVENT_STATUS.get(str(event.get("type") or ""))
    if status:
        kind = INVOICE_STATUS
    elif event.get("type") == "checkout.session.completed" and remote.get("mode") == "setup":
        kind = PAYMENT_METHOD_SAVED
    return GatewayEvent(
        gateway="stripe",
        event_id=str(event["id"]),
        topic=str(event.get("type")),
        kind=kind,
        happened_at=datetime.fromtimestamp(int(event.get("created") or 0), UTC),
        account=event.get("account"),
        object_id=remote.get("id"),
        invoice_reference=str(metadata[INVOICE_METADATA_KEY]) if metadata.get(INVOICE_METADATA_KEY) else None,
        status=status,
        customer_ref=remote.get("customer") if kind == PAYMENT_METHOD_SAVED else None,
        partnership_reference=str(metadata.get(PARTNERSHIP_METADATA_KEY) or "") or None,
        setup_ref=remote.get("setup_intent") if kind == PAYMENT_METHOD_SAVED else None,
    )


def _remote(invoice: dict) -> RemoteInvoice:
    return RemoteInvoice(id=invoice["id"], status=invoice["status"])


class StripeGateway:
    """One wholesaler's Stripe account (its own key, or a Connect account id on the platform)."""

    name = "stripe"
    idempotency_keys = True
    itemized = True
    issues_on_create = False

    def __init__(
        self,
        api_key: str,
        account: str | None = None,
        base: str | None = None,
        retries: int = 2,
        timeout=30.0,
        webhook_secret: str = "",
    ):
        self.webhook_secret = webhook_secret
        self.account = account or None
        self.client = stripe.StripeClient(
            api_key,
            stripe_account=account or None,
            base_addresses={"api": base} if base else None,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> StripeGateway:
        """The gateway for one account: a Connect id (`acct_…`) as account_ref, else the account's own key."""
        ref = settings.account_ref or ""
        return cls(
            api_key=settings.api_key,
            account=ref if ref.startswith("acct_") else None,
            base=settings.base_url or None,
            retries=settings.max_network_retries,
            timeout=settings.timeout,
            webhook_secret=settings.webhook_secret,
        )

    @staticmethod
    def _opts(key: str) -> dict:
        return {"idempotency_key": key}

    # --- the PaymentGateway seam (contracts in integrations.payments) ------------------------------------------
    def create_customer(self, customer: CustomerRequest, key: str) -> str:
        """The new Stripe customer's id (see PaymentGateway.create_customer)."""
        params = {"name": customer.name, "metadata": {PARTNERSHIP_METADATA_KEY: customer.reference}}
        if customer.email:
            params["email"] = customer.email
        return self.client.v1.customers.create(params=params, options=self._opts(key)).to_dict()["id"]

    def find_invoice(self, draft: InvoiceDraft) -> RemoteInvoice | None:
        """The customer's invoice whose metadata names our invoice (the >24 h retry path), else None."""
        found = self._find_by_metadata(draft.customer_ref, INVOICE_METADATA_KEY, draft.reference)
        return _remote(found) if found else None

    def create_invoice(self, draft: InvoiceDraft, key: str, progress: Progress | None = None) -> RemoteInvoice:
        """A draft Stripe invoice excluding pending items: charged automatically, or sent with days_until_due."""
        params = {
            "customer": draft.customer_ref,
            "collection_method": "send_invoice" if draft.net else "charge_automatically",
            "auto_advance": False,
            "currency": draft.currency.lower(),
            "pending_invoice_items_behavior": "exclude",
            "description": draft.description,
            "metadata": {
                INVOICE_METADATA_KEY: draft.reference,
                "partnership_id": draft.partnership_reference,
                "billing_date": draft.billing_date.isoformat(),
            },
        }
        if draft.net:
            params["days_until_due"] = draft.net_days
        return _remote(self.client.v1.invoices.create(params=params, options=self._opts(key)).to_dict())

    def find_line(self, invoice_id: str, line: LineDraft) -> str | None:
        """The invoice item whose metadata names our invoice line, else None."""
        items = self.client.v1.invoice_items.list(params={"invoice": invoice_id, "limit": 100}).auto_paging_iter()
        for item in items:
            item = item.to_dict()
            if (item.get("metadata") or {}).get(LINE_METADATA_KEY) == line.reference:
                return item["id"]
        return None

    def add_line(self, invoice_id: str, draft: InvoiceDraft, line: LineDraft, key: str) -> str:
        """An invoice item in minor units on the draft invoice; returns its id."""
        currency = draft.currency.lower()
        params = {
            "customer": draft.customer_ref,
            "invoice": invoice_id,
            "amount": to_minor_units(line.amount, currency),
            "currency": currency,
            "description": line.description,
            "metadata": {LINE_METADATA_KEY: line.reference, INVOICE_METADATA_KEY: draft.reference},
        }
        return self.client.v1.invoice_items.create(params=params, options=self._opts(key)).to_dict()["id"]

    def fetch_invoice(self, invoice_id: str) -> RemoteInvoice:
        """The invoice as Stripe has it now."""
        return _remote(self.client.v1.invoices.retrieve(invoice_id).to_dict())

    def finalize(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Finalize without auto-advance (we pay or send it ourselves)."""
        return self._transition(
            invoice_id,
            lambda: self.client.v1.invoices.finalize_invoice(
                invoice_id, params={"auto_advance": False}, options=self._opts(key)
            ),
        )

    def send(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Email the open invoice to the customer."""
        return self._transition(
            invoice_id, lambda: self.client.v1.invoices.send_invoice(invoice_id, options=self._opts(key))
        )

    def charge(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Pay the invoice with the customer's default payment method; a card error is PaymentDeclined."""
        try:
            return self._transition(
                invoice_id, lambda: self.client.v1.invoices.pay(invoice_id, options=self._opts(key)), done=SETTLED
            )
        except stripe.CardError as exc:
            raise PaymentDeclined(str(exc.user_message or exc)) from exc

    def save_payment_method(self, customer_ref: str, setup_ref: str, key: str) -> None:
        """Make the card saved by a Checkout setup session the one `charge_automatically` invoices charge.

        Checkout in setup mode attaches the card to the customer but does not make it the invoice default.
        """
        intent = self.client.v1.setup_intents.retrieve(setup_ref).to_dict()
        params = {"invoice_settings": {"default_payment_method": intent["payment_method"]}}
        self.client.v1.customers.update(customer_ref, params=params, options=self._opts(key))

    def card_setup_url(
        self, customer_ref: str, partnership_reference: str, success_url: str, cancel_url: str, key: str
    ) -> str:
        """A Stripe-hosted Checkout page in setup mode; a refusal or an outage is a GatewayError with Stripe's words.

        The pinned API version no longer defines `payment_method_types` on Checkout Sessions: the card is chosen with
        `allowed_payment_method_types`, a filter on the methods Stripe finds eligible.
        """
        params = {
            "mode": "setup",
            "customer": customer_ref,
            "currency": "usd",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "allowed_payment_method_types": ["card"],
            "metadata": {PARTNERSHIP_METADATA_KEY: partnership_reference},
        }
        try:
            session = self.client.v1.checkout.sessions.create(params=params, options=self._opts(key))
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not open the card page: {exc.user_message or exc}") from exc
        return session.to_dict()["url"]

    def owns_event(self, event: GatewayEvent) -> bool:
        """Events of a Connect account carry its id in `account`; a platform or direct-key event carries none.

        One platform webhook secret signs the events of every connected account, so the account must match ours.
        """
        return (event.account or None) == self.account

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Check `Stripe-Signature` (at most 300 s old) with the webhook secret and read the event."""
        if not self.webhook_secret:
            raise WebhookRejected("invalid signature")  # no secret configured: nothing can be verified
        try:
            event = verify_webhook(payload, headers.get("Stripe-Signature", ""), self.webhook_secret)
        except Exception:  # forged, stale, malformed: all look the same from outside
            raise WebhookRejected("invalid signature") from None
        if not isinstance(event, dict) or not event.get("id"):
            raise WebhookRejected("not an event")
        return event_from_stripe(event)

    # --- helpers ------------------------------------------------------------------------------------------------
    def _find_by_metadata(self, customer: str | None, metadata_key: str, value: str) -> dict | None:
        params: dict = {"customer": customer, "limit": 100}
        for invoice in self.client.v1.invoices.list(params=params).auto_paging_iter():
            invoice = invoice.to_dict()
            if (invoice.get("metadata") or {}).get(metadata_key) == value:
                return invoice
        return None

    def _transition(self, invoice_id: str, call, done=SETTLED_OR_OPEN) -> RemoteInvoice:
        """Run a state transition; if Stripe refuses it because it already happened (not editable / already paid:
        the invoice is now in one of the `done` states), re-read; any other refusal is raised."""
        try:
            return _remote(call().to_dict())
        except stripe.InvalidRequestError as exc:
            current = self.fetch_invoice(invoice_id)
            if current.status in done:
                log.info("Stripe step on %s already done (%s); continuing", invoice_id, exc)
                return current
            raise
