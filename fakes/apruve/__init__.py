"""A small stateful Apruve v4 fake (WSGI): orders, invoices, signed webhooks and failure injection."""

from fakes.apruve.app import FakeApruve, make_app

__all__ = ["FakeApruve", "make_app"]
