"""Sandbox shop pages: a small server-rendered admin per shop (products, stock, orders, shipping), and
the app page that frames the embedded app as the Shopify admin does.

Every action goes through the same state functions or GraphQL mutations as the API, so the same webhooks fire.
"""

from fakes.shopify.admin import embedded, views

RULES = [*views.RULES, *embedded.RULES]

__all__ = ["RULES"]
