"""A small stateful Stripe fake (WSGI) for tests and `make run`: the real stripe SDK is pointed at it.

It implements only what billing uses, with Stripe's documented idempotency-key semantics and failure injection.
"""

from fakes.stripe.app import FakeStripe, make_app, sign_payload

__all__ = ["FakeStripe", "make_app", "sign_payload"]
