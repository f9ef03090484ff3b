"""Fixtures for the order lifecycle and price tests: the portal's wholesaler world, reused as it is.

The world (a wholesaler, its retailer, products and orders) and the signed-in session come from the portal tests.
"""

from tests.billing.conftest import fake_apruve, fake_stripe  # noqa: F401
from tests.portal.conftest import other, signed_in, world  # noqa: F401 - pytest finds fixtures by name
