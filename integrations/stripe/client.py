"""The Stripe calls billing makes, through the real SDK's StripeClient.

Every POST carries an idempotency key the caller derives from our ledger (so an RQ retry replays instead of
repeating); the `find_*` lookups exist for retries more than 24 h later, when Stripe may have pruned the key.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import stripe
from flask import current_app

ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof"}
WEBHOOK_TOLERANCE_SECONDS = 300


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


class StripeGateway:
    """One wholesaler's Stripe account (its own key, or a Connect account id on the platform)."""

    def __init__(
        self, api_key: str, account: str | None = None, base: str | None = None, retries: int = 2, timeout=30.0
    ):
        self.client = stripe.StripeClient(
            api_key,
            stripe_account=account or None,
            base_addresses={"api": base} if base else None,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    @staticmethod
    def _opts(key: str) -> dict:
        return {"idempotency_key": key}

    def create_customer(self, name: str, email: str | None, metadata: dict, key: str) -> dict:
        params = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        return self.client.v1.customers.create(params=params, options=self._opts(key)).to_dict()

    def create_invoice(self, params: dict, key: str) -> dict:
        return self.client.v1.invoices.create(params=params, options=self._opts(key)).to_dict()

    def find_invoice(self, customer: str, metadata_key: str, value: str, created_gte: int | None = None):
        """The customer's invoice whose metadata[metadata_key] == value (the >24 h retry path), else None."""
        params: dict = {"customer": customer, "limit": 100}
        if created_gte:
            params["created"] = {"gte": created_gte}
        for invoice in self.client.v1.invoices.list(params=params).auto_paging_iter():
            invoice = invoice.to_dict()
            if (invoice.get("metadata") or {}).get(metadata_key) == value:
                return invoice
        return None

    def add_item(self, params: dict, key: str) -> dict:
        return self.client.v1.invoice_items.create(params=params, options=self._opts(key)).to_dict()

    def find_item(self, invoice: str, metadata_key: str, value: str):
        for item in self.client.v1.invoice_items.list(params={"invoice": invoice, "limit": 100}).auto_paging_iter():
            item = item.to_dict()
            if (item.get("metadata") or {}).get(metadata_key) == value:
                return item
        return None

    def retrieve_invoice(self, invoice: str) -> dict:
        return self.client.v1.invoices.retrieve(invoice).to_dict()

    def finalize(self, invoice: str, key: str) -> dict:
        return self.client.v1.invoices.finalize_invoice(
            invoice, params={"auto_advance": False}, options=self._opts(key)
        ).to_dict()

    def pay(self, invoice: str, key: str) -> dict:
        return self.client.v1.invoices.pay(invoice, options=self._opts(key)).to_dict()

    def send(self, invoice: str, key: str) -> dict:
        return self.client.v1.invoices.send_invoice(invoice, options=self._opts(key)).to_dict()

    def retrieve_setup_intent(self, setup_intent: str) -> dict:
        return self.client.v1.setup_intents.retrieve(setup_intent).to_dict()

    def set_default_payment_method(self, customer: str, payment_method: str, key: str) -> dict:
        """Make a saved card the one `charge_automatically` invoices charge."""
        params = {"invoice_settings": {"default_payment_method": payment_method}}
        return self.client.v1.customers.update(customer, params=params, options=self._opts(key)).to_dict()

    def setup_session(
        self, customer: str, success_url: str, cancel_url: str, key: str, metadata: dict | None = None
    ) -> dict:
        """A Stripe-hosted Checkout page in setup mode: the retailer saves a card without it touching our servers."""
        params = {
            "mode": "setup",
            "customer": customer,
            "currency": "usd",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "payment_method_types": ["card"],
            "metadata": metadata or {},
        }
        return self.client.v1.checkout.sessions.create(params=params, options=self._opts(key)).to_dict()


def gateway_for(account) -> StripeGateway:
    """The StripeGateway for a wholesaler's GatewayAccount, with base address and retries from the config."""
    config = current_app.config
    ref = account.account_ref or ""
    return StripeGateway(
        api_key=account.secret or "",
        account=ref if ref.startswith("acct_") else None,
        base=config.get("STRIPE_API_BASE") or None,
        retries=config["STRIPE_MAX_NETWORK_RETRIES"],
        timeout=float(config.get("STRIPE_TIMEOUT_SECONDS", 30)),
    )
