"""WooCommerce REST errors: a refusal (4xx with WooCommerce's `code`), lost access (401/403) and transient trouble.

The error body is `{"code", "message", "data": {"status", ...}}`; hosts may answer HTML instead (fatals, WAF pages).
"""

from __future__ import annotations

from integrations.base import OutcomeUnknown


class WooError(Exception):
    """Any failed WooCommerce call; `status` is the HTTP status (None for a transport error)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None, data: dict | None = None):
        super().__init__(message)
        self.message, self.status, self.code, self.data = message, status, code, data or {}


class WooAuthError(WooError):
    """The key is wrong, revoked or lacks the permission (401/403): the shop must be reconnected."""


class WooRefusal(WooError):
    """A 4xx answer about this payload (invalid parameter, duplicated SKU, unknown id): retrying will not help."""


class WooTransientError(WooError):
    """429, 5xx, timeouts and HTML error pages that outlasted the retries."""


class WooNotFound(WooRefusal):
    """404: the route or the resource does not exist (e.g. an extension's endpoint on a shop without it)."""


class WooOutcomeUnknown(WooTransientError, OutcomeUnknown):
    """A create (POST) got no usable answer after it left: the shop may have made it. It was not sent again."""
