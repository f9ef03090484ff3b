"""Shopify Admin GraphQL: `ShopifyClient` sends every call (errors in `errors`); `register()` adds Shopify to the
platform registry as both a system of record and a retailer store.

See `client.py` for the shared cost bucket and retries, `transport.py` for how the HTTP transport is injected.
"""

from integrations.shopify.client import ShopifyClient
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
    "client",
    "register",
]


def client(connection, context) -> ShopifyClient:
    """The client for a Shopify connection, from what the application passed in (`registry.AdapterContext`)."""
    return ShopifyClient(
        connection.address,
        context.token,
        api_version=context.settings["SHOPIFY_API_VERSION"],
        redis=context.redis,
        http=context.http,
        on_call=context.on_call,
        sleep=context.sleep,
    )


def register(registry) -> None:
    """Shopify serves both sides: a wholesaler's system of record and a retailer's store."""
    # Imported here: the adapters import this package's modules, so a top-level import would be circular.
    from integrations.shopify.adapters import ShopifyRetailerStore, ShopifySystemOfRecord

    registry.register(
        "shopify",
        system_of_record=lambda connection, context: ShopifySystemOfRecord(connection, client(connection, context)),
        retailer_store=lambda connection, context: ShopifyRetailerStore(connection, client(connection, context)),
    )
