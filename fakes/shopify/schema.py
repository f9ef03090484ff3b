"""Shopify's official Admin GraphQL schema (introspection JSON), loaded once per process.

The fixture is the byte-for-byte file from `@shopify/dev-mcp`; `scripts/fetch_shopify_schema.sh` re-obtains it.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import graphql

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "shopify"
DEFAULT_VERSION = "2026-07"


@functools.lru_cache(maxsize=4)
def load_schema(version: str = DEFAULT_VERSION) -> graphql.GraphQLSchema:
    """Build the client schema for an Admin API version from `tests/fixtures/shopify/admin-<version>.json.gz`."""
    path = SCHEMA_DIR / f"admin-{version}.json.gz"
    with gzip.open(path) as fh:
        return graphql.build_client_schema(json.load(fh)["data"])
