"""Stripe for billing: a PaymentGateway per wholesaler account, deterministic idempotency keys, webhook checks.

Built by the payments registry (`integrations.payments.payment_gateway("stripe", settings)`).
"""

from integrations.stripe.client import StripeGateway, event_from_stripe, to_minor_units, verify_webhook

__all__ = ["StripeGateway", "event_from_stripe", "to_minor_units", "verify_webhook"]
