"""Apruve v4 REST for billing on Net terms: one order and one invoice per billing date, looked up before create.

`gateway_for(account)` builds the client from the wholesaler's GatewayAccount and the app config.
"""

from integrations.apruve.client import ApruveError, ApruveGateway, gateway_for, verify_webhook

__all__ = ["ApruveError", "ApruveGateway", "gateway_for", "verify_webhook"]
