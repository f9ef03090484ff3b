"""Event subscriptions of a wholesaler's system of record: created when the store is connected and repaired by the
hourly stock pull, so stock and catalog changes reach the hub as they happen (the full passes reconcile).
"""

from __future__ import annotations

import logging

from flask import current_app

from portal.models import Connection
from portal.services.platforms import system_of_record

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/shopify"


def webhook_uri() -> str:
    """Where the store sends its events: this application's webhook endpoint."""
    return current_app.config["SHOPIFY_APP_URL"].rstrip("/") + WEBHOOK_PATH


def ensure_sor_subscriptions(connection: Connection) -> list[str]:
    """Create the stock and product subscriptions the system of record lacks; returns the topics created.

    Only a system-of-record connection is subscribed (a retailer's store would stream its own catalog to us).
    A platform without event subscriptions returns [] (its hourly and eight-hourly passes carry the sync).
    Raises the platform's errors: callers decide whether that may stop them.
    """
    if connection.role != "system_of_record" or connection.status != "active":
        return []
    sor = system_of_record(connection)
    ensure = getattr(sor, "ensure_subscriptions", None)
    if ensure is None:
        return []
    return ensure(webhook_uri(), name_prefix=f"wholesync-{connection.id}")


def subscribe_after_connect(connection: Connection) -> list[str]:
    """`ensure_sor_subscriptions` for the connect path: a failure is logged, never stops the connect (the hourly
    stock pull repairs missing subscriptions)."""
    try:
        return ensure_sor_subscriptions(connection)
    except Exception:
        log.exception("could not subscribe %s to stock and product events; the hourly pull will retry", connection.id)
        return []
