"""The sandbox's configuration: app credentials, where app-level webhooks go, the leaky bucket's defaults.

The app's own webhook topics are read from `shopify.app.toml`, as Shopify delivers those without any subscription.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEMO_TOKEN_PREFIX = "shpat_sandbox_"
APP_TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"
# Used when there is no shopify.app.toml: the topics the app subscribes to in its configuration.
FALLBACK_APP_TOPICS = (
    "orders/create", "orders/updated", "app/uninstalled", "app/scopes_update",
    "customers/data_request", "customers/redact", "shop/redact",
)  # fmt: skip


def app_toml_topics(path: Path = APP_TOML) -> tuple[tuple[str, ...], str]:
    """The topics (compliance ones included) and webhook path the app declares in shopify.app.toml, which Shopify
    delivers without any webhookSubscriptionCreate call."""
    try:
        config = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return FALLBACK_APP_TOPICS, "/webhooks/shopify"
    topics: list[str] = []
    webhook_path = "/webhooks/shopify"
    for sub in (config.get("webhooks") or {}).get("subscriptions") or []:
        topics += list(sub.get("topics") or []) + list(sub.get("compliance_topics") or [])
        if sub.get("uri", "").startswith("http"):
            webhook_path = urlsplit(sub["uri"]).path or webhook_path
    return tuple(dict.fromkeys(topics)) or FALLBACK_APP_TOPICS, webhook_path


APP_TOPICS, APP_WEBHOOK_PATH = app_toml_topics()
DEFAULT_SCOPES = "read_products,write_products,read_inventory,write_inventory,read_orders,write_orders,read_locations"


@dataclass
class SandboxConfig:
    """How a sandbox behaves: credentials, the app's webhook address and topics, rate limits, public URL."""

    client_id: str = "wholesync-dev-client-id"
    client_secret: str = "wholesync-dev-client-secret"
    app_url: str | None = None  # e.g. http://localhost:5000; webhooks for APP_TOPICS go to app_url + webhook_path
    webhook_path: str = APP_WEBHOOK_PATH
    app_topics: tuple[str, ...] = APP_TOPICS
    maximum_available: float = 2000.0  # Standard plan: 100 points/s, bucket 20x (shopify.dev rate limits)
    restore_rate: float = 100.0
    auto_create_demo_shops: bool = True
    idempotency_required_from: str = "2026-04"
    public_url: str | None = None  # where the sandbox's own files (bulk results) are served; default: the bound address
    extra: dict = field(default_factory=dict)
