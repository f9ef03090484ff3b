"""Stripe for billing: one StripeClient per wholesaler account, deterministic idempotency keys, webhook checks.

`gateway_for(account)` builds the client from the wholesaler's GatewayAccount and the app config.
"""

from integrations.stripe.client import StripeGateway, gateway_for, to_minor_units, verify_webhook

__all__ = ["StripeGateway", "gateway_for", "to_minor_units", "verify_webhook"]
