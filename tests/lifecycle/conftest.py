"""Fixtures for the order lifecycle and price tests: the portal's wholesaler world, reused as it is.

The world (a wholesaler, its retailer, products and orders) and the signed-in session come from the portal tests.
"""

from tests.portal.conftest import other, signed_in, world  # noqa: F401 - pytest finds fixtures by name
