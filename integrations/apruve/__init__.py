"""Apruve v4 REST for billing on Net terms: one order and one invoice per billing date, looked up before create.

Built by the payments registry (`integrations.payments.payment_gateway("apruve", settings)`).
"""

from integrations.apruve.client import ApruveError, ApruveGateway, event_from_apruve, verify_webhook

__all__ = ["ApruveError", "ApruveGateway", "event_from_apruve", "verify_webhook"]
