"""Exceptions raised by the Shopify Admin GraphQL client.

Callers catch `ShopifyError`; `ShopifyAuthError` means the token is invalid or revoked (ask for re-authorization).
"""

from __future__ import annotations

from integrations.base import AccessRevoked, OutcomeUnknown


class ShopifyError(Exception):
    """A Shopify call failed; `errors` holds the GraphQL `errors` list (or the HTTP body) when there is one.

    On a GraphQL error answer `data` keeps whatever Shopify did return and `extensions` its cost and throttle status.
    """

    def __init__(self, message: str, *, errors=None, status: int | None = None, data=None, extensions=None):
        super().__init__(message)
        self.errors = errors or []
        self.status = status
        self.data = data
        self.extensions = extensions or {}

    @property
    def codes(self) -> list[str]:
        """The `extensions.code` of each GraphQL error (e.g. THROTTLED, MAX_COST_EXCEEDED)."""
        return [e.get("extensions", {}).get("code") for e in self.errors if isinstance(e, dict)]


class ShopifyAuthError(ShopifyError):
    """HTTP 401 (or 403): the access token is invalid, expired or revoked, or lacks the scope."""


class ShopifyAccessRevoked(ShopifyAuthError, AccessRevoked):
    """Shopify answered 401 and the token could not be renewed (see integrations.base.AccessRevoked): the store
    must be reconnected; retrying the call cannot help."""


class ShopifyGraphQLError(ShopifyError):
    """The document was rejected or failed: validation errors, bad variables, resolver errors."""


class ShopifyThrottledError(ShopifyError):
    """Still throttled after the bounded number of retries."""


class ShopifyTransientError(ShopifyError):
    """429, 5xx or timeouts that persisted through every retry."""


class ShopifyUserError(ShopifyError):
    """A mutation answered `userErrors`."""


class ShopifyOutcomeUnknown(ShopifyTransientError, OutcomeUnknown):
    """A mutation without `@idempotent` timed out or got a 5xx after it was sent: Shopify may have committed it.
    The client does not resend it; the caller looks the object up by its marker first."""
