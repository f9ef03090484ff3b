"""A small stateful Apruve v4 fake (WSGI): orders, invoices, signed webhooks and failure injection."""

from fakes.apruve.app import FakeApruve

__all__ = ["FakeApruve"]
