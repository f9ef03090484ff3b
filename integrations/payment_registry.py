"""The payment-gateway registry: a partnership's `billing_gateway` name -> the factory that builds that gateway.

A new gateway implements integrations.payments.PaymentGateway and adds one entry here; billing never tests names.
"""

from __future__ import annotations

from collections.abc import Callable

from integrations.apruve import ApruveGateway
from integrations.payments import GatewaySettings, PaymentGateway
from integrations.stripe import StripeGateway

GatewayFactory = Callable[[GatewaySettings], PaymentGateway]

GATEWAYS: dict[str, GatewayFactory] = {"stripe": StripeGateway.from_settings, "apruve": ApruveGateway.from_settings}


def payment_gateway(name: str, settings: GatewaySettings) -> PaymentGateway:
    """The gateway registered as `name`, built with `settings`; LookupError for a name nobody registered."""
    try:
        factory = GATEWAYS[name]
    except KeyError:
        raise LookupError(f"no payment gateway called {name!r}; known: {', '.join(GATEWAYS)}") from None
    return factory(settings)
