"""The payment-gateway seam: what billing asks of a gateway, in plain data and neutral exceptions.

Stripe and Apruve implement `PaymentGateway` (integrations.payment_registry picks one by name); the billing ledger
speaks only these types. Credentials, base address, timeouts and network retries arrive in `GatewaySettings`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# The neutral invoice statuses a gateway reports (RemoteInvoice.status, GatewayEvent.status).
DRAFT, OPEN, SENT, PAID, PAYMENT_FAILED, VOID, UNCOLLECTIBLE = (
    "draft", "open", "sent", "paid", "payment_failed", "void", "uncollectible",
)  # fmt: skip

# GatewayEvent.kind values.
INVOICE_STATUS = "invoice_status"
PAYMENT_METHOD_SAVED = "payment_method_saved"
OTHER = "other"


class GatewayError(RuntimeError):
    """A gateway refused or failed a request (non-2xx); retrying the same call is safe where the method says so."""


class PaymentDeclined(GatewayError):
    """The retailer's payment method was declined; retrying with the same key replays the decline."""


class Unsupported(GatewayError):
    """The gateway has no such operation (e.g. saving a card on Apruve)."""


class WebhookRejected(ValueError):
    """A webhook that is forged, stale, unsigned or not an event: answer 400 and store nothing."""


@dataclass(frozen=True)
class GatewaySettings:
    """Everything a gateway needs to talk to one account, passed in by the caller (never read from an app)."""

    api_key: str = ""
    account_ref: str = ""
    base_url: str | None = None
    timeout: float = 30.0
    max_network_retries: int = 0
    webhook_secret: str = ""


@dataclass(frozen=True)
class CustomerRequest:
    """The retailer as a customer of the wholesaler's gateway account; `reference` is our partnership id."""

    reference: str
    name: str
    email: str | None = None


@dataclass(frozen=True)
class LineDraft:
    """One invoice line; `reference` is our InvoiceLine id, `amount` signed Decimal money (credits negative)."""

    reference: str
    description: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDraft:
    """One day's invoice as the ledger has claimed it; `reference` is our Invoice id (the natural key)."""

    reference: str
    partnership_reference: str
    customer_ref: str | None
    billing_date: date
    currency: str
    terms: str  # "card" (charge the payment method on file) or "net" (send, due in net_days)
    net_days: int
    description: str
    lines: tuple[LineDraft, ...] = field(default_factory=tuple)

    @property
    def net(self) -> bool:
        return self.terms == "net"


@dataclass(frozen=True)
class RemoteInvoice:
    """The gateway's invoice: its id and its neutral status."""

    id: str
    status: str


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook in neutral terms.

    kind: INVOICE_STATUS (status is the invoice's new neutral status), PAYMENT_METHOD_SAVED (customer_ref saved
    the payment method set up as setup_ref, for partnership_reference) or OTHER. happened_at is None when the
    gateway does not say when (the receiver then uses the time of receipt).
    """

    gateway: str
    event_id: str
    topic: str
    kind: str
    happened_at: datetime | None = None
    account: str | None = None
    object_id: str | None = None
    invoice_reference: str | None = None
    status: str | None = None
    customer_ref: str | None = None
    partnership_reference: str | None = None
    setup_ref: str | None = None


# Called with (step, remote id) right after a gateway made an intermediate object, before its next call.
Progress = Callable[[str, str], None]


class PaymentGateway(Protocol):
    """What billing needs from a payment gateway (one wholesaler's account).

    Capabilities the ledger reads instead of a gateway's name:
    idempotency_keys: POSTs honour the `key` argument (for about 24 h); when False every create is preceded by a
    lookup by our reference. itemized: lines are added one by one after the invoice is created (else they go with
    it). issues_on_create: the created invoice is already final and sent to the retailer (no finalize/send/charge).
    Network failures and 5xx answers propagate as the gateway's own exceptions (or GatewayError) after its own
    network retries; every method below is safe to call again with the same arguments.
    """

    name: str
    idempotency_keys: bool
    itemized: bool
    issues_on_create: bool

    def create_customer(self, customer: CustomerRequest, key: str) -> str | None:
        """The retailer's new customer id on this account, or None when the gateway links customers itself.

        key: `ws-cus-<partnership id>`; a retry with it returns the same customer.
        """

    def find_invoice(self, draft: InvoiceDraft) -> RemoteInvoice | None:
        """The invoice already made for `draft.reference` (the path when a key may be forgotten), else None."""

    def create_invoice(self, draft: InvoiceDraft, key: str, progress: Progress) -> RemoteInvoice:
        """Create the invoice for `draft` (with its lines unless itemized); key `ws-inv-<invoice id>`.

        Intermediate objects (e.g. Apruve's order) are reported through `progress` as they are made; a gateway
        without idempotency keys looks each one up by our reference before creating it.
        """

    def find_line(self, invoice_id: str, line: LineDraft) -> str | None:
        """The id of the line already added for `line.reference` on `invoice_id`, else None (itemized only)."""

    def add_line(self, invoice_id: str, draft: InvoiceDraft, line: LineDraft, key: str) -> str:
        """Add one line to the draft invoice and return its id; key `ws-ii-<invoice line id>` (itemized only)."""

    def fetch_invoice(self, invoice_id: str) -> RemoteInvoice:
        """The invoice's current state (read only, always safe to retry)."""

    def finalize(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Make the draft final (no more edits); key `ws-fin-<invoice id>`.

        If the gateway says this already happened, returns the current state instead of raising.
        """

    def send(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Send the final invoice to the retailer for payment on net terms; key `ws-send-<invoice id>`.

        If it was already sent or settled, returns the current state instead of raising.
        """

    def charge(self, invoice_id: str, key: str) -> RemoteInvoice:
        """Charge the retailer's payment method on file; key `ws-pay-<invoice id>` (a retry never charges twice).

        Raises PaymentDeclined when declined; if already paid or closed, returns the current state.
        """

    def save_payment_method(self, customer_ref: str, setup_ref: str, key: str) -> None:
        """Make the payment method set up as `setup_ref` the one invoices charge; key `ws-pm-<event id>`.

        Raises Unsupported on gateways without saved payment methods.
        """

    def card_setup_url(self, customer_ref: str, partnership_reference: str, success_url: str, cancel_url: str,
                       key: str) -> str:  # fmt: skip
        """A gateway-hosted page where the retailer saves a card (it never touches our servers).

        Moves no money, so each request may use a fresh key. Raises Unsupported where there is no such page.
        """

    def owns_event(self, event: GatewayEvent) -> bool:
        """True when `event` was sent for this gateway account (Stripe: the Connect account it names, none for a
        direct key; Apruve: the merchant it names, when it names one).

        A signature only proves the gateway sent the event, not for whom: callers also fetch the object back with
        this account's credentials before changing anything.
        """

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify a webhook's signature with the settings' webhook secret and read it as a GatewayEvent.

        Raises WebhookRejected when forged, stale, unsigned, without a secret configured, or not an event.
        """
