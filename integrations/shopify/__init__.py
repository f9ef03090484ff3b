"""Shopify Admin GraphQL: `ShopifyClient` / `client_for(connection)` send every call; errors in `errors`.

See `client.py` for the shared cost bucket and retries, `transport.py` for how the HTTP transport is injected.
"""

from integrations.shopify.client import (
    ShopifyClient,
    client_for,
    inventory_set_quantities,
    raise_for_user_errors,
)
from integrations.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyThrottledError,
    ShopifyTransientError,
    ShopifyUserError,
)

__all__ = [
    "ShopifyAuthError",
    "ShopifyClient",
    "ShopifyError",
    "ShopifyGraphQLError",
    "ShopifyThrottledError",
    "ShopifyTransientError",
    "ShopifyUserError",
    "client_for",
    "inventory_set_quantities",
    "raise_for_user_errors",
]
