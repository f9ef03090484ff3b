"""Sandbox shop pages: a small server-rendered admin per shop (products, stock, orders, shipping), no JavaScript.

Every action goes through the same state functions or GraphQL mutations as the API, so the same webhooks fire.
"""

from fakes.shopify.admin.views import RULES

__all__ = ["RULES"]
