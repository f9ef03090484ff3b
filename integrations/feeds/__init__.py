"""File feeds: a wholesaler's ERP as its system of record through CSV files over SFTP (or catalog and stock at an
HTTPS URL); `register()` adds the `csv` platform to the registry as a system of record.

A connection keeps its settings (server, pinned host key, folders, column mapping) in `settings`, the SFTP private
key as its access token and an optional Authorization value for HTTPS reads as its api_key (both encrypted).
`FEEDS_HTTP_TRANSPORT` (an httpx transport) replaces the network for tests.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from integrations.feeds.settings import DEFAULT_MAPPING, FeedSettings
from integrations.feeds.transport import FeedError, FeedFiles, HostKeyRefused

__all__ = ["DEFAULT_MAPPING", "FeedError", "FeedFiles", "FeedSettings", "HostKeyRefused", "files_for", "register"]

PLATFORM = "csv"


def build_http_client(config: Mapping) -> httpx.Client:
    """An httpx client for HTTPS feeds (redirects followed: file hosts often answer from a CDN)."""
    return httpx.Client(
        transport=config.get("FEEDS_HTTP_TRANSPORT"),
        timeout=httpx.Timeout(float(config.get("FEEDS_HTTP_TIMEOUT") or 60.0), connect=10.0),
        follow_redirects=True,
    )


def files_for(connection, http=None, on_call=None) -> FeedFiles:
    """The files of a feed connection, with its decrypted private key and HTTPS Authorization value."""
    return FeedFiles(
        FeedSettings.from_mapping(connection.settings),
        connection.access_token,
        connection.api_key,
        http=http,
        on_call=on_call,
    )


def register(registry) -> None:
    """File feeds serve one side: a wholesaler's system of record. Credentials are read from the connection."""
    from integrations.feeds.adapters import FeedSystemOfRecord

    registry.register(
        PLATFORM,
        system_of_record=lambda connection, context: FeedSystemOfRecord(
            FeedSettings.from_mapping(connection.settings),
            files_for(connection, context.http, context.on_call),
            on_rejected=context.on_rejected,
        ),
        http_client=build_http_client,
        token_source=False,
    )
